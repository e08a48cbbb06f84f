#pragma once
// The bit tables a Hadamard plan uploads: H_m packed row by row, and the random signs of a random
// Hadamard transform. Built on the host from the host library's own definitions
// (rotq::hadamard_base_signs, detail::random_sign_at), so the GPU applies exactly its matrices.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "butterflies.hpp"
#include "rotq/detail/splitmix64.hpp"

namespace rotq {
namespace cuda {
namespace detail {

/// H_m (`signs`: m * m entries of +-1, row-major) or its transpose, row by row, sign_words(m)
/// words a row: bit b % 32 of word a * sign_words(m) + b / 32 is set when entry (a, b) is -1.
inline std::vector<std::uint32_t> pack_base_signs(const std::vector<std::int8_t>& signs,
                                                  std::size_t m, bool transpose) {
  const std::size_t words = static_cast<std::size_t>(sign_words(static_cast<int>(m)));
  std::vector<std::uint32_t> packed(m * words, 0u);
  for (std::size_t a = 0; a < m; ++a)
    for (std::size_t b = 0; b < m; ++b) {
      const std::int8_t entry = transpose ? signs[b * m + a] : signs[a * m + b];
      if (entry < 0) packed[a * words + b / 32] |= 1u << (b % 32);
    }
  return packed;
}

/// The random signs s_0 .. s_{n-1} of `seed` (rotq::random_signs) as bits: bit i % 8 of byte
/// i / 8 is set when s_i = -1, so the 8 elements of vector v share byte v.
inline std::vector<std::uint8_t> pack_random_signs(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> packed((n + 7) / 8, 0u);
  for (std::size_t i = 0; i < n; ++i)
    if (rotq::detail::random_sign_at(seed, i) < 0)
      packed[i / 8] = static_cast<std::uint8_t>(packed[i / 8] | (1u << (i % 8)));
  return packed;
}

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
