#pragma once
// What every recipe of rotq-eval works with: the prepared model a recipe produces, and the
// context it draws on (data, options, the original model's calibration statistics).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <rotq/model/calibration_recorder.hpp>
#include <rotq/model/fake_quantization.hpp>
#include <rotq/model/perplexity.hpp>

#include "data.hpp"
#include "options.hpp"

namespace rotq_eval {

using rotq::model::hook_point;
using rotq::model::llama2_model;
using rotq::model::online_plan;

/// A model ready to quantise: weights after surgery, and what runs online before each quantiser.
struct prepared_model {
  llama2_model model;
  online_plan plan;
  std::string notes;  ///< settings the recipe chose (alpha, adaptive decisions, ...)
};

/// Seconds since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// What every recipe may use: the data, the options, and the original model's calibration
/// statistics at every linear input (computed once, on first use, and timed).
class recipe_context {
public:
  recipe_context(const eval_data& data, const options& opts) : data_(data), options_(opts) {}

  const eval_data& data() const { return data_; }
  const options& opts() const { return options_; }
  const llama2_model& original() const { return data_.model; }

  /// Abs-max and a row sample at every linear input of the original model on the calibration
  /// stories (one thread: the sample is then reproducible).
  const rotq::model::calibration_recorder& original_statistics() {
    if (!original_statistics_) {
      const auto start = std::chrono::steady_clock::now();
      original_statistics_ =
          record(original(), online_plan(original().config), statistics_options());
      statistics_seconds_ = seconds_since(start);
    }
    return *original_statistics_;
  }
  /// How long original_statistics took (charged to every recipe that uses it).
  double statistics_seconds() const { return statistics_seconds_; }

  /// Runs the calibration stories through `model` with `plan`'s online transforms (no quantisers)
  /// and records what `recorder_options` asks for.
  std::unique_ptr<rotq::model::calibration_recorder> record(
      const llama2_model& model, const online_plan& plan,
      const rotq::model::calibration_recorder::options& recorder_options) const {
    auto recorder =
        std::make_unique<rotq::model::calibration_recorder>(model.config, recorder_options);
    const rotq::model::forward_hook hook =
        rotq::model::chain_hooks(plan.hook(model.config), recorder->hook());
    rotq::model::evaluate_perplexity(model, data_.calib_sequences, hook, 1);
    return recorder;
  }

  /// Statistics at every linear input whose row sample holds every calibration position (the
  /// protocol uses all of them: DuQuant's rotations and DFRot's features are fitted on them).
  rotq::model::calibration_recorder::options statistics_options() const {
    rotq::model::calibration_recorder::options o;
    o.sample_capacity = 0;
    for (const std::vector<int>& tokens : data_.calib_sequences) o.sample_capacity += tokens.size();
    return o;
  }

private:
  const eval_data& data_;
  const options& options_;
  std::unique_ptr<rotq::model::calibration_recorder> original_statistics_;
  double statistics_seconds_ = 0.0;
};

}  // namespace rotq_eval
