#pragma once
// The vectorised row kernel: Hadamard transform of rows of n = m * p (p >= 8) elements, or no
// transform, then either a rounding store to the input's type or the fused quantiser. One read and
// one write of every row; the data stays in registers except for the exchanges that cross warps
// and the H_m mixing, which go through shared memory. row_tiling.hpp says who holds what.
//
// Tunables (template parameters, so a benchmark can instantiate others): Slots, the register
// vectors of 8 elements per thread, and MaxThreads, the CTA size. Registers are budgeted for 1024
// resident threads an SM (64 each, __launch_bounds__ with 1024 / MaxThreads CTAs): the warps hide
// each other's memory latency, and on an H100 the 256-thread build at 70 to 77 registers held 3
// CTAs (37.5 % occupancy) where 64 holds 4, 5-10 % faster.

#include <cstdint>

#include "abi_namespace.cuh"
#include "butterflies.hpp"
#include "group_codes.hpp"
#include "kernel_params.hpp"
#include "row_groups.cuh"
#include "row_tiling.hpp"
#include "vector_io.cuh"

ROTQ_CUDA_KERNELS_BEGIN

/// Element i of the staging area lives at detail::staged_offset(i, n): vector v is float4 v and
/// float4 n / 8 + v.
__device__ __forceinline__ void write_staged(float* staging, int n, int v, const float (&x)[8]) {
  float4* words = reinterpret_cast<float4*>(staging);
  words[v] = make_float4(x[0], x[1], x[2], x[3]);
  words[n / 8 + v] = make_float4(x[4], x[5], x[6], x[7]);
}

__device__ __forceinline__ void read_staged(const float* staging, int n, int v, float (&x)[8]) {
  const float4* words = reinterpret_cast<const float4*>(staging);
  const float4 a = words[v];
  const float4 b = words[n / 8 + v];
  x[0] = a.x, x[1] = a.y, x[2] = a.z, x[3] = a.w;
  x[4] = b.x, x[5] = b.y, x[6] = b.z, x[7] = b.w;
}

/// The vectors a thread's register slots hold: slot k holds vector first + k * step
/// (detail::owned_vector and detail::slot_stride), worked out once per thread.
struct slot_vectors {
  int first = 0;
  int step = 0;
  __device__ __forceinline__ int operator[](int k) const { return first + k * step; }
};

/// The butterfly stages on lane bits 0 .. stages-1: the partner of a lane differs in that bit,
/// and the lane with the bit set holds the upper index.
template <int Slots>
__device__ __forceinline__ void butterfly_lanes(float (&x)[Slots][8], int stages, int used,
                                                int lane) {
  for (int j = 0; j < stages; ++j) {
    const int mask = 1 << j;
    const float own_sign = (lane & mask) != 0 ? -1.0f : 1.0f;
#pragma unroll
    for (int k = 0; k < Slots; ++k) {
      if (k >= used) break;
#pragma unroll
      for (int e = 0; e < 8; ++e)
        x[k][e] =
            detail::butterfly_half(x[k][e], __shfl_xor_sync(full_warp, x[k][e], mask), own_sign);
    }
  }
}

/// The butterflies on the warp bits of a chunk's columns (U > 32): every thread writes its vectors
/// to `staging`, reads the exchanged ones (detail::exchanged_vector), finishes their butterflies
/// with shuffles and writes them back, so the staging area ends up holding the transformed row in
/// natural order. Returns after a barrier.
template <int Slots>
__device__ void butterfly_warps(float (&x)[Slots][8], const detail::row_tiling& t, float* staging,
                                int thread, const slot_vectors& owned, bool busy, int lane) {
  const int used = detail::used_slots(t);
  const slot_vectors exchanged{detail::exchanged_vector(t, thread, 0), owned.step};
#pragma unroll
  for (int k = 0; k < Slots; ++k)
    if (busy && k < used) write_staged(staging, t.n, owned[k], x[k]);
  __syncthreads();
#pragma unroll
  for (int k = 0; k < Slots; ++k)
    if (busy && k < used) read_staged(staging, t.n, exchanged[k], x[k]);
  butterfly_lanes(x, detail::log2_exact(detail::column_warps(t)), used, lane);
  // Each exchanged vector goes back where it was read from, by the thread that read it: no other
  // thread touches those words in between, so no barrier is needed before these stores.
#pragma unroll
  for (int k = 0; k < Slots; ++k)
    if (busy && k < used) write_staged(staging, t.n, exchanged[k], x[k]);
  __syncthreads();
}

