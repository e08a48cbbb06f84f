#pragma once
// GPTQ (Frantar et al., algorithms.md 6): quantise a weight matrix column by column and push each
// column's rounding error onto the columns not yet quantised, weighted by the inverse Hessian of
// the layer's calibration inputs, so that X W^T changes as little as possible. The grid is
// exactly round-to-nearest's (quantize.hpp): the same parameters, codes and dequantised floats.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "rotq/detail/expect_finite.hpp"
#include "rotq/detail/int_group.hpp"
#include "rotq/detail/inverse_cholesky.hpp"
#include "rotq/error.hpp"
#include "rotq/quantize.hpp"
#include "rotq/view.hpp"

namespace rotq {

/// Streams calibration inputs of one linear layer into its GPTQ Hessian H = 2 X^T X, where X
/// (tokens x n, one token per row) is everything passed to add(). Sums in double; accumulators
/// fed with disjoint batches (e.g. one per thread) merge into the one for all of them.
class hessian_accumulator {
public:
  /// An empty accumulator for inputs of width n (the layer's input features). Throws for n = 0.
  explicit hessian_accumulator(std::size_t n) {
    ROTQ_EXPECTS(n > 0, "n = 0, expected the layer's input width");
    gram_ = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  }

  std::size_t size() const { return static_cast<std::size_t>(gram_.rows()); }
  /// How many rows (tokens) have been added.
  std::size_t count() const { return count_; }

  /// Adds the rows of x (tokens x n). Throws rotq::error if x.cols != n or x holds a NaN/Inf.
  void add(matrix_view<const float> x) { add_rows(x, __func__); }
  void add(matrix_view<const double> x) { add_rows(x, __func__); }

  /// Adds everything `other` has seen. Throws rotq::error if the widths differ.
  void merge(const hessian_accumulator& other) {
    ROTQ_EXPECTS(other.size() == size(),
                 "other.size() = " << other.size() << ", expected this size n = " << size());
    gram_.triangularView<Eigen::Lower>() += other.gram_;
    count_ += other.count_;
  }

  /// H = 2 X^T X (n x n, symmetric). GPTQ reference code averages, 2 X^T X / count; GPTQ's result
  /// does not change with the scale of H, because its damping is relative to mean(diag H), unless
  /// some input is never active: as in the reference, such a column's H_jj = 0 becomes 1, which
  /// does not scale with H and enters the mean (pass hessian() / count to match the reference).
  /// Throws rotq::error if no rows were added.
  Eigen::MatrixXd hessian() const {
    ROTQ_EXPECTS(count_ > 0, "no calibration rows were added; expected at least one");
    Eigen::MatrixXd h = gram_.selfadjointView<Eigen::Lower>();
    h *= 2.0;
    return h;
  }

private:
  template <class T>
  void add_rows(matrix_view<const T> x, const char* function) {
    if (x.cols != size())
      detail::throw_error(function,
                          "x.cols = " + std::to_string(x.cols) +
                              ", expected the accumulator's width n = " + std::to_string(size()));
    detail::expect_finite(x, "x", function);
    // Rows go in chunks so the double copy stays small while the rank-k update stays a GEMM.
    constexpr std::size_t chunk_rows = 256;
    const Eigen::Index n = gram_.rows();
    Eigen::MatrixXd columns(n, static_cast<Eigen::Index>(std::min(chunk_rows, x.rows)));
    for (std::size_t first = 0; first < x.rows; first += chunk_rows) {
      const std::size_t count = std::min(chunk_rows, x.rows - first);
      for (std::size_t i = 0; i < count; ++i) {
        const T* row = x.row(first + i);
        for (Eigen::Index j = 0; j < n; ++j) columns(j, Eigen::Index(i)) = double(row[j]);
      }
      gram_.selfadjointView<Eigen::Lower>().rankUpdate(
          columns.leftCols(static_cast<Eigen::Index>(count)));
    }
    count_ += x.rows;
  }

