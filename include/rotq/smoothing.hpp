#pragma once
// Channel-wise smoothing (SmoothQuant, SmoothRot; algorithms.md 2): the per-channel scales s that
// move activation outliers into the weights, X -> X diag(s)^-1 and W -> W diag(s).

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "rotq/channel_scaling.hpp"
#include "rotq/detail/expect_finite.hpp"
#include "rotq/error.hpp"
#include "rotq/view.hpp"

namespace rotq {

/// The smallest weight statistic the scale formula divides by, so an all-zero weight column never
/// divides by zero (algorithms.md 2).
inline constexpr double smoothing_weight_floor = 1e-5;

/// Smoothing scales with the channels whose formula value fell below the floor, which get the
/// floor instead: a zero or all-tiny activation channel lands there, and a caller may want to
/// warn about it.
struct smoothing_report {
  Eigen::VectorXd scales;
  std::vector<std::size_t> floored_channels;
};

/// SmoothQuant's scales with the list of floored channels: for each input channel j,
/// s_j = max(a_j^alpha / max(w_j, 1e-5)^(1 - alpha), floor), where a_j = max_t |X_tj| over the
/// calibration tokens and w_j = max_i |W_ij| over the rows of every layer that reads the input
/// (weight_column_absmax). alpha in [0, 1] moves difficulty from activations (alpha = 1: all of
/// it) to weights; 0.5 is the usual default, 0.8-0.9 for LLaMA norm -> qkv / gate / up. Throws
/// rotq::error for mismatched or empty inputs, a negative, NaN or Inf statistic (naming the
/// channel), alpha outside [0, 1] or a floor that is not positive and finite.
inline smoothing_report smoothing_scales_with_report(const Eigen::VectorXd& act_absmax,
                                                     const Eigen::VectorXd& weight_absmax,
                                                     double alpha, double floor = 1e-5) {
  ROTQ_EXPECTS(act_absmax.size() > 0, "act_absmax is empty, expected one value per channel");
  ROTQ_EXPECTS(weight_absmax.size() == act_absmax.size(),
               "weight_absmax has " << weight_absmax.size() << " channels, expected "
                                    << act_absmax.size() << " like act_absmax");
  ROTQ_EXPECTS(alpha >= 0.0 && alpha <= 1.0, "alpha = " << alpha << ", expected 0 <= alpha <= 1");
  ROTQ_EXPECTS(floor > 0.0 && std::isfinite(floor),
               "floor = " << floor << ", expected a positive finite number");
  smoothing_report report;
  report.scales.resize(act_absmax.size());
  for (Eigen::Index j = 0; j < act_absmax.size(); ++j) {
    const double a = act_absmax[j], w = weight_absmax[j];
    ROTQ_EXPECTS(a >= 0.0 && std::isfinite(a),
                 "act_absmax[" << j << "] = " << a << ", expected a finite value >= 0");
    ROTQ_EXPECTS(w >= 0.0 && std::isfinite(w),
                 "weight_absmax[" << j << "] = " << w << ", expected a finite value >= 0");
    const double s =
        std::pow(a, alpha) / std::pow(std::max(w, smoothing_weight_floor), 1.0 - alpha);
    if (s < floor) report.floored_channels.push_back(std::size_t(j));
    report.scales[j] = std::max(s, floor);
  }
  return report;
}

/// SmoothQuant's per-channel scales s (algorithms.md 2), exactly as smoothing_scales_with_report
/// computes them: s_j = max(a_j^alpha / max(w_j, 1e-5)^(1 - alpha), floor) with a the activation
/// and w the weight column abs-max of each of the n input channels. The layer is then smoothed by
/// channel_scaling(s): X -> X diag(s)^-1, W -> W diag(s). floor is 1e-5 by default (DuQuant uses
/// 1e-2). Throws rotq::error as smoothing_scales_with_report does.
inline Eigen::VectorXd smoothing_scales(const Eigen::VectorXd& act_absmax,
                                        const Eigen::VectorXd& weight_absmax, double alpha,
                                        double floor = 1e-5) {
  return smoothing_scales_with_report(act_absmax, weight_absmax, alpha, floor).scales;
}

/// The smoothing transform channel_scaling(smoothing_scales(act_absmax, weight_absmax, alpha,
/// floor)): T = diag(s)^-1, ready to put in a pipeline or fuse into the producer of X.
inline channel_scaling smoothing_transform(const Eigen::VectorXd& act_absmax,
                                           const Eigen::VectorXd& weight_absmax, double alpha,
                                           double floor = 1e-5) {
  return channel_scaling(smoothing_scales(act_absmax, weight_absmax, alpha, floor));
}

namespace detail {

template <class T>
Eigen::VectorXd weight_column_absmax(const std::vector<matrix_view<const T>>& weights) {
  const auto fail = [](const auto&... parts) {
    std::ostringstream message;
    (message << ... << parts);
    throw_error("weight_column_absmax", message.str());
  };
  if (weights.empty()) fail("weights is empty, expected at least one weight matrix");
  const std::size_t n = weights.front().cols;
  if (n == 0) fail("weights[0] has no columns");
  Eigen::VectorXd absmax = Eigen::VectorXd::Zero(Eigen::Index(n));
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const matrix_view<const T>& w = weights[i];
    if (w.cols != n)
      fail("weights[", i, "] has ", w.cols, " columns, expected ", n, " like weights[0]");
    expect_finite(w, ("weights[" + std::to_string(i) + "]").c_str(), "weight_column_absmax");
    for (std::size_t r = 0; r < w.rows; ++r)
      for (std::size_t c = 0; c < n; ++c)
        absmax[Eigen::Index(c)] =
            std::max(absmax[Eigen::Index(c)], std::abs(static_cast<double>(w(r, c))));
  }
  return absmax;
}

}  // namespace detail

