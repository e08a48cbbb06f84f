#pragma once
// Orthogonal transforms given as matrices: dense_rotation (any orthogonal n x n, e.g. learned or
// Procrustes-refined) and block_rotation (block-diagonal, DuQuant), plus random_orthogonal.

#include <Eigen/Core>
#include <Eigen/QR>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/apply_check.hpp"
#include "rotq/detail/random.hpp"

namespace rotq {

/// Tolerance of the orthogonality check of dense_rotation and block_rotation: max |R R^T - I|.
inline constexpr double orthogonality_tolerance = 1e-6;

/// max |R R^T - I| over all entries (infinity for a non-square or non-finite R).
inline double orthogonality_error(const Eigen::MatrixXd& r) {
  if (r.rows() != r.cols() || !r.allFinite()) return INFINITY;
  return (r * r.transpose() - Eigen::MatrixXd::Identity(r.rows(), r.cols())).cwiseAbs().maxCoeff();
}

/// The orthogonal Q of the QR decomposition M = Q R (n x n), with the signs of Q's columns chosen
/// so that diag(R) >= 0. An orthogonal M has R = I under that choice, so it comes back unchanged
/// up to rounding; DFRot uses this to keep a long product of rotations on the orthogonal group
/// without moving it. Throws rotq::error if m is not square, empty or not finite.
inline Eigen::MatrixXd orthonormalize(const Eigen::MatrixXd& m) {
  ROTQ_EXPECTS(m.rows() == m.cols() && m.rows() > 0,
               "m is " << m.rows() << " x " << m.cols() << ", expected a nonempty square matrix");
  ROTQ_EXPECTS(m.allFinite(), "m holds NaN or Inf, expected finite values");
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(m);
  Eigen::MatrixXd q = qr.householderQ();
  for (Eigen::Index j = 0; j < q.cols(); ++j)
    if (qr.matrixQR()(j, j) < 0) q.col(j) = -q.col(j);
  return q;
}

/// A random n x n orthogonal matrix, reproducible from `seed` on every platform: the Q of a QR
/// decomposition of a standard Gaussian matrix with diag(R) >= 0 (orthonormalize), which makes
/// the distribution uniform (Haar). Throws rotq::error for n = 0.
inline Eigen::MatrixXd random_orthogonal(std::size_t n, std::uint64_t seed) {
  ROTQ_EXPECTS(n > 0, "n = 0, expected a positive size");
  detail::random_stream random(seed);
  const auto size = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd g(size, size);
  for (Eigen::Index i = 0; i < size; ++i)
    for (Eigen::Index j = 0; j < size; ++j) g(i, j) = random.normal();
  return orthonormalize(g);
}

namespace detail {

using row_major_f = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using row_major_d = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
using strided_map = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                               Eigen::OuterStride<>>;

/// Columns [first, first + r.rows()) of x become x[:, cols] * r, as one small GEMM.
template <class T, class Matrix>
void multiply_columns_right(matrix_view<T> x, std::size_t first, const Matrix& r) {
  if (x.rows == 0) return;
  strided_map<T> block(x.data + first, Eigen::Index(x.rows), r.rows(),
                       Eigen::OuterStride<>(Eigen::Index(x.stride)));
  thread_local Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> product;
  product.noalias() = block * r;
  block = product;
}

}  // namespace detail

/// T = R for any orthogonal R (max |R R^T - I| <= orthogonality_tolerance): rows get x R, and, R
/// being orthogonal, weights the same. inverse() is R^T. Applied as a GEMM.
class dense_rotation {
public:
  static constexpr const char* kind = "dense_rotation";

  /// Throws rotq::error unless r is square, finite and orthogonal within orthogonality_tolerance.
  explicit dense_rotation(Eigen::MatrixXd r) : r_(std::move(r)) {
    ROTQ_EXPECTS(r_.rows() == r_.cols() && r_.rows() > 0,
                 "r is " << r_.rows() << " x " << r_.cols() << ", expected a square matrix");
    const double err = orthogonality_error(r_);
    ROTQ_EXPECTS(err <= orthogonality_tolerance,
                 "r is not orthogonal: max |R R^T - I| = " << err << ", expected <= "
                                                           << orthogonality_tolerance);
    r_float_ = r_.cast<float>();
  }