  Eigen::MatrixXd gram_;  // X^T X, lower triangle only
  std::size_t count_ = 0;
};

/// GPTQ's knobs. `damping`: the fraction of mean(diag H) added to the diagonal before inverting
/// (0.01 in the paper). `block_size`: columns quantised between two lazy updates of the rest (128;
/// it changes speed, not the result beyond rounding). `act_order`: quantise columns in order of
/// descending diag H (the most active inputs first), results permuted back. `static_groups`:
/// with group_size > 0, compute every group's parameters up front from the weights as given
/// instead of when the walk reaches the group; act_order with groups needs it, so that groups stay
/// contiguous in the original column order. `search_clip`: search each row's (or group's) clip
/// ratio as search_clip_ratios does, whenever its parameters are computed.
struct gptq_options {
  double damping = 0.01;
  std::size_t block_size = 128;
  bool act_order = false;
  bool static_groups = false;
  std::optional<clip_search> search_clip;
};

namespace detail {

/// Where the block starting at `first` ends: block_size columns on, unless a group whose
/// parameters are computed when the walk reaches it starts inside the block and runs past its end.
/// Such a group must see its columns with every earlier error applied, so the block stops where
/// it starts.
inline std::size_t gptq_block_end(std::size_t first, std::size_t block_size, std::size_t columns,
                                  std::size_t dynamic_group_size) {
  const std::size_t end = std::min(first + block_size, columns);
  if (dynamic_group_size == 0) return end;
  const std::size_t last_start = (end - 1) / dynamic_group_size * dynamic_group_size;
  return last_start > first && last_start + dynamic_group_size > end ? last_start : end;
}

}  // namespace detail

/// GPTQ codes of the weight w (m x n, one output channel per row, the layer computing X w^T) for
/// calibration Hessian h (n x n, e.g. hessian_accumulator::hessian()) on the grid of `spec`: one
/// scale per row, or per group of spec.group_size columns (the layout of int_codes, in the original
/// column order). As the reference GPTQ: columns with H_jj = 0 (inputs never active) get H_jj = 1
/// and a zero weight; H + damping * mean(diag H) I is inverted through the upper Cholesky factor
/// of its inverse; per-row scales come from w as given, group scales from the weights as updated
/// when the walk reaches the group's first column (all earlier errors applied; the reference
/// misses the ones made earlier in the same 128-column block when groups are narrower). Computes
/// in double; each value is rounded to float before quantisation, so dequantize() of the result is
/// the fake-quantised weight. h is used as (h + h^T) / 2. Throws rotq::error for a bad spec or
/// options, shapes that do not match, NaN/Inf in w or h, a weight beyond float's largest / 4 (as
/// quantize_rows), an h that is not symmetric (beyond 1e-6 of its largest entry), a damping that
/// overflows, or h + damping not positive definite.
inline int_codes gptq_quantize(matrix_view<const float> w, const Eigen::MatrixXd& h,
                               const quant_spec& spec, const gptq_options& options = {}) {
  const std::string problem = detail::spec_problem(spec, w.cols, "w");
  ROTQ_EXPECTS(problem.empty(), problem);
  const auto n = static_cast<Eigen::Index>(w.cols);
  const auto m = static_cast<Eigen::Index>(w.rows);
  ROTQ_EXPECTS(
      h.rows() == n && h.cols() == n,
      "h is " << h.rows() << " x " << h.cols() << ", expected n x n with n = w.cols = " << w.cols);
  ROTQ_EXPECTS(options.damping >= 0.0 && std::isfinite(options.damping),
               "options.damping = " << options.damping << ", expected a finite ratio >= 0");
  ROTQ_EXPECTS(options.block_size > 0, "options.block_size = 0, expected at least 1 column");
  ROTQ_EXPECTS(!(options.act_order && spec.group_size > 0 && !options.static_groups),
               "options.act_order with spec.group_size = "
                   << spec.group_size
                   << " needs options.static_groups = true, so that groups stay contiguous in the "
                      "original column order");
  if (options.search_clip) {
    ROTQ_EXPECTS(
        options.search_clip->ratios >= 1 && options.search_clip->ratios <= 100,
        "options.search_clip->ratios = " << options.search_clip->ratios << ", expected 1 to 100");
    ROTQ_EXPECTS(options.search_clip->norm > 0.0 && std::isfinite(options.search_clip->norm),
                 "options.search_clip->norm = " << options.search_clip->norm
                                                << ", expected a positive exponent");
  }
  detail::expect_finite(w, "w", __func__, detail::int_input_limit, detail::int_input_limit_reason);
  for (Eigen::Index c = 0; c < h.cols(); ++c)
    for (Eigen::Index r = 0; r < h.rows(); ++r)
      ROTQ_EXPECTS(std::isfinite(h(r, c)),
                   "h(" << r << ", " << c << ") = " << h(r, c) << ", expected a finite Hessian");
  int_codes q = detail::make_int_codes(w.rows, w.cols, spec, false);
  if (w.empty()) return q;
  // A Hessian summed in float (X^T X from a blocked product) is symmetric only up to rounding;
  // anything beyond that is a wrong argument.
  const double asymmetry = (h - h.transpose()).cwiseAbs().maxCoeff();
  ROTQ_EXPECTS(
      asymmetry <= 1e-6 * h.cwiseAbs().maxCoeff(),
      "h is not symmetric: max |h - h^T| = " << asymmetry << ", expected at most 1e-6 of max |h|");
  const std::size_t groups = q.groups_per_row();

  const detail::int_format format{spec.bits, spec.symmetric};
  const float spec_clip = static_cast<float>(spec.clip);
  auto find_params = [&](const float* values, std::size_t count) {
    const float clip = options.search_clip
                           ? detail::search_group_clip(values, count, format,
                                                       {spec.clip, options.search_clip->ratios,
                                                        options.search_clip->norm})
                           : spec_clip;
    return detail::find_group_params(matrix_view<const float>(values, 1, count), format, clip);
  };
  std::vector<detail::int_group_params> params(w.rows * groups, detail::int_group_params{1.0f, 0});
  // Per-row parameters come from the weights before dead columns are zeroed, as in the reference.
  if (spec.group_size == 0)
    for (std::size_t r = 0; r < w.rows; ++r) params[r] = find_params(w.row(r), w.cols);

  Eigen::MatrixXd weights(m, n);  // column-major: the walk reads and updates whole columns
  for (Eigen::Index r = 0; r < m; ++r)
    for (Eigen::Index c = 0; c < n; ++c) weights(r, c) = w(std::size_t(r), std::size_t(c));
  Eigen::MatrixXd hessian = (h + h.transpose()) * 0.5;  // h itself when h is exactly symmetric
  for (Eigen::Index j = 0; j < n; ++j) {
    if (hessian(j, j) != 0.0) continue;
    hessian(j, j) = 1.0;
    weights.col(j).setZero();
  }

  std::vector<float> group_values(q.group_size);
  auto group_params_from = [&](std::size_t row, Eigen::Index first_column) {
    for (std::size_t k = 0; k < q.group_size; ++k)
      group_values[k] =
          static_cast<float>(weights(Eigen::Index(row), first_column + Eigen::Index(k)));
    return find_params(group_values.data(), q.group_size);
  };
  const bool grouped = spec.group_size > 0;
  if (grouped && options.static_groups)
    for (std::size_t r = 0; r < w.rows; ++r)
      for (std::size_t g = 0; g < groups; ++g)
        params[r * groups + g] = group_params_from(r, Eigen::Index(g * q.group_size));

  // order[k]: the original column quantised k-th.
  std::vector<Eigen::Index> order(w.cols);
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  if (options.act_order) {
    std::stable_sort(order.begin(), order.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return hessian(a, a) > hessian(b, b); });
    Eigen::MatrixXd permuted_weights(m, n);
    Eigen::MatrixXd permuted_hessian(n, n);
    for (Eigen::Index k = 0; k < n; ++k) {
      permuted_weights.col(k) = weights.col(order[std::size_t(k)]);
      for (Eigen::Index l = 0; l < n; ++l)
        permuted_hessian(l, k) = hessian(order[std::size_t(l)], order[std::size_t(k)]);
    }
    weights.swap(permuted_weights);
    hessian.swap(permuted_hessian);
  }

