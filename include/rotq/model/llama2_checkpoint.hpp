#pragma once
// A llama2.c checkpoint as a plain value: its configuration, its fp32 weights as row-major Eigen
// matrices, and the loader for the llama2.c "legacy" file format.

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "rotq/error.hpp"
#include "rotq/model/file_bytes.hpp"

namespace rotq {
namespace model {

/// Row-major fp32 matrix: weights are `[out, in]`, activations `[tokens, channels]`, so a linear
/// layer is `Y = X Wᵀ` and both convert to rotq::matrix_view without copying.
using weight_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The seven header fields of a llama2.c checkpoint, plus whether the classifier is the token
/// embedding (a positive vocab_size in the file) or a tensor of its own (a negative one).
struct llama2_config {
  std::size_t dim = 0;         ///< residual width
  std::size_t hidden_dim = 0;  ///< FFN width (gate/up outputs, down input)
  std::size_t n_layers = 0;
  std::size_t n_heads = 0;     ///< query heads
  std::size_t n_kv_heads = 0;  ///< key/value heads; n_heads / n_kv_heads query heads share one
  std::size_t vocab_size = 0;
  std::size_t seq_len = 0;  ///< longest sequence the model was trained for
  bool shared_classifier = true;

  std::size_t head_size() const { return dim / n_heads; }
  std::size_t kv_dim() const { return n_kv_heads * head_size(); }
};

/// One transformer block. Gains are the RMSNorm weights; matrices are `[out, in]` as in the file.
struct llama2_layer {
  Eigen::VectorXf attention_norm;  ///< [dim], rms_att: gain of the RMSNorm before q/k/v
  weight_matrix wq;                ///< [dim, dim]
  weight_matrix wk;                ///< [kv_dim, dim]
  weight_matrix wv;                ///< [kv_dim, dim]
  weight_matrix wo;                ///< [dim, dim]
  Eigen::VectorXf ffn_norm;        ///< [dim], rms_ffn: gain of the RMSNorm before gate/up
  weight_matrix w_gate;            ///< [hidden_dim, dim], llama2.c w1
  weight_matrix w_up;              ///< [hidden_dim, dim], llama2.c w3
  weight_matrix w_down;            ///< [dim, hidden_dim], llama2.c w2
};

/// A whole model. A copyable value with public members, so a pipeline copies it and rewrites its
/// weights (fusing gains, rotating, smoothing) without touching the original. The classifier is
/// always its own matrix, a copy of the embedding when the file ties them: rewriting one (fusing
/// the final gain into the classifier, say) must not silently change the other.
struct llama2_model {
  llama2_config config;
  weight_matrix token_embedding;  ///< [vocab_size, dim]: row t is token t's input
  std::vector<llama2_layer> layers;
  Eigen::VectorXf final_norm;  ///< [dim], rms_final
  weight_matrix classifier;    ///< [vocab_size, dim]: logits = final_norm(x) classifierᵀ
};

namespace detail {

/// What is wrong with a configuration, or an empty string when nothing is.
inline std::string llama2_config_problem(const llama2_config& c) {
  std::ostringstream problem;
  if (c.dim == 0 || c.hidden_dim == 0 || c.n_layers == 0 || c.n_heads == 0 || c.n_kv_heads == 0 ||
      c.vocab_size == 0 || c.seq_len == 0)
    problem << "every dimension must be positive";
  else if (c.n_heads % c.n_kv_heads != 0)
    problem << "n_heads = " << c.n_heads << " is not a multiple of n_kv_heads = " << c.n_kv_heads;
  else if (c.dim % c.n_heads != 0)
    problem << "dim = " << c.dim << " is not a multiple of n_heads = " << c.n_heads;
  else if (c.head_size() % 2 != 0)
    problem << "head_size = dim / n_heads = " << c.head_size() << " is odd; RoPE rotates pairs";
  else
    return {};
  problem << " (dim=" << c.dim << ", hidden_dim=" << c.hidden_dim << ", n_layers=" << c.n_layers
          << ", n_heads=" << c.n_heads << ", n_kv_heads=" << c.n_kv_heads
          << ", vocab_size=" << c.vocab_size << ", seq_len=" << c.seq_len << ")";
  return problem.str();
}

// Header values come from an untrusted file and their products can exceed 64 bits; saturating
// keeps the comparison with the real file size meaningful.
inline std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) {
  return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b
             ? std::numeric_limits<std::uint64_t>::max()
             : a * b;
}

inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b
             ? std::numeric_limits<std::uint64_t>::max()
             : a + b;
}

/// The number of float32 values after the header, in the legacy layout, for this configuration.
inline std::uint64_t llama2_float_count(const llama2_config& c) {
  const std::uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers;
  const std::uint64_t kv_dim = c.kv_dim(), vocab = c.vocab_size;
  auto mul = [](std::uint64_t a, std::uint64_t b) { return saturating_multiply(a, b); };
  std::uint64_t count = mul(vocab, dim);                                 // token_embedding
  count = saturating_add(count, mul(layers, dim));                       // rms_att
  count = saturating_add(count, mul(layers, mul(dim, dim)));             // wq
  count = saturating_add(count, mul(2, mul(layers, mul(kv_dim, dim))));  // wk, wv
  count = saturating_add(count, mul(layers, mul(dim, dim)));             // wo
  count = saturating_add(count, mul(layers, dim));                       // rms_ffn
  count = saturating_add(count, mul(3, mul(layers, mul(hidden, dim))));  // w1, w2, w3
  count = saturating_add(count, dim);                                    // rms_final
  count = saturating_add(count, mul(c.seq_len, c.head_size()));          // freq_cis real + imag
  if (!c.shared_classifier) count = saturating_add(count, mul(vocab, dim));
  return count;
}

/// The index of the first NaN or infinite value among `count`, or `count` when all are finite.
inline std::size_t first_non_finite(const float* values, std::size_t count) {
  std::size_t i = 0;
  while (i < count && std::isfinite(values[i])) ++i;
  return i;
}

}  // namespace detail

