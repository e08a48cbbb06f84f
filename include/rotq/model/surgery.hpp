#pragma once
// Model surgery: rewriting a llama2 model's weights so that a rotation method costs nothing (or
// only its online part) at inference, as algorithms.md 7 lays out for QuaRot and its relatives.
// Every function here leaves the model computing the same function (up to float rounding), which
// the tests check on the logits.

#include <Eigen/Core>

#include <cstddef>
#include <vector>

#include "rotq/error.hpp"
#include "rotq/model/forward.hpp"
#include "rotq/model/llama2_checkpoint.hpp"
#include "rotq/pipeline.hpp"

namespace rotq {
namespace model {

/// True for the hook points whose rows are the input of quantised linears: attention_input (wq,
/// wk, wv), attention_output (wo), ffn_input (w_gate, w_up) and down_input (w_down).
constexpr bool is_linear_input(hook_point point) {
  return point == hook_point::attention_input || point == hook_point::attention_output ||
         point == hook_point::ffn_input || point == hook_point::down_input;
}

/// The four linear inputs, in forward order.
constexpr hook_point linear_inputs[] = {hook_point::attention_input, hook_point::attention_output,
                                        hook_point::ffn_input, hook_point::down_input};

/// The weight matrices `[out, in]` that read `point`'s rows: attention_input -> wq, wk, wv;
/// attention_output -> wo; ffn_input -> w_gate, w_up; down_input -> w_down. Throws rotq::error for
/// the other points, which no linear reads.
inline std::vector<weight_matrix*> linears_reading(llama2_layer& layer, hook_point point) {
  switch (point) {
    case hook_point::attention_input: return {&layer.wq, &layer.wk, &layer.wv};
    case hook_point::attention_output: return {&layer.wo};
    case hook_point::ffn_input: return {&layer.w_gate, &layer.w_up};
    case hook_point::down_input: return {&layer.w_down};
    default: break;
  }
  ROTQ_EXPECTS(false, "point = " << to_string(point)
                                 << " is read by no linear layer; expected attention_input, "
                                    "attention_output, ffn_input or down_input");
  return {};
}

inline std::vector<const weight_matrix*> linears_reading(const llama2_layer& layer,
                                                         hook_point point) {
  std::vector<const weight_matrix*> result;
  for (weight_matrix* w : linears_reading(const_cast<llama2_layer&>(layer), point))
    result.push_back(w);
  return result;
}

/// The width of `point`'s rows: dim for every point but down_input (hidden_dim) and key/value
/// (kv_dim).
inline std::size_t hook_width(const llama2_config& config, hook_point point) {
  if (point == hook_point::down_input) return config.hidden_dim;
  if (point == hook_point::key || point == hook_point::value) return config.kv_dim();
  return config.dim;
}

namespace detail {

inline void expect_layer(const llama2_model& model, std::size_t layer, const char* function) {
  if (layer >= model.layers.size())
    rotq::detail::throw_error(
        function, "layer = " + std::to_string(layer) +
                      ", expected below n_layers = " + std::to_string(model.layers.size()));
}

// W <- W diag(g): column j of every reader scaled by g_j.
inline void scale_columns(weight_matrix& w, const Eigen::VectorXf& g) { w = w * g.asDiagonal(); }

// W <- T^T W for an orthogonal T acting on W's output dimension (a writer of the residual stream):
// the rows of W^T get x <- x T.
inline void transform_output_rows(weight_matrix& w, const pipeline& t) {
  weight_matrix transposed = w.transpose();
  t.apply_activations(as_view(transposed));
  w = transposed.transpose();
}

}  // namespace detail

/// True when every RMSNorm gain is exactly 1 (after fuse_norm_gains).
inline bool norm_gains_fused(const llama2_model& model) {
  auto ones = [](const Eigen::VectorXf& g) { return (g.array() == 1.0f).all(); };
  for (const auto& layer : model.layers)
    if (!ones(layer.attention_norm) || !ones(layer.ffn_norm)) return false;
  return ones(model.final_norm);
}

/// Folds every RMSNorm gain g into the linears that read its output (W <- W diag(g)): wq, wk, wv
/// take the attention gain, w_gate and w_up the FFN gain, the classifier the final gain; then sets
/// the gains to 1. What remains is a gain-free RMSNorm, which commutes with any orthogonal Q:
/// rmsnorm(x Q) = rmsnorm(x) Q. The function computed is unchanged.
inline void fuse_norm_gains(llama2_model& model) {
  for (auto& layer : model.layers) {
    for (weight_matrix* w : linears_reading(layer, hook_point::attention_input))
      detail::scale_columns(*w, layer.attention_norm);
    for (weight_matrix* w : linears_reading(layer, hook_point::ffn_input))
      detail::scale_columns(*w, layer.ffn_norm);
    layer.attention_norm.setOnes();
    layer.ffn_norm.setOnes();
  }
  detail::scale_columns(model.classifier, model.final_norm);
  model.final_norm.setOnes();
}

/// The residual rotation R1 (QuaRot/SpinQuant): the residual stream becomes x Q for an orthogonal
/// Q of size dim (every stage of `q` must be orthogonal: no channel_scaling). Embedding rows get
/// e <- e Q; the readers of the residual (wq, wk, wv, w_gate, w_up, classifier) W <- W Q; its
/// writers (wo, w_down) W <- Q^T W. Costs nothing at inference. Throws rotq::error unless the
/// gains are fused (fuse_norm_gains first: a gain does not commute with Q), q has size dim, and q
/// is orthogonal.
inline void rotate_residual(llama2_model& model, const pipeline& q) {
  ROTQ_EXPECTS(norm_gains_fused(model),
               "the RMSNorm gains are not fused; call fuse_norm_gains first (a gain does not "
               "commute with the rotation)");
  ROTQ_EXPECTS(q.size() == model.config.dim,
               "q has size " << q.size() << ", expected the model's dim = " << model.config.dim);
  for (const transform& stage : q.stages())
    ROTQ_EXPECTS(stage.get_if<channel_scaling>() == nullptr,
                 "q holds a channel_scaling stage; the residual rotation must be orthogonal "
                 "(RMSNorm commutes only with orthogonal maps)");
  q.apply_activations(as_view(model.token_embedding));
  for (auto& layer : model.layers) {
    for (hook_point reader : {hook_point::attention_input, hook_point::ffn_input})
      for (weight_matrix* w : linears_reading(layer, reader)) q.apply_weights(as_view(*w));
    detail::transform_output_rows(layer.wo, q);
    detail::transform_output_rows(layer.w_down, q);
  }
  q.apply_weights(as_view(model.classifier));
}

/// Smoothing fused into the producer of `point` in `layer` (the online cost is zero): its rows are
/// divided by s (T = diag(s)^-1) and the readers' columns multiplied by s. attention_input and
/// ffn_input fold 1/s into the RMSNorm gain; down_input folds it into the rows of w_up (x =
/// silu(gate) * up is linear in up). attention_output cannot be fused in general (query heads
/// that share a value head would need equal scales): apply it online instead (a channel_scaling
/// stage, see transform_linear_inputs). Throws rotq::error for a bad layer or point, a size
/// mismatch, or a scale that is not positive and finite in float, with its reciprocal.
inline void fuse_smoothing(llama2_model& model, std::size_t layer, hook_point point,
                           const Eigen::VectorXd& s) {
  detail::expect_layer(model, layer, "fuse_smoothing");
  ROTQ_EXPECTS(point == hook_point::attention_input || point == hook_point::ffn_input ||
                   point == hook_point::down_input,
               "point = " << to_string(point)
                          << " has no producer to fuse smoothing into; expected attention_input, "
                             "ffn_input or down_input");
  const std::size_t width = hook_width(model.config, point);
  ROTQ_EXPECTS(std::size_t(s.size()) == width, "s has " << s.size() << " entries, expected "
                                                        << width << " for " << to_string(point));
  // The model is float: a scale must stay finite and nonzero there, and so must its reciprocal.
  for (Eigen::Index j = 0; j < s.size(); ++j)
    ROTQ_EXPECTS(s[j] > 0 && rotq::detail::float_holds_with_reciprocal(s[j]),
                 "s[" << j << "] = " << s[j]
                      << ", expected a positive scale that float holds, as it does its "
                         "reciprocal (about 2.9e-39 to 3.4e38)");
  llama2_layer& l = model.layers[layer];
  const Eigen::VectorXf scale = s.cast<float>();
  if (point == hook_point::down_input) {
    l.w_up = scale.cwiseInverse().asDiagonal() * l.w_up;
  } else {
    Eigen::VectorXf& gain = point == hook_point::attention_input ? l.attention_norm : l.ffn_norm;
    gain = gain.cwiseQuotient(scale);
  }
  for (weight_matrix* w : linears_reading(l, point)) detail::scale_columns(*w, scale);
}

/// The weight half of an online transform T of `point`'s rows in `layer`: every linear reading
/// them gets W <- W T^-T, so that once the rows are transformed online (x <- x T, a forward hook),
/// the layer computes what it did before. Throws rotq::error for a bad layer, a point no linear
/// reads, or a size mismatch.
inline void transform_linear_inputs(llama2_model& model, std::size_t layer, hook_point point,
                                    const pipeline& t) {
  detail::expect_layer(model, layer, "transform_linear_inputs");
  std::vector<weight_matrix*> readers = linears_reading(model.layers[layer], point);
  const std::size_t width = hook_width(model.config, point);
  ROTQ_EXPECTS(t.empty() || t.size() == width,
               "t has size " << t.size() << ", expected " << width << " for " << to_string(point));
  for (weight_matrix* w : readers) t.apply_weights(as_view(*w));
}

}  // namespace model
}  // namespace rotq