/// w_j = max |W_ij| over every row of every matrix in `weights` (each m_k x n, row-major, one
/// output channel per row): the weight statistic of smoothing when several layers read one input
/// (q, k and v; gate and up), so one s serves all of them. Absolute values, never the signed max.
/// Throws rotq::error if `weights` is empty, the column counts differ or an entry is NaN or Inf
/// (naming the matrix and the entry).
inline Eigen::VectorXd weight_column_absmax(const std::vector<matrix_view<const float>>& weights) {
  return detail::weight_column_absmax(weights);
}
inline Eigen::VectorXd weight_column_absmax(const std::vector<matrix_view<const double>>& weights) {
  return detail::weight_column_absmax(weights);
}

/// The outcome of an alpha sweep: the alpha with the smallest loss (the first one on ties), its
/// scales, and the loss of every candidate in the order given.
struct alpha_sweep_result {
  double best_alpha = 0.0;
  Eigen::VectorXd best_scales;
  std::vector<double> alphas;
  std::vector<double> losses;
};

/// Picks alpha on calibration loss (SmoothRot): for each candidate alpha, computes
/// s = smoothing_scales(act_absmax, weight_absmax, alpha, floor) and calls loss(s), any callable
/// taking `const Eigen::VectorXd&` and returning the loss as a double (typically the quantisation
/// error of the smoothed layer on calibration data). Returns the best alpha and every score.
/// Throws rotq::error if `alphas` is empty or the loss of some alpha is NaN (naming the alpha),
/// and as smoothing_scales does.
template <class Loss>
alpha_sweep_result sweep_smoothing_alpha(const Eigen::VectorXd& act_absmax,
                                         const Eigen::VectorXd& weight_absmax,
                                         const std::vector<double>& alphas, Loss&& loss,
                                         double floor = 1e-5) {
  ROTQ_EXPECTS(!alphas.empty(), "alphas is empty, expected at least one candidate");
  alpha_sweep_result result;
  result.alphas = alphas;
  double best = std::numeric_limits<double>::infinity();
  for (const double alpha : alphas) {
    Eigen::VectorXd scales = smoothing_scales(act_absmax, weight_absmax, alpha, floor);
    const double value = static_cast<double>(loss(static_cast<const Eigen::VectorXd&>(scales)));
    ROTQ_EXPECTS(!std::isnan(value), "the loss at alpha = " << alpha << " is NaN");
    result.losses.push_back(value);
    if (value < best || result.best_scales.size() == 0) {
      best = value;
      result.best_alpha = alpha;
      result.best_scales = std::move(scales);
    }
  }
  return result;
}

}  // namespace rotq