/// Throws rotq::error unless `model` is consistent: a valid configuration (positive sizes, n_heads
/// a multiple of n_kv_heads, dim a multiple of n_heads, even head size) and every tensor shaped
/// for it. The forward pass calls this, so a pipeline that rewrote a weight with the wrong shape
/// fails with the tensor's name instead of reading out of bounds.
inline void validate_shapes(const llama2_model& model) {
  const llama2_config& c = model.config;
  const std::string problem = detail::llama2_config_problem(c);
  ROTQ_EXPECTS(problem.empty(), "model.config: " << problem);
  const auto rows = [](const auto& m) { return static_cast<std::size_t>(m.rows()); };
  const auto cols = [](const auto& m) { return static_cast<std::size_t>(m.cols()); };
  const auto expect_matrix = [&](const weight_matrix& m, const char* name, std::size_t layer,
                                 std::size_t r, std::size_t k) {
    ROTQ_EXPECTS(rows(m) == r && cols(m) == k, name << " of layer " << layer << " is " << rows(m)
                                                    << " x " << cols(m) << ", expected " << r
                                                    << " x " << k);
  };
  const auto expect_gain = [&](const Eigen::VectorXf& v, const char* name, std::size_t layer) {
    ROTQ_EXPECTS(rows(v) == c.dim, name << " of layer " << layer << " has " << rows(v)
                                        << " entries, expected " << c.dim);
  };
  ROTQ_EXPECTS(rows(model.token_embedding) == c.vocab_size && cols(model.token_embedding) == c.dim,
               "token_embedding is " << rows(model.token_embedding) << " x "
                                     << cols(model.token_embedding) << ", expected " << c.vocab_size
                                     << " x " << c.dim);
  ROTQ_EXPECTS(model.layers.size() == c.n_layers,
               "model.layers has " << model.layers.size() << " layers, expected " << c.n_layers);
  for (std::size_t l = 0; l < c.n_layers; ++l) {
    const llama2_layer& layer = model.layers[l];
    expect_gain(layer.attention_norm, "attention_norm", l);
    expect_matrix(layer.wq, "wq", l, c.dim, c.dim);
    expect_matrix(layer.wk, "wk", l, c.kv_dim(), c.dim);
    expect_matrix(layer.wv, "wv", l, c.kv_dim(), c.dim);
    expect_matrix(layer.wo, "wo", l, c.dim, c.dim);
    expect_gain(layer.ffn_norm, "ffn_norm", l);
    expect_matrix(layer.w_gate, "w_gate", l, c.hidden_dim, c.dim);
    expect_matrix(layer.w_up, "w_up", l, c.hidden_dim, c.dim);
    expect_matrix(layer.w_down, "w_down", l, c.dim, c.hidden_dim);
  }
  ROTQ_EXPECTS(rows(model.final_norm) == c.dim,
               "final_norm has " << rows(model.final_norm) << " entries, expected " << c.dim);
  ROTQ_EXPECTS(rows(model.classifier) == c.vocab_size && cols(model.classifier) == c.dim,
               "classifier is " << rows(model.classifier) << " x " << cols(model.classifier)
                                << ", expected " << c.vocab_size << " x " << c.dim);
}

