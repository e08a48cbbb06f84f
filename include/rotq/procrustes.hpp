#pragma once
// The orthogonal Procrustes problem (algorithms.md 4): the rotation that best maps one set of rows
// onto another, the building block of DFRot's refinement (dfrot.hpp). orthonormalize, which
// keeps DFRot's product of rotations orthogonal, lives with the rotations in rotation.hpp.

#include <Eigen/Core>
#include <Eigen/SVD>

#include <cmath>

#include "rotq/error.hpp"
#include "rotq/rotation.hpp"

namespace rotq {

/// argmin over orthogonal R of ||A R - B||_F for A and B of one shape N x n (rows are samples,
/// R acts on the right like every rotq transform): with the SVD A^T B = U S V^T, R = U V^T.
/// Computed in double. A rank-deficient A (fewer rows than columns, repeated rows, zero columns)
/// leaves part of R undetermined; R is still orthogonal, because the full U and V are. Throws
/// rotq::error if the shapes differ, either matrix is empty or an entry is NaN or Inf.
inline Eigen::MatrixXd procrustes(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  ROTQ_EXPECTS(a.rows() > 0 && a.cols() > 0,
               "a is " << a.rows() << " x " << a.cols() << ", expected a nonempty matrix");
  ROTQ_EXPECTS(a.rows() == b.rows() && a.cols() == b.cols(),
               "a is " << a.rows() << " x " << a.cols() << " but b is " << b.rows() << " x "
                       << b.cols() << ", expected one shape");
  ROTQ_EXPECTS(a.allFinite(), "a holds NaN or Inf, expected finite values");
  ROTQ_EXPECTS(b.allFinite(), "b holds NaN or Inf, expected finite values");
  const Eigen::MatrixXd cross = a.transpose() * b;
  // BDCSVD turns to Jacobi by itself below its threshold and is much faster for hidden sizes.
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(cross, Eigen::ComputeFullU | Eigen::ComputeFullV);
  return svd.matrixU() * svd.matrixV().transpose();
}

}  // namespace rotq