/// y_a = sum_b H[a][b] z_b for this thread's chunks a = s * G + g (s < S) and its column vector u,
/// with the S_p-transformed row z in `staging`; b runs upwards, so every build sums in the same
/// order. Each value read from shared memory serves S chunks.
template <int Slots>
__device__ void mix_chunks(float (&x)[Slots][8], const detail::row_tiling& t, const float* staging,
                           const std::uint32_t* base_signs, int thread, bool busy) {
  const int g = thread / t.column_threads;
  const int u = thread % t.column_threads;
  const int words = detail::sign_words(t.m);
#pragma unroll
  for (int k = 0; k < Slots; ++k)
#pragma unroll
    for (int e = 0; e < 8; ++e) x[k][e] = 0.0f;
  for (int b0 = 0; b0 < t.m; b0 += 32) {
    std::uint32_t word[Slots];
#pragma unroll
    for (int k = 0; k < Slots; ++k)
      word[k] = busy && k < t.chunk_slots
                    ? __ldg(base_signs + (k * t.chunk_groups + g) * words + b0 / 32)
                    : 0u;
    const int count = t.m - b0 < 32 ? t.m - b0 : 32;
    for (int bit = 0; bit < count; ++bit) {
      float z[8];
      read_staged(staging, t.n, (b0 + bit) * t.column_threads + u, z);
#pragma unroll
      for (int k = 0; k < Slots; ++k)
        if (k < t.chunk_slots) detail::accumulate_signed(x[k], detail::sign_of(word[k], bit), z);
    }
  }
}

/// Flips the signs of vector v where the random signs say so.
__device__ __forceinline__ void apply_random_signs(float (&x)[8], const std::uint8_t* signs,
                                                   int v) {
  const unsigned byte = signs[v];
#pragma unroll
  for (int e = 0; e < 8; ++e) x[e] = detail::flip_sign(x[e], ((byte >> e) & 1u) != 0);
}

/// Quantises the rows held in x (slot k holds vector owned[k]) and writes codes and scales.
/// Per-token scales reduce across the row's threads; per-group statistics go through the row's
/// shared area (which the transform may have used: `area_in_use` adds the barrier that makes it
/// free).
template <int Slots>
__device__ void quantize_slots(const detail::rows_params& p, const float (&x)[Slots][8], int thread,
                               const slot_vectors& owned, int local_row, std::int64_t row,
                               bool busy, float* area, float* reduce_area, bool area_in_use) {
  const detail::row_tiling& t = p.tiling;
  const detail::code_target& target = p.target;
  const detail::code_format& f = target.format;
  const bool range = detail::tracks_range(f);
  const int vectors = detail::vectors_per_row(t);
  const int used = detail::used_slots(t);
  const bool per_token = f.group_size >= t.n;
  const int group_vectors = f.group_size / detail::vector_elements;
  float2* stats = reinterpret_cast<float2*>(area);
  detail::group_params token;
  if (per_token) {
    detail::group_stats s;
#pragma unroll
    for (int k = 0; k < Slots; ++k) {
      const int v = owned[k];
      if (busy && k < used && v < vectors)
        s = detail::merge_stats(s, detail::vector_stats(x[k], range), range);
    }
    s = reduce_row_stats(s, range, t.row_threads, thread, local_row, reduce_area);
    token = detail::make_group_params(f, s);
    if (busy && thread == 0) store_group_scale(target, row, 0, token);
  } else {
    if (area_in_use) __syncthreads();
#pragma unroll
    for (int k = 0; k < Slots; ++k) {
      const int v = owned[k];
      if (!busy || k >= used || v >= vectors) continue;
      const detail::group_stats s = detail::vector_stats(x[k], range);
      stats[v] = make_float2(s.first, s.second);
    }
    __syncthreads();
    // The owner of a group's first vector merges the group and leaves its parameters in place of
    // that vector's statistics; nobody else reads the group's entries until the next barrier.
#pragma unroll
    for (int k = 0; k < Slots; ++k) {
      const int v = owned[k];
      if (!busy || k >= used || v >= vectors || v % group_vectors != 0) continue;
      detail::group_stats s;
      for (int i = 0; i < group_vectors; ++i) {
        const float2 part = stats[v + i];
        s = detail::merge_stats(s, detail::group_stats{part.x, part.y}, range);
      }
      const detail::group_params gp = detail::make_group_params(f, s);
      stats[v] = pack_group_params(gp);
      store_group_scale(target, row, v / group_vectors, gp);
    }
    __syncthreads();
  }
  const int bytes_per_vector = detail::vector_code_bytes<8>(f);
  std::uint8_t* codes = target.codes + row * target.codes_stride;
#pragma unroll
  for (int k = 0; k < Slots; ++k) {
    const int v = owned[k];
    if (!busy || k >= used || v >= vectors) continue;
    const detail::group_params gp =
        per_token ? token : unpack_group_params(stats[v - v % group_vectors]);
    std::uint8_t bytes[8];
    detail::encode_vector(f, x[k], gp, bytes);
    store_code_bytes(codes + v * bytes_per_vector, bytes, bytes_per_vector);
  }
}

