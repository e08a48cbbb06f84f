#pragma once
// The fp32 forward pass of a llama2.c model over a whole sequence at once, with hook points where
// a pipeline transforms or fake-quantises activations and where calibration records them.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "rotq/error.hpp"
#include "rotq/model/llama2_checkpoint.hpp"
#include "rotq/view.hpp"

namespace rotq {
namespace model {

/// Where, inside layer `l`, the forward pass hands its activations to a hook. Each is a T-row
/// matrix (one row per token), in this order within a layer:
enum class hook_point {
  attention_input,   ///< [T, dim]: RMSNorm(x) * attention_norm, the input of wq, wk and wv
  query,             ///< [T, dim]: queries after RoPE; head h is columns [h hs, (h+1) hs)
  key,               ///< [T, kv_dim]: keys after RoPE, the K cache; kv head g is [g hs, (g+1) hs)
  value,             ///< [T, kv_dim]: values, the V cache, laid out as the keys
  attention_output,  ///< [T, dim]: softmax(q kᵀ / √hs) v of every head, the input of wo
  ffn_input,         ///< [T, dim]: RMSNorm(x) * ffn_norm, the input of w_gate and w_up
  down_input,        ///< [T, hidden_dim]: silu(x w_gateᵀ) * (x w_upᵀ), the input of w_down
};

/// The number of hook points, for tables indexed by hook_point.
constexpr std::size_t hook_point_count = 7;

/// The enumerator's name, for logs and tables: "attention_input", "query", ...
inline const char* to_string(hook_point point) {
  switch (point) {
    case hook_point::attention_input: return "attention_input";
    case hook_point::query: return "query";
    case hook_point::key: return "key";
    case hook_point::value: return "value";
    case hook_point::attention_output: return "attention_output";
    case hook_point::ffn_input: return "ffn_input";
    case hook_point::down_input: return "down_input";
  }
  return "unknown";
}

/// Called with (layer index, hook point, the T rows); may rewrite the rows in place (an online
/// transform, a fake quantiser) or read them (calibration). The view lives only for the call.
/// Per-head work reshapes without copying: the T x dim queries are, contiguously, the
/// (T n_heads) x head_size matrix of every head's row.
using forward_hook =
    std::function<void(std::size_t layer, hook_point point, matrix_view<float> rows)>;

namespace detail {

/// out_t = gain * x_t / sqrt(mean(x_t²) + 1e-5) for every row t, in float as llama2.c computes it.
inline void rms_norm_rows(const weight_matrix& x, const Eigen::VectorXf& gain, weight_matrix& out) {
  out.resize(x.rows(), x.cols());
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const float mean_square = x.row(t).squaredNorm() / static_cast<float>(x.cols());
    const float inverse_rms = 1.0f / std::sqrt(mean_square + 1e-5f);
    out.row(t) = (inverse_rms * x.row(t)).cwiseProduct(gain.transpose());
  }
}

/// cos and sin of llama2.c's RoPE angles: row p, column i holds position p times the frequency
/// 10000^(-2i / head_size) of pair i, computed in float as llama2.c does.
struct rope_table {
  weight_matrix cos, sin;

  rope_table(std::size_t positions, std::size_t head_size) {
    const auto pairs = static_cast<Eigen::Index>(head_size / 2);
    cos.resize(static_cast<Eigen::Index>(positions), pairs);
    sin.resize(static_cast<Eigen::Index>(positions), pairs);
    for (Eigen::Index i = 0; i < pairs; ++i) {
      const float frequency =
          1.0f / std::pow(10000.0f, static_cast<float>(2 * i) / static_cast<float>(head_size));
      for (Eigen::Index p = 0; p < cos.rows(); ++p) {
        const float angle = static_cast<float>(p) * frequency;
        cos(p, i) = std::cos(angle);
        sin(p, i) = std::sin(angle);
      }
    }
  }