/// Loads a llama2.c "legacy" checkpoint: a header of 7 little-endian int32 (dim, hidden_dim,
/// n_layers, n_heads, n_kv_heads, vocab_size, seq_len), then float32 tensors, row-major
/// `[out, in]`, each stacked over layers: token_embedding, rms_att, wq, wk, wv, wo, rms_ffn,
/// w1 (gate), w2 (down), w3 (up), rms_final, the unused RoPE tables freq_cis_real and
/// freq_cis_imag (`[seq_len, head_size / 2]` each, skipped), and, when vocab_size is negative,
/// a classifier `[|vocab_size|, dim]`; a positive vocab_size ties the classifier to the
/// embedding. Throws rotq::error with a one-line message naming the file and the problem: it
/// cannot be read, the header is invalid, the size is not exactly what the header implies
/// (truncated or trailing bytes), or a weight is NaN or infinite (named with its index).
inline llama2_model load_llama2_checkpoint(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  constexpr std::size_t header_bytes = 7 * sizeof(std::int32_t);
  ROTQ_EXPECTS(bytes.size() >= header_bytes, "'" << path << "' is " << bytes.size()
                                                 << " bytes, shorter than the " << header_bytes
                                                 << "-byte llama2.c header");
  byte_reader reader(bytes.data(), bytes.size());
  const char* field_names[7] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                                "n_kv_heads", "vocab_size", "seq_len"};
  std::int64_t fields[7];
  for (std::int64_t& field : fields) field = reader.read_int32();
  for (int i = 0; i < 7; ++i) {
    // Only vocab_size may be negative: its sign says the classifier is stored separately.
    const std::int64_t value = i == 5 ? (fields[i] < 0 ? -fields[i] : fields[i]) : fields[i];
    ROTQ_EXPECTS(value > 0, "'" << path << "': header field " << field_names[i] << " = "
                                << fields[i] << ", expected a positive value");
  }
  llama2_config config;
  config.dim = static_cast<std::size_t>(fields[0]);
  config.hidden_dim = static_cast<std::size_t>(fields[1]);
  config.n_layers = static_cast<std::size_t>(fields[2]);
  config.n_heads = static_cast<std::size_t>(fields[3]);
  config.n_kv_heads = static_cast<std::size_t>(fields[4]);
  config.shared_classifier = fields[5] > 0;
  config.vocab_size = static_cast<std::size_t>(fields[5] > 0 ? fields[5] : -fields[5]);
  config.seq_len = static_cast<std::size_t>(fields[6]);
  const std::string problem = detail::llama2_config_problem(config);
  ROTQ_EXPECTS(problem.empty(), "'" << path << "': invalid header: " << problem);

  const std::uint64_t expected = detail::saturating_add(
      header_bytes, detail::saturating_multiply(detail::llama2_float_count(config), sizeof(float)));
  ROTQ_EXPECTS(
      bytes.size() == expected,
      "'" << path << "' is " << bytes.size() << " bytes but its header (dim=" << config.dim
          << ", hidden_dim=" << config.hidden_dim << ", n_layers=" << config.n_layers
          << ", n_heads=" << config.n_heads << ", n_kv_heads=" << config.n_kv_heads
          << ", vocab_size=" << fields[5] << ", seq_len=" << config.seq_len << ") implies "
          << expected << " bytes: "
          << (bytes.size() < expected ? "the file is truncated" : "the file has trailing bytes"));

  const std::size_t dim = config.dim, hidden = config.hidden_dim, kv_dim = config.kv_dim();
  llama2_model model;
  model.config = config;
  model.layers.resize(config.n_layers);
  const auto read_tensor = [&](const char* name, long layer, float* out, std::size_t rows,
                               std::size_t cols) {
    const std::size_t start = reader.offset();
    reader.read_float32s(out, rows * cols);
    const std::size_t bad = detail::first_non_finite(out, rows * cols);
    ROTQ_EXPECTS(bad == rows * cols,
                 "'" << path << "': " << name << (layer >= 0 ? " of layer " : "")
                     << (layer >= 0 ? std::to_string(layer) : "") << " has " << out[bad] << " at ["
                     << bad / cols << ", " << bad % cols << "] (byte offset "
                     << start + bad * sizeof(float) << "); weights must be finite");
  };
  const auto read_matrix = [&](const char* name, long layer, weight_matrix& m, std::size_t rows,
                               std::size_t cols) {
    m.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    read_tensor(name, layer, m.data(), rows, cols);
  };
  const auto read_gain = [&](const char* name, long layer, Eigen::VectorXf& v) {
    v.resize(static_cast<Eigen::Index>(dim));
    read_tensor(name, layer, v.data(), 1, dim);
  };
  // Each tensor is stored for every layer before the next tensor starts.
  const auto for_each_layer = [&](auto&& read_one) {
    for (std::size_t l = 0; l < config.n_layers; ++l)
      read_one(static_cast<long>(l), model.layers[l]);
  };
  read_matrix("token_embedding", -1, model.token_embedding, config.vocab_size, dim);
  for_each_layer([&](long l, llama2_layer& y) { read_gain("rms_att", l, y.attention_norm); });
  for_each_layer([&](long l, llama2_layer& y) { read_matrix("wq", l, y.wq, dim, dim); });
  for_each_layer([&](long l, llama2_layer& y) { read_matrix("wk", l, y.wk, kv_dim, dim); });
  for_each_layer([&](long l, llama2_layer& y) { read_matrix("wv", l, y.wv, kv_dim, dim); });
  for_each_layer([&](long l, llama2_layer& y) { read_matrix("wo", l, y.wo, dim, dim); });
  for_each_layer([&](long l, llama2_layer& y) { read_gain("rms_ffn", l, y.ffn_norm); });
  for_each_layer([&](long l, llama2_layer& y) { read_matrix("w1", l, y.w_gate, hidden, dim); });
  for_each_layer([&](long l, llama2_layer& y) { read_matrix("w2", l, y.w_down, dim, hidden); });
  for_each_layer([&](long l, llama2_layer& y) { read_matrix("w3", l, y.w_up, hidden, dim); });
  read_gain("rms_final", -1, model.final_norm);
  // The RoPE tables are recomputed by the forward pass, as llama2.c does.
  reader.skip(config.seq_len * config.head_size() * sizeof(float));
  if (config.shared_classifier)
    model.classifier = model.token_embedding;
  else
    read_matrix("classifier", -1, model.classifier, config.vocab_size, dim);
  return model;
}

}  // namespace model
}  // namespace rotq