  std::size_t size() const { return static_cast<std::size_t>(r_.rows()); }

  void apply_activations(matrix_view<float> x) const { apply(x, r_float_); }
  void apply_activations(matrix_view<double> x) const { apply(x, r_); }
  void apply_weights(matrix_view<float> w) const { apply(w, r_float_); }
  void apply_weights(matrix_view<double> w) const { apply(w, r_); }

  const Eigen::MatrixXd& matrix() const { return r_; }

  dense_rotation inverse() const { return dense_rotation(r_.transpose()); }

private:
  template <class T, class Matrix>
  void apply(matrix_view<T> x, const Matrix& r) const {
    detail::expect_width(x, size(), "dense_rotation::apply");
    detail::multiply_columns_right(x, 0, r);
  }

  Eigen::MatrixXd r_;
  Eigen::MatrixXf r_float_;
};

/// T = diag(R_0, R_1, ..., R_{K-1}): K orthogonal blocks of one size bs, block b acting on channels
/// [b*bs, (b+1)*bs); n = K * bs. Rows get x T, weights the same (T is orthogonal). inverse() holds
/// the transposed blocks. Applied as K small GEMMs.
class block_rotation {
public:
  static constexpr const char* kind = "block_rotation";

  /// Throws rotq::error if `blocks` is empty, the blocks differ in size or are not square, or one
  /// is not orthogonal within orthogonality_tolerance.
  explicit block_rotation(std::vector<Eigen::MatrixXd> blocks) : blocks_(std::move(blocks)) {
    ROTQ_EXPECTS(!blocks_.empty(), "blocks is empty");
    const Eigen::Index bs = blocks_.front().rows();
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      const Eigen::MatrixXd& r = blocks_[b];
      ROTQ_EXPECTS(r.rows() == bs && r.cols() == bs && bs > 0,
                   "blocks[" << b << "] is " << r.rows() << " x " << r.cols() << ", expected " << bs
                             << " x " << bs << " like blocks[0]");
      const double err = orthogonality_error(r);
      ROTQ_EXPECTS(err <= orthogonality_tolerance,
                   "blocks[" << b << "] is not orthogonal: max |R R^T - I| = " << err
                             << ", expected <= " << orthogonality_tolerance);
      blocks_float_.push_back(r.cast<float>());
    }
  }

  std::size_t size() const { return blocks_.size() * block_size(); }
  std::size_t block_size() const { return static_cast<std::size_t>(blocks_.front().rows()); }
  const std::vector<Eigen::MatrixXd>& blocks() const { return blocks_; }

  void apply_activations(matrix_view<float> x) const { apply(x, blocks_float_); }
  void apply_activations(matrix_view<double> x) const { apply(x, blocks_); }
  void apply_weights(matrix_view<float> w) const { apply(w, blocks_float_); }
  void apply_weights(matrix_view<double> w) const { apply(w, blocks_); }

  Eigen::MatrixXd matrix() const {
    const auto bs = static_cast<Eigen::Index>(block_size());
    Eigen::MatrixXd t = Eigen::MatrixXd::Zero(Eigen::Index(size()), Eigen::Index(size()));
    for (std::size_t b = 0; b < blocks_.size(); ++b)
      t.block(Eigen::Index(b) * bs, Eigen::Index(b) * bs, bs, bs) = blocks_[b];
    return t;
  }

  block_rotation inverse() const {
    std::vector<Eigen::MatrixXd> transposed;
    transposed.reserve(blocks_.size());
    for (const auto& r : blocks_) transposed.emplace_back(r.transpose());
    return block_rotation(std::move(transposed));
  }

private:
  template <class T, class Matrix>
  void apply(matrix_view<T> x, const std::vector<Matrix>& blocks) const {
    detail::expect_width(x, size(), "block_rotation::apply");
    for (std::size_t b = 0; b < blocks.size(); ++b)
      detail::multiply_columns_right(x, b * block_size(), blocks[b]);
  }

  std::vector<Eigen::MatrixXd> blocks_;
  std::vector<Eigen::MatrixXf> blocks_float_;
};

}  // namespace rotq
