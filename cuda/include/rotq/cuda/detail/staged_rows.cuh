#pragma once
// Finishing rows that wait in shared memory as fp32 (the staged row kernel and the block-rotation
// kernel): store them in the input's type, or quantise them, E elements per store.

#include <cstdint>

#include "abi_namespace.cuh"
#include "group_codes.hpp"
#include "kernel_params.hpp"
#include "row_groups.cuh"
#include "vector_io.cuh"

ROTQ_CUDA_KERNELS_BEGIN

/// The threads of one row and where it is.
struct staged_row {
  const float* values;  ///< n fp32 values in shared memory
  float* group_area;    ///< 2 floats for each of at most n / 16 groups
  int n;
  int row_threads;
  int thread;  ///< 0 .. row_threads - 1
  int local_row;
  std::int64_t row;
  bool valid;  ///< row < rows
};

/// Writes the row to io.out in In, vectors of 8 when E == 8 (16-byte aligned rows), else element
/// by element.
template <int E, class In>
__device__ void store_staged_row(const staged_row& r, const detail::row_io& io) {
  if (!r.valid) return;
  In* out = static_cast<In*>(io.out) + r.row * io.out_stride;
  if constexpr (E == 8) {
    for (int v = r.thread; v < r.n / 8; v += r.row_threads) {
      float x[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) x[e] = r.values[v * 8 + e];
      store_vector(out + v * 8, x);
    }
  } else {
    for (int i = r.thread; i < r.n; i += r.row_threads) out[i] = from_float<In>(r.values[i]);
  }
}

/// Quantises the row: per-token statistics reduce across the row's threads, per-group ones are
/// scanned by one thread per group in element order; then codes E elements at a time. Every thread
/// of the CTA must call it (it synchronises); `reduce_area` is the CTA's per-warp partials.
template <int E>
__device__ void quantize_staged_row(const staged_row& r, const detail::code_target& target,
                                    float* reduce_area) {
  const detail::code_format& f = target.format;
  const bool range = detail::tracks_range(f);
  const bool per_group = f.group_size < r.n;
  detail::group_params token;
  if (!per_group) {
    detail::group_stats s;
    for (int i = r.thread; i < r.n; i += r.row_threads)
      s = detail::add_value(s, r.values[i], range);
    s = reduce_row_stats(s, range, r.row_threads, r.thread, r.local_row, reduce_area);
    token = detail::make_group_params(f, s);
    if (r.valid && r.thread == 0) store_group_scale(target, r.row, 0, token);
  } else {
    float2* params = reinterpret_cast<float2*>(r.group_area);
    for (int g = r.thread; g < r.n / f.group_size; g += r.row_threads) {
      detail::group_stats s;
      for (int i = g * f.group_size; i < (g + 1) * f.group_size; ++i)
        s = detail::add_value(s, r.values[i], range);
      const detail::group_params gp = detail::make_group_params(f, s);
      params[g] = pack_group_params(gp);
      if (r.valid) store_group_scale(target, r.row, g, gp);
    }
    __syncthreads();
  }
  if (!r.valid) return;
  const int bytes_per_vector = detail::vector_code_bytes<E>(f);
  std::uint8_t* codes = target.codes + r.row * target.codes_stride;
  const float2* params = reinterpret_cast<const float2*>(r.group_area);
  for (int v = r.thread; v < r.n / E; v += r.row_threads) {
    float x[E];
#pragma unroll
    for (int e = 0; e < E; ++e) x[e] = r.values[v * E + e];
    const detail::group_params gp =
        per_group ? unpack_group_params(params[v * E / f.group_size]) : token;
    std::uint8_t bytes[E];
    detail::encode_vector(f, x, gp, bytes);
    store_code_bytes(codes + v * bytes_per_vector, bytes, bytes_per_vector);
  }
}

ROTQ_CUDA_KERNELS_END
