#pragma once
// channel_scaling: the diagonal transform T = diag(s)^-1 of SmoothQuant-style smoothing.

#include <Eigen/Core>

#include <cmath>
#include <cstddef>

#include "rotq/detail/apply_check.hpp"

namespace rotq {
namespace detail {

/// Whether a scale s and its reciprocal are both finite and nonzero in float, i.e. 2.9e-39 <= |s|
/// <= 3.4e38: what a per-channel factor needs before it multiplies float rows or weights.
inline bool float_holds_with_reciprocal(double s) {
  const float value = static_cast<float>(s);
  const float reciprocal = static_cast<float>(1.0 / s);
  return std::isfinite(value) && value != 0.0f && std::isfinite(reciprocal) && reciprocal != 0.0f;
}

}  // namespace detail

/// T = diag(s)^-1: activation column j is divided by s_j, weight column j multiplied by s_j, so
/// (X T)(W T^-T)^T = X W^T. inverse() is channel_scaling(1 / s).
class channel_scaling {
public:
  static constexpr const char* kind = "channel_scaling";

  /// Throws rotq::error if s is empty or any s_j is NaN, or it or its reciprocal is zero or
  /// infinite in float (|s_j| outside about 2.9e-39 .. 3.4e38), where float rows would get 0 or
  /// inf.
  explicit channel_scaling(Eigen::VectorXd s) : s_(std::move(s)) {
    ROTQ_EXPECTS(s_.size() > 0, "s is empty");
    for (Eigen::Index j = 0; j < s_.size(); ++j)
      ROTQ_EXPECTS(detail::float_holds_with_reciprocal(s_[j]),
                   "s[" << j << "] = " << s_[j]
                        << ", expected a nonzero scale that float holds, as it does its "
                           "reciprocal (magnitude about 2.9e-39 to 3.4e38)");
    inverse_s_ = s_.cwiseInverse();
  }

  std::size_t size() const { return static_cast<std::size_t>(s_.size()); }
  const Eigen::VectorXd& scales() const { return s_; }

  void apply_activations(matrix_view<float> x) const { scale_columns(x, inverse_s_); }
  void apply_activations(matrix_view<double> x) const { scale_columns(x, inverse_s_); }
  void apply_weights(matrix_view<float> w) const { scale_columns(w, s_); }
  void apply_weights(matrix_view<double> w) const { scale_columns(w, s_); }

  Eigen::MatrixXd matrix() const { return inverse_s_.asDiagonal(); }

  channel_scaling inverse() const { return channel_scaling(inverse_s_); }

private:
  // Multiplying by a precomputed reciprocal instead of dividing keeps this a streaming loop; the
  // result differs from x / s by at most one rounding.
  template <class T>
  void scale_columns(matrix_view<T> x, const Eigen::VectorXd& factor) const {
    detail::expect_width(x, size(), "channel_scaling::apply");
    for (std::size_t r = 0; r < x.rows; ++r) {
      T* row = x.row(r);
      for (std::size_t j = 0; j < x.cols; ++j) row[j] *= static_cast<T>(factor[Eigen::Index(j)]);
    }
  }

  Eigen::VectorXd s_;
  Eigen::VectorXd inverse_s_;
};

}  // namespace rotq
