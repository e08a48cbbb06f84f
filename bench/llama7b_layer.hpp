#pragma once
// The shape every CPU calibration benchmark works at: a LLaMA-7B layer input of 4096 channels seen
// on 2048 calibration tokens, and Gaussian matrices from rotq's platform-independent random
// stream, so every machine benchmarks the same numbers.

#include <Eigen/Core>

#include <cstdint>

#include "rotq/detail/random.hpp"

namespace rotq_bench {

using row_major_f = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr Eigen::Index layer_width = 4096;
constexpr Eigen::Index calibration_tokens = 2048;

/// A rows x cols matrix of standard normal values from the random stream of `seed`, row by row.
inline row_major_f gaussian(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  rotq::detail::random_stream random(seed);
  row_major_f m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(random.normal());
  return m;
}

}  // namespace rotq_bench
