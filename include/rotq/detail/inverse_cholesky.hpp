#pragma once
// The upper Cholesky factor of H^-1 that GPTQ walks along, without forming H^-1. With J the
// reversal, J H J = L L^T gives H = V V^T for the upper-triangular V = J L J, so
// H^-1 = (V^-1)^T V^-1 and U = V^-1 = J L^-1 J is the (unique, positive-diagonal) upper factor.
// One Cholesky and one triangular inverse cost 2n^3/3 flops, half of the reference route
// (Cholesky, inverse from the factor, Cholesky again: 4n^3/3).

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <optional>

namespace rotq {
namespace detail {

/// l <- l^-1 for a lower-triangular l (zeros above the diagonal stay zero), by halves:
/// [[A, 0], [B, C]]^-1 = [[A^-1, 0], [-C^-1 B A^-1, C^-1]], so the work is triangular matrix
/// products (n^3 / 3 flops) rather than a solve against the identity (n^3).
inline void invert_lower_triangular(Eigen::Ref<Eigen::MatrixXd> l) {
  const Eigen::Index n = l.rows();
  constexpr Eigen::Index direct_below = 64;
  if (n <= direct_below) {
    const Eigen::MatrixXd inverse =
        l.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(n, n));
    l = inverse;
    return;
  }
  const Eigen::Index half = n / 2;
  auto top_left = l.topLeftCorner(half, half);
  auto bottom_left = l.bottomLeftCorner(n - half, half);
  auto bottom_right = l.bottomRightCorner(n - half, n - half);
  invert_lower_triangular(top_left);
  invert_lower_triangular(bottom_right);
  Eigen::MatrixXd product = bottom_right.triangularView<Eigen::Lower>() * bottom_left;
  bottom_left.noalias() = -(product * top_left.triangularView<Eigen::Lower>());
}

/// The upper-triangular U with U^T U = h^-1, or nothing when h is not positive definite.
inline std::optional<Eigen::MatrixXd> inverse_upper_cholesky(const Eigen::MatrixXd& h) {
  const Eigen::LLT<Eigen::MatrixXd> llt(h.reverse());
  if (llt.info() != Eigen::Success) return std::nullopt;
  Eigen::MatrixXd l = llt.matrixL();
  invert_lower_triangular(l);
  return Eigen::MatrixXd(l.reverse());
}

}  // namespace detail
}  // namespace rotq
