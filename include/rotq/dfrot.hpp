#pragma once
// DFRot (algorithms.md 4): refine the residual rotation R1 by alternating 4-bit per-token
// quantisation and orthogonal Procrustes on calibration features, with massive-activation tokens
// weighted up so that the rotation stops smearing them.

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <sstream>
#include <vector>

#include "rotq/detail/expect_finite.hpp"
#include "rotq/error.hpp"
#include "rotq/procrustes.hpp"
#include "rotq/quantize.hpp"
#include "rotq/rotation.hpp"
#include "rotq/view.hpp"

namespace rotq {

/// How DFRot recognises a massive-activation token x (a row of the unrotated features):
/// `peak_ratio`: max |x| / ||x||_2 > dfrot_options::peak_ratio (one channel dominates the row);
/// `low_quantization_error`: ||x - Q(x)||_2 < dfrot_options::error_threshold with Q the 4-bit
/// per-token quantiser and no rotation (DFRot's LLaMA rule: such rows quantise well unrotated and
/// badly after a Hadamard; its threshold is 8.5 for LLaMA-2-7B and depends on the model's scale).
enum class massive_token_rule { peak_ratio, low_quantization_error };

/// The knobs of dfrot_refine; the defaults are DFRot's (100 iterations, weight 100) with the
/// peak-ratio rule, which does not depend on the model's activation scale.
struct dfrot_options {
  std::size_t iterations = 100;
  double massive_weight = 100.0;  ///< alpha: massive rows are scaled by it in the objective
  massive_token_rule rule = massive_token_rule::peak_ratio;
  double peak_ratio = 0.5;       ///< `peak_ratio` rule: a quarter of the row's energy or more
  double error_threshold = 8.5;  ///< `low_quantization_error` rule
};

/// The refined rotation and how it was found. objective[i] = ||A_w R_i - Q(A_w R_i)||_F for the
/// weighted features A_w = weighted rows of A R_0 and the iterate R_i (R_0 alone at i = 0, so
/// objective has iterations + 1 entries). `rotation` is R_0 R_best, R_best the iterate with the
/// smallest objective, at index `best_iteration`.
struct dfrot_result {
  Eigen::MatrixXd rotation;
  std::vector<double> objective;
  std::size_t best_iteration = 0;
  std::vector<std::size_t> massive_tokens;
};

namespace detail {

/// ||M - Q(M)||_F, Q the 4-bit symmetric per-token quantiser with clip 1 (computed in float, as
/// the model's activations are); `quantized` receives Q(M).
inline double quantization_residual(const row_major_d& m, row_major_d& quantized) {
  row_major_f q = m.cast<float>();
  fake_quantize_rows(q, quant_spec{4, true, 0, 1.0});
  quantized = q.cast<double>();
  return (m - quantized).norm();
}

inline void expect_dfrot_options(const dfrot_options& options, const char* function) {
  std::ostringstream message;
  if (!(options.massive_weight > 0.0 && std::isfinite(options.massive_weight)))
    message << "options.massive_weight = " << options.massive_weight
            << ", expected a positive finite weight";
  else if (options.rule == massive_token_rule::peak_ratio &&
           !(options.peak_ratio > 0.0 && options.peak_ratio <= 1.0))
    message << "options.peak_ratio = " << options.peak_ratio << ", expected 0 < ratio <= 1";
  else if (options.rule == massive_token_rule::low_quantization_error &&
           !(options.error_threshold > 0.0 && std::isfinite(options.error_threshold)))
    message << "options.error_threshold = " << options.error_threshold
            << ", expected a positive finite threshold";
  if (!message.str().empty()) throw_error(function, message.str());
}

template <class T>
row_major_d features_as_double(matrix_view<const T> a, const char* function) {
  if (a.empty()) throw_error(function, "features are empty, expected N x hidden calibration rows");
  expect_finite(a, "features", function);
  row_major_d m(Eigen::Index(a.rows), Eigen::Index(a.cols));
  for (std::size_t r = 0; r < a.rows; ++r)
    for (std::size_t c = 0; c < a.cols; ++c)
      m(Eigen::Index(r), Eigen::Index(c)) = static_cast<double>(a(r, c));
  return m;
}

inline std::vector<std::size_t> massive_tokens(const row_major_d& a, const dfrot_options& options) {
  std::vector<std::size_t> massive;
  if (options.rule == massive_token_rule::peak_ratio) {
    for (Eigen::Index t = 0; t < a.rows(); ++t) {
      const double norm = a.row(t).norm();
      if (norm > 0.0 && a.row(t).cwiseAbs().maxCoeff() > options.peak_ratio * norm)
        massive.push_back(std::size_t(t));
    }
    return massive;
  }
  row_major_d quantized;
  for (Eigen::Index t = 0; t < a.rows(); ++t)
    if (quantization_residual(a.row(t), quantized) < options.error_threshold)
      massive.push_back(std::size_t(t));
  return massive;
}

template <class T>
dfrot_result dfrot_refine(matrix_view<const T> features, const Eigen::MatrixXd& start,
                          const dfrot_options& options) {
  const char* function = "dfrot_refine";
  expect_dfrot_options(options, function);
  const row_major_d a = features_as_double(features, function);
  const Eigen::Index n = a.cols();
  if (start.rows() != n || start.cols() != n ||
      orthogonality_error(start) > orthogonality_tolerance) {
    std::ostringstream message;
    message << "start is " << start.rows() << " x " << start.cols()
            << " with max |R R^T - I| = " << orthogonality_error(start)
            << ", expected an orthogonal " << n << " x " << n
            << " matrix (e.g. random_hadamard(n, seed).matrix())";
    throw_error(function, message.str());
  }
  dfrot_result result;
  result.massive_tokens = massive_tokens(a, options);
  row_major_d weighted = a * start;
  for (const std::size_t t : result.massive_tokens)
    weighted.row(Eigen::Index(t)) *= options.massive_weight;

  Eigen::MatrixXd r = Eigen::MatrixXd::Identity(n, n), best = r;
  row_major_d rotated = weighted, quantized;
  for (std::size_t i = 0;; ++i) {
    result.objective.push_back(quantization_residual(rotated, quantized));
    if (result.objective.back() < result.objective[result.best_iteration]) {
      result.best_iteration = i;
      best = r;
    }
    if (i == options.iterations) break;
    r = orthonormalize(r * procrustes(rotated, quantized));
    rotated.noalias() = weighted * r;
  }
  result.rotation = start * best;
  return result;
}

}  // namespace detail

/// The rows of `features` (N x hidden, row-major) that DFRot treats as massive-activation tokens
/// under options.rule, in increasing order, judged on the features as given (unrotated). Throws
/// rotq::error for empty or non-finite features or bad options.
inline std::vector<std::size_t> massive_tokens(matrix_view<const float> features,
                                               const dfrot_options& options = {}) {
  detail::expect_dfrot_options(options, "massive_tokens");
  return detail::massive_tokens(detail::features_as_double(features, "massive_tokens"), options);
}
inline std::vector<std::size_t> massive_tokens(matrix_view<const double> features,
                                               const dfrot_options& options = {}) {
  detail::expect_dfrot_options(options, "massive_tokens");
  return detail::massive_tokens(detail::features_as_double(features, "massive_tokens"), options);
}

/// DFRot's refinement of a residual rotation (algorithms.md 4). `features` A (N x hidden,
/// row-major) are the calibration tokens' RMSNorm outputs (gains fused) of every layer, stacked;
/// `start` is R_0, usually random_hadamard(hidden, seed).matrix(). With A^ = A R_0 and A_w = A^
/// with the massive tokens' rows (massive_tokens) scaled by options.massive_weight, it alternates
/// from R = I for options.iterations steps: B = Q(A_w R) (4-bit symmetric per-token fake
/// quantisation, clip 1), dR = procrustes(A_w R, B), R <- orthonormalize(R dR). Returns R_0 R for
/// the iterate R with the smallest objective ||A_w R - Q(A_w R)||_F (so it is never worse than
/// R_0 alone), used wherever R1 was (dense_rotation(result.rotation)), with the objective of every
/// iterate. Computed in double except the quantiser. Cost per iteration: two N x n x n products
/// and an n x n SVD and QR. Throws rotq::error for empty or non-finite features, a start that is
/// not an orthogonal hidden x hidden matrix, or bad options.
inline dfrot_result dfrot_refine(matrix_view<const float> features, const Eigen::MatrixXd& start,
                                 const dfrot_options& options = {}) {
  return detail::dfrot_refine(features, start, options);
}
inline dfrot_result dfrot_refine(matrix_view<const double> features, const Eigen::MatrixXd& start,
                                 const dfrot_options& options = {}) {
  return detail::dfrot_refine(features, start, options);
}

}  // namespace rotq
