#pragma once
// Recording what calibration needs from a model's forward passes: per layer and hook point, the
// activation statistics (abs-max, a row sample) and the GPTQ Hessians of the rows seen.

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "rotq/calibration.hpp"
#include "rotq/gptq.hpp"
#include "rotq/model/fake_quantization.hpp"

namespace rotq {
namespace model {

/// Collects, for chosen hook points of every layer, an activation_statistics and/or a
/// hessian_accumulator of every row its hook sees (the hook only reads). Chain it after an
/// online_plan's hook to record what the quantised linears see. Thread-safe (one lock), but the
/// row sample then depends on the order threads arrive in: calibrate on one thread for
/// reproducible results.
class calibration_recorder {
public:
  struct options {
    bool statistics = true;
    bool hessians = false;
    std::size_t sample_capacity = 2048;
    std::uint64_t seed = 0;
    std::vector<hook_point> points = {std::begin(linear_inputs), std::end(linear_inputs)};
  };

  calibration_recorder(const llama2_config& config, options opts) : options_(std::move(opts)) {
    slots_.resize(config.n_layers);
    for (std::size_t l = 0; l < config.n_layers; ++l)
      for (hook_point point : options_.points) {
        const std::size_t width = hook_width(config, point);
        slot& s = slots_[l][hook_index(point)];
        if (options_.statistics)
          s.statistics.emplace(width, options_.sample_capacity,
                               options_.seed + l * hook_point_count + hook_index(point));
        if (options_.hessians) {
          ROTQ_EXPECTS(is_linear_input(point), "Hessians are for linear inputs; "
                                                   << to_string(point) << " is read by no linear");
          s.hessian.emplace(width);
        }
      }
  }

  /// The recording hook; `*this` must outlive it.
  forward_hook hook() {
    return [this](std::size_t layer, hook_point point, matrix_view<float> rows) {
      slot& s = slots_.at(layer)[hook_index(point)];
      if (!s.statistics && !s.hessian) return;
      const std::lock_guard<std::mutex> lock(mutex_);
      if (s.statistics) s.statistics->add(matrix_view<const float>(rows));
      if (s.hessian) s.hessian->add(matrix_view<const float>(rows));
    };
  }

  /// The statistics of (layer, point). Throws rotq::error if they were not recorded.
  const activation_statistics& statistics(std::size_t layer, hook_point point) const {
    const auto& s = slots_.at(layer)[hook_index(point)].statistics;
    ROTQ_EXPECTS(s.has_value(),
                 "no statistics were recorded for layer " << layer << " " << to_string(point));
    return *s;
  }

  /// The GPTQ Hessian of (layer, point). Throws rotq::error if it was not recorded or saw no rows.
  Eigen::MatrixXd hessian(std::size_t layer, hook_point point) const {
    const auto& h = slots_.at(layer)[hook_index(point)].hessian;
    ROTQ_EXPECTS(h.has_value(),
                 "no Hessian was recorded for layer " << layer << " " << to_string(point));
    return h->hessian();
  }

  /// Every linear input's Hessian, as gptq_linear_weights takes them.
  linear_hessians hessians() const {
    linear_hessians result(slots_.size());
    for (std::size_t l = 0; l < slots_.size(); ++l)
      for (std::size_t i = 0; i < 4; ++i) result[l][i] = hessian(l, linear_inputs[i]);
    return result;
  }

private:
  struct slot {
    std::optional<activation_statistics> statistics;
    std::optional<hessian_accumulator> hessian;
  };

  options options_;
  std::vector<std::array<slot, hook_point_count>> slots_;
  std::mutex mutex_;
};

}  // namespace model
}  // namespace rotq
