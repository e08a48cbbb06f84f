#pragma once
// A fake-quantised llama2 model: what runs online at every hook point (a transform, then a
// quantiser) and the offline quantisation of every linear's weights (RTN or GPTQ). In fake-quant
// evaluation "online" and "fused" are the same arithmetic: the activation quantiser sees X T, the
// weight quantiser sees W T^-T.

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include <Eigen/Core>

#include "rotq/gptq.hpp"
#include "rotq/model/surgery.hpp"
#include "rotq/pipeline.hpp"
#include "rotq/quantize.hpp"

namespace rotq {
namespace model {

constexpr std::size_t hook_index(hook_point point) { return static_cast<std::size_t>(point); }

/// True for query, key and value, whose rows hold one vector per head.
constexpr bool is_per_head(hook_point point) {
  return point == hook_point::query || point == hook_point::key || point == hook_point::value;
}

/// What a quantised model does online. At every hook point of every layer: first the transform
/// (rows <- rows T), then, at the four linear inputs, the activation quantiser (per token, i.e. per
/// row), and at key and value the KV-cache quantiser (per token and head). Transforms at query,
/// key and value act on each head's vector (size head_size): a Hadamard there is QuaRot's online
/// Q/K rotation before the KV cache.
struct online_plan {
  /// transforms[layer][hook_index(point)]; empty pipelines do nothing.
  std::vector<std::array<pipeline, hook_point_count>> transforms;
  /// The activation quantiser of every linear input; none: activations stay fp32.
  std::optional<quant_spec> activations;
  /// The KV-cache quantiser (keys and values, per head); none: the cache stays fp32.
  std::optional<quant_spec> kv_cache;

  online_plan() = default;
  explicit online_plan(const llama2_config& config) : transforms(config.n_layers) {}

  pipeline& at(std::size_t layer, hook_point point) {
    return transforms.at(layer)[hook_index(point)];
  }
  const pipeline& at(std::size_t layer, hook_point point) const {
    return transforms.at(layer)[hook_index(point)];
  }

  /// Throws rotq::error unless there is one entry per layer and every transform has the width
  /// its point needs (head_size for query, key, value).
  void validate(const llama2_config& config) const {
    ROTQ_EXPECTS(transforms.size() == config.n_layers,
                 "the plan has " << transforms.size() << " layers, expected " << config.n_layers);
    for (std::size_t l = 0; l < transforms.size(); ++l)
      for (std::size_t i = 0; i < hook_point_count; ++i) {
        const auto point = static_cast<hook_point>(i);
        const pipeline& t = transforms[l][i];
        const std::size_t width =
            is_per_head(point) ? config.head_size() : hook_width(config, point);
        ROTQ_EXPECTS(t.empty() || t.size() == width, "layer " << l << " " << to_string(point)
                                                              << ": transform of size " << t.size()
                                                              << ", expected " << width);
      }
  }

  /// The forward hook that does all of the above. It only reads the plan, so any number of
  /// threads may run it at once; the plan must outlive it. Validates the plan first.
  forward_hook hook(const llama2_config& config) const {
    validate(config);
    const std::size_t head_size = config.head_size();
    return [this, head_size](std::size_t layer, hook_point point, matrix_view<float> rows) {
      // Per-head points: the T x (heads * head_size) rows are, contiguously, the
      // (T * heads) x head_size matrix of every head's vector.
      const matrix_view<float> target =
          is_per_head(point)
              ? matrix_view<float>(rows.data, rows.rows * (rows.cols / head_size), head_size)
              : rows;
      const pipeline& t = at(layer, point);
      if (!t.empty()) t.apply_activations(target);
      if (activations && is_linear_input(point)) fake_quantize_rows(rows, *activations);
      if (kv_cache && (point == hook_point::key || point == hook_point::value))
        fake_quantize_rows(target, *kv_cache);
    };
  }
};

/// Calls `first`, then `second`, on the same rows (either may be empty).
inline forward_hook chain_hooks(forward_hook first, forward_hook second) {
  return [first = std::move(first), second = std::move(second)](std::size_t layer, hook_point point,
                                                                matrix_view<float> rows) {
    if (first) first(layer, point, rows);
    if (second) second(layer, point, rows);
  };
}

/// Round-to-nearest weight quantisation: every linear of every layer (wq, wk, wv, wo, w_gate,
/// w_up, w_down) fake-quantised in place with `spec`, per output channel (row), per group within
/// rows when spec.group_size > 0. The embedding and classifier stay fp32.
inline void fake_quantize_linear_weights(llama2_model& model, const quant_spec& spec) {
  for (auto& layer : model.layers)
    for (hook_point input : linear_inputs)
      for (weight_matrix* w : linears_reading(layer, input)) fake_quantize_rows(as_view(*w), spec);
}

/// The GPTQ Hessians of one model: hessians[layer][i] for the i-th of linear_inputs, H = 2 X^T X
/// of the rows the linears reading that input see (after any online transform).
using linear_hessians = std::vector<std::array<Eigen::MatrixXd, 4>>;

/// GPTQ weight quantisation: every linear fake-quantised in place with `spec` (per output channel,
/// or per group), compensating with the Hessian of its input. Throws rotq::error if `hessians`
/// does not have one entry per layer of the right widths (or as gptq_fake_quantize does).
inline void gptq_linear_weights(llama2_model& model, const linear_hessians& hessians,
                                const quant_spec& spec, const gptq_options& options = {}) {
  ROTQ_EXPECTS(hessians.size() == model.layers.size(),
               "hessians has " << hessians.size() << " layers, expected " << model.layers.size());
  for (std::size_t l = 0; l < model.layers.size(); ++l)
    for (std::size_t i = 0; i < 4; ++i) {
      const std::size_t width = hook_width(model.config, linear_inputs[i]);
      const Eigen::MatrixXd& h = hessians[l][i];
      ROTQ_EXPECTS(std::size_t(h.rows()) == width && std::size_t(h.cols()) == width,
                   "hessians[" << l << "][" << i << "] is " << h.rows() << " x " << h.cols()
                               << ", expected " << width << " x " << width << " for "
                               << to_string(linear_inputs[i]));
      for (weight_matrix* w : linears_reading(model.layers[l], linear_inputs[i]))
        gptq_fake_quantize(as_view(*w), h, spec, options);
    }
}

}  // namespace model
}  // namespace rotq
