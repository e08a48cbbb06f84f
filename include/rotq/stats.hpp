#pragma once
// Outlier statistics (algorithms.md 5): kurtosis, the robust (modified) z-score, activation
// kurtosis per channel and per token, and the layer selector that gives outlier-heavy layers the
// stronger of two pipelines.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "rotq/detail/expect_finite.hpp"
#include "rotq/error.hpp"
#include "rotq/view.hpp"

namespace rotq {
namespace detail {

/// m4 / m2^2 of the values `at(0) .. at(count - 1)` (count >= 1), in double, by passes over them:
/// their range, then the mean, then the central moments, so a large mean does not cancel the
/// moments away. NaN when the values are all equal, where kurtosis is undefined (decided on the
/// range: a mean that is not exactly representable would leave tiny moments behind).
template <class At>
double pearson_kurtosis(std::size_t count, const At& at) {
  double low = at(0), high = at(0);
  for (std::size_t i = 1; i < count; ++i) {
    low = std::min(low, double(at(i)));
    high = std::max(high, double(at(i)));
  }
  if (low == high) return NAN;
  // Kurtosis does not change with the scale of the values; dividing them by the largest magnitude
  // keeps the sum and the fourth powers from overflowing, and tiny values from underflowing.
  const double scale = std::max(std::abs(low), std::abs(high));
  double sum = 0.0;
  for (std::size_t i = 0; i < count; ++i) sum += at(i) / scale;
  const double mean = sum / static_cast<double>(count);
  double m2 = 0.0, m4 = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    const double d = at(i) / scale - mean;
    const double d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= static_cast<double>(count);
  m4 /= static_cast<double>(count);
  return m4 / (m2 * m2);
}

template <class T>
double weight_kurtosis(matrix_view<const T> w, bool excess) {
  if (w.empty()) throw_error("weight_kurtosis", "w is empty, expected a nonempty matrix");
  expect_finite(w, "w", "weight_kurtosis");
  const double k = pearson_kurtosis(
      w.rows * w.cols, [&](std::size_t i) { return double(w(i / w.cols, i % w.cols)); });
  if (std::isnan(k))
    throw_error("weight_kurtosis",
                "all elements of w are equal; kurtosis needs a nonzero variance");
  return excess ? k - 3.0 : k;
}

/// Kurtosis of every column (per_column) or every row of x; NaN for a constant one.
template <class T>
Eigen::VectorXd kurtosis_per_slice(matrix_view<const T> x, bool per_column, bool excess,
                                   const char* function) {
  if (x.empty()) throw_error(function, "x is empty, expected a nonempty matrix");
  expect_finite(x, "x", function);
  const std::size_t slices = per_column ? x.cols : x.rows;
  const std::size_t length = per_column ? x.rows : x.cols;
  Eigen::VectorXd k(static_cast<Eigen::Index>(slices));
  for (std::size_t s = 0; s < slices; ++s)
    k[Eigen::Index(s)] =
        pearson_kurtosis(length,
                         [&](std::size_t i) { return double(per_column ? x(i, s) : x(s, i)); }) -
        (excess ? 3.0 : 0.0);
  return k;
}

/// The median of a copy of `values`; for an even count, the mean of the two middle values.
inline double median(std::vector<double> values) {
  const std::size_t half = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(half), values.end());
  const double upper = values[half];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + std::ptrdiff_t(half));
  return 0.5 * (lower + upper);
}

}  // namespace detail

/// Pearson kurtosis kappa = m4 / m2^2 of `values` (central moments, computed in double by two
/// passes), or the excess kurtosis kappa - 3 when `excess` is true. A normal sample gives about 3
/// (excess 0), a uniform one about 1.8; heavy tails and rare outliers give large values, which is
/// why rotq uses it to find outlier-heavy layers. Throws rotq::error if `values` is empty, holds
/// NaN or Inf, or is constant (m2 = 0: kurtosis undefined).
inline double kurtosis(const Eigen::Ref<const Eigen::VectorXd>& values, bool excess = false) {
  ROTQ_EXPECTS(values.size() > 0, "values is empty, expected at least one value");
  for (Eigen::Index i = 0; i < values.size(); ++i)
    ROTQ_EXPECTS(std::isfinite(values[i]),
                 "values[" << i << "] = " << values[i] << ", expected a finite value");
  const double k = detail::pearson_kurtosis(std::size_t(values.size()),
                                            [&](std::size_t i) { return values[Eigen::Index(i)]; });
  ROTQ_EXPECTS(!std::isnan(k),
               "all " << values.size() << " values are equal; kurtosis needs a nonzero variance");
  return excess ? k - 3.0 : k;
}

/// The kurtosis of every element of a weight matrix `w` (m x n, row-major) taken as one sample,
/// as kurtosis() does for a vector: the per-layer statistic of the layer selector. Throws
/// rotq::error if `w` is empty, holds NaN or Inf (naming the entry), or is constant.
inline double weight_kurtosis(matrix_view<const float> w, bool excess = false) {
  return detail::weight_kurtosis(w, excess);
}
inline double weight_kurtosis(matrix_view<const double> w, bool excess = false) {
  return detail::weight_kurtosis(w, excess);
}

