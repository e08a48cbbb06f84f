#pragma once
// The portable Sylvester kernel over consecutive chunks: the portable back end's table entry, and
// the SIMD back ends' fallback for chunks shorter than one register.

#include <cstddef>

#include "rotq/detail/fwht_portable.hpp"

namespace rotq {
namespace detail {

/// out = scale * S_n in for each of `count` consecutive chunks of n = 2^log2n (in == out allowed):
/// one call for all the chunks of a row, so that a back end sets up once.
template <class T>
void sylvester_chunks_portable(const T* in, T* out, std::size_t log2n, std::size_t count, T scale) {
  const std::size_t n = std::size_t{1} << log2n;
  for (std::size_t k = 0; k < count; ++k) sylvester_portable(in + k * n, out + k * n, log2n, scale);
}

}  // namespace detail
}  // namespace rotq
