#pragma once
// Property checks that every transform must pass, written against the dense matrix in double.

#include <rotq/pipeline.hpp>

#include <Eigen/LU>

#include <catch2/catch.hpp>

#include "matrices.hpp"

namespace rotq_test {

/// apply_activations equals X * matrix(); apply_weights equals W * matrix()^-T; the product is
/// invariant; inverse() undoes the transform; float agrees with double.
template <class Transform>
void check_transform_properties(const Transform& t, unsigned seed = 1) {
  const auto n = static_cast<Eigen::Index>(t.size());
  const Eigen::MatrixXd dense = t.matrix();
  REQUIRE(dense.rows() == n);
  const row_major_d x = gaussian(7, n, seed);
  const row_major_d w = gaussian(5, n, seed + 1);

  row_major_d xt = x;
  t.apply_activations(xt);
  CHECK((xt - x * dense).cwiseAbs().maxCoeff() < 1e-10);

  row_major_d wt = w;
  t.apply_weights(wt);
  const Eigen::MatrixXd inverse_transposed = dense.inverse().transpose();
  CHECK((wt - w * inverse_transposed).cwiseAbs().maxCoeff() < 1e-9);

  // The core promise: (X T)(W T^-T)^T = X W^T.
  const Eigen::MatrixXd reference = x * w.transpose();
  CHECK((xt * wt.transpose() - reference).cwiseAbs().maxCoeff() <
        1e-9 * (1 + reference.cwiseAbs().maxCoeff()));

  row_major_d back = xt;
  t.inverse().apply_activations(back);
  CHECK((back - x).cwiseAbs().maxCoeff() < 1e-9);
  CHECK((t.inverse().matrix() * dense - Eigen::MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff() <
        1e-9);

  row_major_f xf = x.cast<float>();
  t.apply_activations(xf);
  CHECK((xf.cast<double>() - x * dense).cwiseAbs().maxCoeff() <
        1e-4 * (1 + (x * dense).cwiseAbs().maxCoeff()));
  row_major_f wf = w.cast<float>();
  t.apply_weights(wf);
  const row_major_d reference_f = xf.cast<double>() * wf.cast<double>().transpose();
  CHECK((reference_f - reference).cwiseAbs().maxCoeff() <
        1e-4 * (1 + reference.cwiseAbs().maxCoeff()));
}

/// Rows of a strided view are transformed; the padding between them is left alone.
template <class Transform>
void check_strided_rows(const Transform& t) {
  const auto n = static_cast<Eigen::Index>(t.size());
  row_major_d storage = gaussian(4, n + 5, 9);
  const row_major_d original = storage;
  t.apply_activations(storage.leftCols(n));
  CHECK((storage.leftCols(n) - original.leftCols(n) * t.matrix()).cwiseAbs().maxCoeff() < 1e-10);
  CHECK(storage.rightCols(5) == original.rightCols(5));
}

}  // namespace rotq_test
