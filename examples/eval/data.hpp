#pragma once
// rotq-eval's inputs: finding the model files, loading them, and cutting the text into the
// evaluation and calibration token sequences of the protocol (evaluation.md).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <rotq/model/llama2_checkpoint.hpp>
#include <rotq/model/stories.hpp>
#include <rotq/model/tokenizer.hpp>

#include "options.hpp"

namespace rotq_eval {

struct eval_data {
  rotq::model::llama2_model model;
  rotq::model::tokenizer vocabulary;
  std::vector<std::vector<int>> eval_sequences, calib_sequences;
  std::string checkpoint_path, tokenizer_path, text_path;
  std::size_t documents = 0;  ///< stories (or paragraphs) in the text
};

inline const char* default_checkpoint = "stories260K.bin";
inline const char* default_tokenizer = "tok512.bin";
inline const char* default_text = "tinystories_valid_head.txt";

/// The folder holding the default files: --model-dir, else the first of $ROTQ_MODEL_DIR, ./models,
/// ../shared/models that holds stories260K.bin. Throws rotq::error naming every place looked in.
inline std::string find_model_dir(const options& o) {
  if (!o.model_dir.empty()) return o.model_dir;
  std::vector<std::string> places;
  const char* env = std::getenv("ROTQ_MODEL_DIR");
  if (env != nullptr && *env != '\0') places.push_back(env);
  places.push_back("./models");
  places.push_back("../shared/models");
  for (const std::string& dir : places)
    if (std::filesystem::exists(std::filesystem::path(dir) / default_checkpoint)) return dir;
  std::string message =
      std::string("rotq-eval: cannot find ") + default_checkpoint + "; looked in " +
      (env != nullptr && *env != '\0' ? "$ROTQ_MODEL_DIR (" + std::string(env) + ")"
                                      : std::string("$ROTQ_MODEL_DIR (unset)")) +
      ", ./models and ../shared/models; use --model-dir DIR or --checkpoint FILE";
  throw rotq::error(message);
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw rotq::error("rotq-eval: cannot open '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The documents of a text: TinyStories-style stories split on <|endoftext|> lines, or, for a
/// Project Gutenberg book, the paragraphs of its body.
inline std::vector<std::string> split_documents(const std::string& text) {
  if (text.find("*** START") != std::string::npos)
    return rotq::model::split_paragraphs(rotq::model::strip_gutenberg(text));
  return rotq::model::split_stories(text);
}

inline std::vector<std::string> take(const std::vector<std::string>& documents, std::size_t first,
                                     std::size_t last, const char* what, const std::string& path) {
  if (last >= documents.size())
    throw rotq::error("rotq-eval: " + std::string(what) + " " + std::to_string(first) + "-" +
                      std::to_string(last) + " but '" + path + "' holds only " +
                      std::to_string(documents.size()) + " stories");
  return {documents.begin() + std::ptrdiff_t(first), documents.begin() + std::ptrdiff_t(last) + 1};
}

/// Loads the model, tokenizer and text the options name and encodes the protocol's sequences
/// (BOS + encode(story), at most max_tokens). Every error names the file and the problem.
inline eval_data load_data(const options& o) {
  const bool need_dir = o.checkpoint.empty() || o.tokenizer.empty() || o.text.empty();
  const std::string dir = need_dir ? find_model_dir(o) : std::string();
  auto in_dir = [&](const char* name) { return (std::filesystem::path(dir) / name).string(); };
  const std::string checkpoint = o.checkpoint.empty() ? in_dir(default_checkpoint) : o.checkpoint;
  const std::string tokenizer = o.tokenizer.empty() ? in_dir(default_tokenizer) : o.tokenizer;
  const std::string text = o.text.empty() ? in_dir(default_text) : o.text;
  rotq::model::llama2_model model = rotq::model::load_llama2_checkpoint(checkpoint);
  rotq::model::tokenizer vocabulary =
      rotq::model::load_tokenizer(tokenizer, model.config.vocab_size);
  if (o.max_tokens > model.config.seq_len)
    throw rotq::error("rotq-eval: --max-tokens " + std::to_string(o.max_tokens) +
                      " exceeds the model's seq_len " + std::to_string(model.config.seq_len));
  // Activation groups split the inputs of every linear layer: dim wide, and hidden_dim for the
  // FFN's down projection.
  for (const std::size_t width : {model.config.dim, model.config.hidden_dim})
    if (o.activation_group != 0 && width % o.activation_group != 0)
      throw rotq::error("rotq-eval: --a-group " + std::to_string(o.activation_group) +
                        " does not divide the model's layer input width " + std::to_string(width) +
                        " (dim " + std::to_string(model.config.dim) + ", hidden_dim " +
                        std::to_string(model.config.hidden_dim) + ")");
  const std::vector<std::string> documents = split_documents(read_text_file(text));
  auto eval = rotq::model::encode_stories(
      vocabulary, take(documents, o.eval_first, o.eval_last, "--eval-stories", text), o.max_tokens);
  auto calib = rotq::model::encode_stories(
      vocabulary, take(documents, o.calib_first, o.calib_last, "--calib-stories", text),
      o.max_tokens);
  return eval_data{std::move(model),
                   std::move(vocabulary),
                   std::move(eval),
                   std::move(calib),
                   checkpoint,
                   tokenizer,
                   text,
                   documents.size()};
}

}  // namespace rotq_eval
