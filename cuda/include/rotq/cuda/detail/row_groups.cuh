#pragma once
// How the threads of a row agree on its quantisation groups: the statistics of a whole row
// (per-token scales) from the partials of its threads (shuffles inside a warp, one round through
// shared memory across warps), group parameters passed through shared memory, and the scale
// stores. Maxima and minima are exact, so no result depends on the order of the merges: each
// equals the host's sequential scan.

#include <cstdint>

#include "abi_namespace.cuh"
#include "group_codes.hpp"
#include "kernel_params.hpp"
#include "row_tiling.hpp"

ROTQ_CUDA_KERNELS_BEGIN

constexpr unsigned full_warp = 0xffffffffu;

/// Merges `s` over the `row_threads` threads of a row (a power of two up to 32, whose lanes are
/// aligned to row_threads, or whole warps) and returns the total to every one of them. Threads
/// without data pass empty statistics. Every thread of the CTA must call it (it may
/// __syncthreads); `partials` holds 2 floats per warp of every row of the CTA.
__device__ __forceinline__ detail::group_stats reduce_row_stats(detail::group_stats s, bool range,
                                                                int row_threads, int thread_in_row,
                                                                int local_row, float* partials) {
  const int lanes = row_threads < detail::warp_threads ? row_threads : detail::warp_threads;
  for (int mask = 1; mask < lanes; mask *= 2) {
    detail::group_stats other;
    other.first = __shfl_xor_sync(full_warp, s.first, mask);
    if (range) other.second = __shfl_xor_sync(full_warp, s.second, mask);
    s = detail::merge_stats(s, other, range);
  }
  if (row_threads <= detail::warp_threads) return s;
  const int warps = row_threads / detail::warp_threads;
  float2* row_partials = reinterpret_cast<float2*>(partials) + local_row * warps;
  if (thread_in_row % detail::warp_threads == 0)
    row_partials[thread_in_row / detail::warp_threads] = make_float2(s.first, s.second);
  __syncthreads();
  detail::group_stats total;
  for (int w = 0; w < warps; ++w) {
    const float2 part = row_partials[w];
    total = detail::merge_stats(total, detail::group_stats{part.x, part.y}, range);
  }
  return total;
}

/// Writes the scale (fp32 step, or the stored e8m0 / e4m3 byte) and, for asymmetric integers, the
/// zero point of group `group` of row `row`.
__device__ __forceinline__ void store_group_scale(const detail::code_target& target,
                                                  std::int64_t row, int group,
                                                  const detail::group_params& params) {
  if (detail::byte_scales(target.format))
    static_cast<std::uint8_t*>(target.scales)[row * target.scales_stride + group] = params.stored;
  else
    static_cast<float*>(target.scales)[row * target.scales_stride + group] = params.step;
  if (target.zeros != nullptr) target.zeros[row * target.zeros_stride + group] = params.zero;
}

/// Group parameters through shared memory: two floats, the step and the zero point with the stored
/// scale byte above it.
__device__ __forceinline__ float2 pack_group_params(const detail::group_params& p) {
  return make_float2(p.step, __int_as_float(p.zero | (static_cast<int>(p.stored) << 16)));
}

__device__ __forceinline__ detail::group_params unpack_group_params(float2 packed) {
  const int bits = __float_as_int(packed.y);
  detail::group_params p;
  p.step = packed.x;
  p.zero = bits & 0xffff;
  p.stored = static_cast<std::uint8_t>(bits >> 16);
  return p;
}

ROTQ_CUDA_KERNELS_END