  const double damping = options.damping * hessian.diagonal().mean();
  ROTQ_EXPECTS(std::isfinite(damping), "options.damping * mean(diag h) = "
                                           << options.damping << " * " << hessian.diagonal().mean()
                                           << " overflows, expected a finite damping");
  hessian.diagonal().array() += damping;
  const std::optional<Eigen::MatrixXd> factor = detail::inverse_upper_cholesky(hessian);
  ROTQ_EXPECTS(factor.has_value(),
               "h + damping * I is not positive definite (damping = "
                   << options.damping << " * mean(diag h) = " << damping
                   << "); expected a positive semi-definite Hessian such as 2 X^T X, or more "
                      "damping");
  const Eigen::MatrixXd& u = *factor;

  const std::size_t dynamic_group_size = grouped && !options.static_groups ? q.group_size : 0;
  Eigen::VectorXd error(m);
  for (std::size_t first = 0; first < w.cols;) {
    const std::size_t end =
        detail::gptq_block_end(first, options.block_size, w.cols, dynamic_group_size);
    const auto block = static_cast<Eigen::Index>(end - first);
    Eigen::MatrixXd block_errors(m, block);
    for (std::size_t k = first; k < end; ++k) {
      const auto column = static_cast<Eigen::Index>(k);
      const std::size_t original = static_cast<std::size_t>(order[k]);
      if (dynamic_group_size > 0 && k % dynamic_group_size == 0)
        for (std::size_t r = 0; r < w.rows; ++r)
          params[r * groups + k / dynamic_group_size] = group_params_from(r, column);
      const std::size_t group = grouped ? original / q.group_size : 0;
      const double pivot = u(column, column);
      for (Eigen::Index r = 0; r < m; ++r) {
        const detail::int_group_params p = params[std::size_t(r) * groups + group];
        const int code = detail::encode(static_cast<float>(weights(r, column)), p, format);
        q.codes[std::size_t(r) * w.cols + original] = code;
        error[r] = (weights(r, column) - double(detail::decode(code, p, format))) / pivot;
      }
      block_errors.col(column - Eigen::Index(first)) = error;
      const Eigen::Index rest = Eigen::Index(end) - column - 1;
      weights.middleCols(column + 1, rest).noalias() -=
          error * u.row(column).segment(column + 1, rest);
    }
    const Eigen::Index after = n - Eigen::Index(end);
    weights.rightCols(after).noalias() -=
        block_errors * u.block(Eigen::Index(first), Eigen::Index(end), block, after);
    first = end;
  }

  for (std::size_t i = 0; i < params.size(); ++i) {
    q.scales[i] = params[i].scale;
    if (!spec.symmetric) q.zeros[i] = params[i].zero;
  }
  return q;
}

/// w <- dequantize(gptq_quantize(w, h, spec, options)) in place: the GPTQ fake-quantised weight.
inline void gptq_fake_quantize(matrix_view<float> w, const Eigen::MatrixXd& h,
                               const quant_spec& spec, const gptq_options& options = {}) {
  dequantize(gptq_quantize(w, h, spec, options), w);
}

}  // namespace rotq
