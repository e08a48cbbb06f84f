#pragma once
// The portable Sylvester kernel over consecutive chunks: the portable back end's table entry, and
// the SIMD back ends' fallback for chunks shorter than one register.

#include <cstddef>
#include <type_traits>
#include <vector>

#include "rotq/config.hpp"
#include "rotq/detail/float_storage.hpp"
#include "rotq/detail/fwht_portable.hpp"

namespace rotq {
namespace detail {

/// Where the chunks of a Sylvester kernel come from. `cached`: just written or about to be reused
/// (the chunks of one row, a single transform). `streamed`: rows read once from memory (fwht_rows
/// over contiguous rows); a SIMD kernel then prefetches each next chunk during the current one's
/// first pass, whose reads alone the hardware prefetchers follow too late (the later passes revisit
/// the chunk in cache). The portable loop ignores it.
enum class chunk_source { cached, streamed };

/// out = scale * S_n in for each of `count` consecutive chunks of n = 2^log2n (in == out allowed):
/// one call for all the chunks of a row, or for contiguous rows, so that a back end sets up once.
/// In and Out are T or a storage type (Eigen::half, Eigen::bfloat16; T is then float), whose chunks
/// are widened into float by float_storage.hpp's portable conversions, transformed and rounded back
/// once. Force-inlined: the SIMD back ends finish the chunks after their last whole register with
/// it, and there the call to an out-of-line copy (compiled for SSE) made n = 12 four times slower
/// on Zen 3 (0.6 us, not 0.13).
template <class In, class Out, class T>
ROTQ_FORCEINLINE void sylvester_chunks_portable(const In* in, Out* out, std::size_t log2n,
                                                std::size_t count, T scale,
                                                chunk_source /*source*/) {
  const std::size_t n = std::size_t{1} << log2n;
  if constexpr (std::is_same_v<In, T> && std::is_same_v<Out, T>) {
    for (std::size_t k = 0; k < count; ++k)
      sylvester_portable(in + k * n, out + k * n, log2n, scale);
  } else {
    static_assert(std::is_same_v<T, float>, "storage types are transformed in float");
    thread_local std::vector<float> chunk;
    chunk.resize(n);
    for (std::size_t k = 0; k < count; ++k) {
      widen_portable(in + k * n, chunk.data(), n);  // (a copy where In is float)
      sylvester_portable(chunk.data(), chunk.data(), log2n, scale);
      round_portable(chunk.data(), out + k * n, n);
    }
  }
}

}  // namespace detail
}  // namespace rotq