/// Pearson kurtosis of every column of activations `x` (T tokens x n channels, row-major): n
/// values, the cheapest diagnostic of outlier channels (a channel that is large on a few tokens
/// has a large kurtosis). A constant column has no kurtosis and gets NaN, so that one dead channel
/// does not hide the others. Throws rotq::error if `x` is empty or holds NaN or Inf.
inline Eigen::VectorXd activation_kurtosis_per_channel(matrix_view<const float> x,
                                                       bool excess = false) {
  return detail::kurtosis_per_slice(x, true, excess, "activation_kurtosis_per_channel");
}
inline Eigen::VectorXd activation_kurtosis_per_channel(matrix_view<const double> x,
                                                       bool excess = false) {
  return detail::kurtosis_per_slice(x, true, excess, "activation_kurtosis_per_channel");
}

/// Pearson kurtosis of every row of activations `x` (T tokens x n channels, row-major): T values;
/// a token whose energy sits in a few channels (a massive activation) has a large one. A constant
/// row gets NaN. Throws rotq::error if `x` is empty or holds NaN or Inf.
inline Eigen::VectorXd activation_kurtosis_per_token(matrix_view<const float> x,
                                                     bool excess = false) {
  return detail::kurtosis_per_slice(x, false, excess, "activation_kurtosis_per_token");
}
inline Eigen::VectorXd activation_kurtosis_per_token(matrix_view<const double> x,
                                                     bool excess = false) {
  return detail::kurtosis_per_slice(x, false, excess, "activation_kurtosis_per_token");
}

/// The Iglewicz-Hoaglin modified z-score of every value (algorithms.md 5), robust to the outliers
/// it is meant to find: with med = median, MAD = median |v - med| and MeanAD = mean |v - med|,
/// z = 0.6745 (v - med) / MAD when MAD > 0, else (v - med) / (1.253314 MeanAD) when MeanAD > 0,
/// else 0 for every value. The median of an even count is the mean of the two middle values.
/// Throws rotq::error if `values` is empty or holds NaN or Inf.
inline Eigen::VectorXd robust_zscore(const Eigen::VectorXd& values) {
  ROTQ_EXPECTS(values.size() > 0, "values is empty, expected at least one value");
  for (Eigen::Index i = 0; i < values.size(); ++i)
    ROTQ_EXPECTS(std::isfinite(values[i]),
                 "values[" << i << "] = " << values[i] << ", expected a finite value");
  const double med =
      detail::median(std::vector<double>(values.data(), values.data() + values.size()));
  const Eigen::VectorXd centred = values.array() - med;
  const Eigen::VectorXd deviation = centred.cwiseAbs();
  const double mad =
      detail::median(std::vector<double>(deviation.data(), deviation.data() + deviation.size()));
  if (mad > 0.0) return 0.6745 * centred / mad;
  const double mean_ad = deviation.mean();
  if (mean_ad > 0.0) return centred / (1.253314 * mean_ad);
  return Eigen::VectorXd::Zero(values.size());
}

/// One layer as the selector sees it: its name, the group it is compared within (e.g.
/// "attention inputs", "attention output", "FFN inputs", "FFN output") and its kurtosis.
struct layer_kurtosis {
  std::string layer;
  std::string group;
  double kurtosis = 0.0;
};

/// The selector's rule: a threshold beta per group, and the names of the two pipelines a layer can
/// get: `plain` for ordinary layers, `strong` for outlier-heavy ones (z > beta).
struct layer_selection_rule {
  std::map<std::string, double> thresholds;
  std::string plain = "plain";
  std::string strong = "strong";
};

/// What the selector decided for one layer, with the numbers it decided on.
struct layer_decision {
  std::string layer;
  std::string group;
  double kurtosis = 0.0;
  double zscore = 0.0;
  bool outlier_heavy = false;
  std::string pipeline;
};

/// Adaptive layer-wise selection (algorithms.md 5): within each group, the robust z-score of the
/// layers' kurtosis; a layer with z > beta (its group's threshold) is outlier-heavy and gets
/// rule.strong, every other layer rule.plain. Returns one decision per layer, in input order.
/// Throws rotq::error if `layers` is empty, a kurtosis is NaN or Inf, or a group has no threshold
/// in the rule (naming the group).
inline std::vector<layer_decision> select_layers_by_kurtosis(
    const std::vector<layer_kurtosis>& layers, const layer_selection_rule& rule) {
  ROTQ_EXPECTS(!layers.empty(), "layers is empty, expected at least one layer");
  std::map<std::string, std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    ROTQ_EXPECTS(std::isfinite(layers[i].kurtosis),
                 "layers[" << i << "] ('" << layers[i].layer << "') has kurtosis "
                           << layers[i].kurtosis << ", expected a finite value");
    ROTQ_EXPECTS(rule.thresholds.count(layers[i].group) == 1,
                 "layers[" << i << "] ('" << layers[i].layer << "') is in group '"
                           << layers[i].group << "', which has no threshold in the rule");
    members[layers[i].group].push_back(i);
  }
  std::vector<layer_decision> decisions(layers.size());
  for (const auto& [group, indices] : members) {
    Eigen::VectorXd kappa(Eigen::Index(indices.size()));
    for (std::size_t k = 0; k < indices.size(); ++k)
      kappa[Eigen::Index(k)] = layers[indices[k]].kurtosis;
    const Eigen::VectorXd z = robust_zscore(kappa);
    const double beta = rule.thresholds.at(group);
    for (std::size_t k = 0; k < indices.size(); ++k) {
      const layer_kurtosis& in = layers[indices[k]];
      const bool heavy = z[Eigen::Index(k)] > beta;
      decisions[indices[k]] = {in.layer,           in.group, in.kurtosis,
                               z[Eigen::Index(k)], heavy,    heavy ? rule.strong : rule.plain};
    }
  }
  return decisions;
}

}  // namespace rotq