  /// Rotates the pairs (2i, 2i+1) of every head of every row of `x` (T x heads*head_size).
  void rotate(weight_matrix& x) const {
    const Eigen::Index pairs = cos.cols(), pairs_per_row = x.cols() / 2;
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
      float* row = x.row(t).data();
      for (Eigen::Index j = 0; j < pairs_per_row; ++j) {
        const float c = cos(t, j % pairs), s = sin(t, j % pairs);
        const float v0 = row[2 * j], v1 = row[2 * j + 1];
        row[2 * j] = v0 * c - v1 * s;
        row[2 * j + 1] = v0 * s + v1 * c;
      }
    }
  }
};

/// Causal multi-head attention with grouped-query heads: query head h reads kv head
/// h / (n_heads / n_kv_heads), as llama2.c maps them. Query rows go in blocks, and a block only
/// scores the keys up to its last row, so the masked half of the score matrix is mostly never
/// computed.
inline void causal_attention(const weight_matrix& q, const weight_matrix& k, const weight_matrix& v,
                             const llama2_config& config, weight_matrix& out) {
  constexpr Eigen::Index block_rows = 64;
  const Eigen::Index tokens = q.rows(), hs = static_cast<Eigen::Index>(config.head_size());
  const auto heads_per_kv = static_cast<Eigen::Index>(config.n_heads / config.n_kv_heads);
  const float sqrt_head_size = std::sqrt(static_cast<float>(hs));
  out.resize(tokens, q.cols());
  weight_matrix scores_storage(std::min(block_rows, tokens), tokens);
  for (Eigen::Index h = 0; h < static_cast<Eigen::Index>(config.n_heads); ++h) {
    const Eigen::Index kv = h / heads_per_kv;
    for (Eigen::Index first = 0; first < tokens; first += block_rows) {
      const Eigen::Index rows = std::min(block_rows, tokens - first), visible = first + rows;
      auto scores = scores_storage.topLeftCorner(rows, visible);
      scores.noalias() =
          q.block(first, h * hs, rows, hs) * k.block(0, kv * hs, visible, hs).transpose();
      for (Eigen::Index i = 0; i < rows; ++i) {
        auto weights = scores.row(i).head(first + i + 1).array();
        weights /= sqrt_head_size;
        weights = (weights - weights.maxCoeff()).exp();
        weights /= weights.sum();
        scores.row(i).tail(rows - i - 1).setZero();
      }
      out.block(first, h * hs, rows, hs).noalias() = scores * v.block(0, kv * hs, visible, hs);
    }
  }
}

/// Throws rotq::error from `function` unless `tokens` (called `argument` in the message) holds
/// 1..seq_len ids, each inside the vocabulary.
inline void expect_sequence(const llama2_config& config, const std::vector<int>& tokens,
                            const char* argument, const char* function) {
  if (tokens.empty() || tokens.size() > config.seq_len)
    rotq::detail::throw_error(
        function, std::string(argument) + " has " + std::to_string(tokens.size()) +
                      " entries, expected 1.." + std::to_string(config.seq_len) + " (seq_len)");
  for (std::size_t t = 0; t < tokens.size(); ++t)
    if (tokens[t] < 0 || std::size_t(tokens[t]) >= config.vocab_size)
      rotq::detail::throw_error(function, std::string(argument) + "[" + std::to_string(t) +
                                              "] = " + std::to_string(tokens[t]) +
                                              " is outside the vocabulary of " +
                                              std::to_string(config.vocab_size) + " tokens");
}

}  // namespace detail

/// Runs `tokens` (T ids, T <= seq_len) through `model` as llama2.c does, all positions at once
/// with a causal mask (prefill), and returns the logits, T x vocab_size: row t scores the token
/// after position t. fp32 throughout: RMSNorm with eps 1e-5, RoPE (theta 10000) on the pairs
/// (2i, 2i+1) of each head, softmax attention with grouped-query heads, SwiGLU FFN
/// `w_down(silu(w_gate x) * (w_up x))`, final RMSNorm and the classifier. Every linear is an
/// Eigen GEMM `Y = X Wᵀ` on T-row matrices.
///
/// `hook` (may be empty) is called at every hook_point of every layer, in layer order and the
/// order of hook_point, on the calling thread; whatever it writes into the rows is what the rest
/// of the pass uses. Thread safety: forward only reads `model` and keeps its buffers local, so
/// any number of threads may run it at once on one model; they then call the same hook at once,
/// so a shared hook must be stateless or synchronise itself (a recorder that appends to shared
/// storage needs a lock or one thread). Throws rotq::error for an empty sequence, one longer than
/// seq_len, a token outside the vocabulary, or a model whose shapes are inconsistent.
inline weight_matrix forward(const llama2_model& model, const std::vector<int>& tokens,
                             const forward_hook& hook = {}) {
  validate_shapes(model);
  const llama2_config& config = model.config;
  detail::expect_sequence(config, tokens, "tokens", ROTQ_FUNCTION_SIGNATURE);
  const auto length = static_cast<Eigen::Index>(tokens.size());
  weight_matrix x(length, static_cast<Eigen::Index>(config.dim));
  for (Eigen::Index t = 0; t < length; ++t) x.row(t) = model.token_embedding.row(tokens[t]);
  const detail::rope_table rope(tokens.size(), config.head_size());
  const auto call_hook = [&hook](std::size_t layer, hook_point point, weight_matrix& rows) {
    if (hook) hook(layer, point, as_view(rows));
  };

  weight_matrix normed, q, k, v, attention, gate, up;
  for (std::size_t l = 0; l < config.n_layers; ++l) {
    const llama2_layer& layer = model.layers[l];
    detail::rms_norm_rows(x, layer.attention_norm, normed);
    call_hook(l, hook_point::attention_input, normed);
    q.noalias() = normed * layer.wq.transpose();
    k.noalias() = normed * layer.wk.transpose();
    v.noalias() = normed * layer.wv.transpose();
    rope.rotate(q);
    rope.rotate(k);
    call_hook(l, hook_point::query, q);
    call_hook(l, hook_point::key, k);
    call_hook(l, hook_point::value, v);
    detail::causal_attention(q, k, v, config, attention);
    call_hook(l, hook_point::attention_output, attention);
    x.noalias() += attention * layer.wo.transpose();

    detail::rms_norm_rows(x, layer.ffn_norm, normed);
    call_hook(l, hook_point::ffn_input, normed);
    gate.noalias() = normed * layer.w_gate.transpose();
    up.noalias() = normed * layer.w_up.transpose();
    gate.array() = gate.array() * (1.0f / (1.0f + (-gate.array()).exp())) * up.array();
    call_hook(l, hook_point::down_input, gate);
    x.noalias() += gate * layer.w_down.transpose();
  }
  detail::rms_norm_rows(x, model.final_norm, normed);
  weight_matrix logits(length, static_cast<Eigen::Index>(config.vocab_size));
  logits.noalias() = normed * model.classifier.transpose();
  return logits;
}

}  // namespace model
}  // namespace rotq