/// One CTA: rows_per_cta rows of row_threads threads each. Quantize: write codes and scales,
/// else the transformed rows in the input's type.
template <int Slots, int MaxThreads, class In, bool Quantize>
ROTQ_CUDA_KERNEL void __launch_bounds__(MaxThreads, detail::max_cta_threads / MaxThreads)
    rows_kernel(const detail::rows_params p) {
  extern __shared__ float4 shared_words[];
  float* shared = reinterpret_cast<float*>(shared_words);
  const detail::row_tiling& t = p.tiling;
  const int local_row = static_cast<int>(threadIdx.x) / t.row_threads;
  const int thread = static_cast<int>(threadIdx.x) % t.row_threads;
  const int lane = static_cast<int>(threadIdx.x) % detail::warp_threads;
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * t.rows_per_cta + local_row;
  const bool busy = row < p.io.rows && thread < detail::busy_threads(t);
  const int used = detail::used_slots(t);
  const int vectors = detail::vectors_per_row(t);
  float* area = shared + local_row * p.smem.row_floats;
  const slot_vectors owned{detail::owned_vector(t, thread, 0), detail::slot_stride(t)};

  // The slots' loads first, then the optional divisor and random signs, so nothing stands between
  // the loads (on an H100 this measured the same as one loop doing all three).
  float x[Slots][8];
  bool holds[Slots];
#pragma unroll
  for (int k = 0; k < Slots; ++k) {
    holds[k] = busy && k < used && owned[k] < vectors;
    if (holds[k]) {
      load_vector(static_cast<const In*>(p.io.in) + row * p.io.in_stride + owned[k] * 8, x[k]);
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) x[k][e] = 0.0f;
    }
  }
  if (p.io.divisor != nullptr) {
#pragma unroll
    for (int k = 0; k < Slots; ++k) {
      if (!holds[k]) continue;
      float d[8];
      load_vector(p.io.divisor + owned[k] * 8, d);
#pragma unroll
      for (int e = 0; e < 8; ++e) x[k][e] = x[k][e] / d[e];
    }
  }
  if (p.tables.random_signs != nullptr && !p.tables.signs_after) {
#pragma unroll
    for (int k = 0; k < Slots; ++k)
      if (holds[k]) apply_random_signs(x[k], p.tables.random_signs, owned[k]);
  }

  bool area_in_use = false;
  if (p.transform) {
#pragma unroll
    for (int k = 0; k < Slots; ++k)
      if (k < used) detail::butterfly_vector(x[k]);
    butterfly_lanes(x, detail::lane_stages(t), used, lane);
    if (t.column_threads > detail::warp_threads) {
      butterfly_warps(x, t, area, thread, owned, busy, lane);
      area_in_use = true;
      if (t.m == 1) {
#pragma unroll
        for (int k = 0; k < Slots; ++k)
          if (busy && k < used) read_staged(area, t.n, owned[k], x[k]);
      }
    }
    // The slot bits are the highest of a chunk's vector index (row_tiling.hpp), so their stages
    // come last: every tiling then runs the stages from the lowest bit to the highest, and a row
    // gets the same bits from the decode tiling as from the library's (choose_decode_tiling).
    detail::butterfly_slots(x, t.column_slots);
    if (t.m > 1 && t.column_threads <= detail::warp_threads) {
#pragma unroll
      for (int k = 0; k < Slots; ++k)
        if (busy && k < used) write_staged(area, t.n, owned[k], x[k]);
      __syncthreads();
      area_in_use = true;
    }
    if (t.m > 1) mix_chunks(x, t, area, p.tables.base_signs, thread, busy);
#pragma unroll
    for (int k = 0; k < Slots; ++k) {
#pragma unroll
      for (int e = 0; e < 8; ++e) x[k][e] = x[k][e] * p.tables.scale;
      const int v = owned[k];
      if (p.tables.random_signs != nullptr && p.tables.signs_after && busy && k < used)
        apply_random_signs(x[k], p.tables.random_signs, v);
    }
  }

  if constexpr (Quantize) {
    quantize_slots(p, x, thread, owned, local_row, row, busy, area, shared + p.smem.reduce_offset,
                   area_in_use);
  } else {
    In* out = static_cast<In*>(p.io.out) + row * p.io.out_stride;
#pragma unroll
    for (int k = 0; k < Slots; ++k) {
      const int v = owned[k];
      if (busy && k < used && v < vectors) store_vector(out + v * 8, x[k]);
    }
  }
}

ROTQ_CUDA_KERNELS_END
