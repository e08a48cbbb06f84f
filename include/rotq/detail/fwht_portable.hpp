#pragma once
// Portable FWHT kernels: the reference every SIMD back end must match, and the fallback.

#include <cstddef>

#include "rotq/config.hpp"

namespace rotq {
namespace detail {

/// k for power_of_two = 2^k.
constexpr std::size_t log2_of(std::size_t power_of_two) {
  std::size_t log2 = 0;
  while ((std::size_t{1} << log2) < power_of_two) ++log2;
  return log2;
}

/// out = scale * S_n in, n = 2^log2n, Sylvester (natural) order; in == out allowed. Force-inlined
/// so that a SIMD back end that finishes its last chunks with it compiles it with its own
/// instruction set (see sylvester_chunks_portable).
template <class T>
ROTQ_FORCEINLINE void sylvester_portable(const T* in, T* out, std::size_t log2n, T scale) {
  const std::size_t n = std::size_t{1} << log2n;
  if (in != out)
    for (std::size_t i = 0; i < n; ++i) out[i] = in[i];
  for (std::size_t h = 1; h < n; h <<= 1)
    for (std::size_t i = 0; i < n; i += 2 * h)
      for (std::size_t j = i; j < i + h; ++j) {
        const T a = out[j], b = out[j + h];
        out[j] = a + b;
        out[j + h] = a - b;
      }
  if (scale != T(1))
    for (std::size_t i = 0; i < n; ++i) out[i] *= scale;
}

}  // namespace detail
}  // namespace rotq
