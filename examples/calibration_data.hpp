#pragma once
// The calibration data the examples share: the stories260K model run over stories 60-68 of the
// TinyStories text (the stories rotq-eval calibrates on) with a calibration_recorder watching, and
// the recorded row sample as a matrix. Copy it along with the example.

#include <rotq/calibration.hpp>
#include <rotq/model/calibration_recorder.hpp>
#include <rotq/model/file_bytes.hpp>
#include <rotq/model/forward.hpp>
#include <rotq/model/llama2_checkpoint.hpp>
#include <rotq/model/stories.hpp>
#include <rotq/model/tokenizer.hpp>

#include <Eigen/Core>

#include <string>
#include <vector>

namespace rotq_example {

using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Runs `model` (stories260K.bin of model_dir) over the calibration stories with the hook of
/// `recorder`: stories 60-68 of model_dir/tinystories_valid_head.txt, encoded with
/// model_dir/tok512.bin.
inline void record_calibration(const rotq::model::llama2_model& model, const std::string& model_dir,
                               rotq::model::calibration_recorder& recorder) {
  const rotq::model::tokenizer vocabulary =
      rotq::model::load_tokenizer(model_dir + "/tok512.bin", model.config.vocab_size);
  const std::vector<std::string> stories = rotq::model::split_stories(
      rotq::model::read_file_bytes(model_dir + "/tinystories_valid_head.txt"));
  const std::vector<std::string> calibration(stories.begin() + 60, stories.begin() + 69);
  for (const std::vector<int>& tokens : rotq::model::encode_stories(vocabulary, calibration))
    rotq::model::forward(model, tokens, recorder.hook());
}

/// The row sample of `stats` (tokens x channels) as a matrix.
inline matrix sample_matrix(const rotq::activation_statistics& stats) {
  const rotq::matrix_view<const float> sample = stats.sample();
  return Eigen::Map<const matrix>(sample.data, Eigen::Index(sample.rows),
                                  Eigen::Index(sample.cols));
}

}  // namespace rotq_example
