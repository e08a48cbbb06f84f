#pragma once
// The shared stories260K model, its 512-piece vocabulary and the TinyStories evaluation text, each
// loaded once per test process (ctest runs every test case in a process of its own).

#include <rotq/model/llama2_checkpoint.hpp>
#include <rotq/model/stories.hpp>
#include <rotq/model/tokenizer.hpp>

#include <string>
#include <vector>

#include "shared_data.hpp"

namespace rotq_test {

inline const rotq::model::llama2_model& stories260k() {
  static const rotq::model::llama2_model model =
      rotq::model::load_llama2_checkpoint(shared_file("models/stories260K.bin"));
  return model;
}

inline const rotq::model::tokenizer& tok512() {
  static const rotq::model::tokenizer vocabulary =
      rotq::model::load_tokenizer(shared_file("models/tok512.bin"), 512);
  return vocabulary;
}

/// The stories of models/tinystories_valid_head.txt, split as the evaluation protocol splits them.
inline const std::vector<std::string>& tinystories() {
  static const std::vector<std::string> stories =
      rotq::model::split_stories(shared_text("models/tinystories_valid_head.txt"));
  return stories;
}

/// BOS followed by tok512's encoding of `text`: a prompt for stories260K.
inline std::vector<int> prompt(const std::string& text) {
  std::vector<int> ids{rotq::model::tokenizer::bos_id};
  const std::vector<int> encoded = tok512().encode(text);
  ids.insert(ids.end(), encoded.begin(), encoded.end());
  return ids;
}

}  // namespace rotq_test
