#pragma once
// What the quantiser tests compare: decoded codes as a matrix, bit-for-bit equality, and the
// per-token int4 error written out by hand.

#include <rotq/quantize.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "matrices.hpp"

namespace rotq_test {

/// dequantize(q) as a q.rows x q.cols matrix, for any of rotq's code types.
template <class Codes>
row_major_f dequantized(const Codes& q) {
  row_major_f out(Eigen::Index(q.rows), Eigen::Index(q.cols));
  rotq::dequantize(q, out);
  return out;
}

/// Same shape and the same bits in every element (so -0 differs from 0, and NaN equals NaN).
inline bool bitwise_equal(const row_major_f& a, const row_major_f& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())) == 0;
}

/// Per-token symmetric int4 fake quantisation error ||x - Q(x)||_F, written out (algorithms.md 6)
/// rather than taken from rotq.
inline double int4_error(const row_major_d& x) {
  double error = 0.0;
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const double amax = x.row(t).cwiseAbs().maxCoeff();
    const double scale = amax > 0 ? amax / 7.0 : 1.0;
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const double q = std::min(7.0, std::max(-8.0, std::nearbyint(x(t, c) / scale)));
      error += std::pow(x(t, c) - q * scale, 2);
    }
  }
  return std::sqrt(error);
}

}  // namespace rotq_test
