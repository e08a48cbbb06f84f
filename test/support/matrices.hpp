#pragma once
// The matrices of the tests: rotq's row-major layout in double and float, seeded Gaussian
// matrices, vectors written out, and the Sylvester matrices by their recursion.

#include <Eigen/Core>

#include <cstddef>
#include <initializer_list>
#include <random>

namespace rotq_test {

using row_major_d = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using row_major_f = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A rows x cols Matrix of N(0, sigma^2) values from std::mt19937(seed), drawn in the Matrix's
/// scalar type and stored in its storage order (so the same seed gives a row-major and a
/// column-major matrix different values).
template <class Matrix = row_major_d>
Matrix gaussian(Eigen::Index rows, Eigen::Index cols, unsigned seed,
                typename Matrix::Scalar sigma = 1) {
  std::mt19937 gen(seed);
  std::normal_distribution<typename Matrix::Scalar> dist(0, sigma);
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

/// The vector of `values`, in order.
inline Eigen::VectorXd vec(std::initializer_list<double> values) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (double x : values) v[i++] = x;
  return v;
}

/// S_n by the recursion S_2n = [[S_n, S_n], [S_n, -S_n]]: independent of rotq's code.
inline Eigen::MatrixXd sylvester_by_recursion(std::size_t n) {
  Eigen::MatrixXd s = Eigen::MatrixXd::Ones(1, 1);
  while (static_cast<std::size_t>(s.rows()) < n) {
    const Eigen::Index k = s.rows();
    Eigen::MatrixXd next(2 * k, 2 * k);
    next << s, s, s, -s;
    s = next;
  }
  return s;
}

}  // namespace rotq_test
