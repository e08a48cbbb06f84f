#pragma once
// The block-rotation kernel: y = x P R with R block-diagonal (one bs x bs matrix per block of bs
// channels) and P an optional gather, then the staged finish (store or quantise). A CTA takes
// rows_per_cta rows (up to 4); each thread computes 8 consecutive outputs of all of them, so each
// matrix row it reads (two 16-byte loads, L1/L2 resident) serves up to 32 fused multiply-adds.
// CUDA cores only; the fp32 rows wait in shared memory because per-token scales need whole rows.

#include <cstdint>

#include "abi_namespace.cuh"
#include "kernel_params.hpp"
#include "staged_rows.cuh"
#include "vector_io.cuh"

ROTQ_CUDA_KERNELS_BEGIN

template <class In, bool Quantize>
ROTQ_CUDA_KERNEL void __launch_bounds__(detail::block_cta_threads)
    block_rotate_kernel(const detail::block_params p) {
  constexpr int max_rows = detail::max_block_rows_per_cta;
  extern __shared__ float4 shared_words[];
  float* shared = reinterpret_cast<float*>(shared_words);
  const detail::block_shape& s = p.shape;
  const std::int64_t first_row = static_cast<std::int64_t>(blockIdx.x) * s.rows_per_cta;
  const In* rows[max_rows];
#pragma unroll
  for (int r = 0; r < max_rows; ++r) {
    const bool present = r < s.rows_per_cta && first_row + r < p.io.rows;
    rows[r] =
        present ? static_cast<const In*>(p.io.in) + (first_row + r) * p.io.in_stride : nullptr;
  }

  for (int column = 8 * static_cast<int>(threadIdx.x); column < s.n; column += 8 * blockDim.x) {
    const int block = column / s.block_size;
    const int first = block * s.block_size;
    const float* matrix = p.blocks +
                          static_cast<std::int64_t>(block) * s.block_size * s.block_size +
                          (column - first);
    float sums[max_rows][8] = {};
    for (int i = 0; i < s.block_size; ++i) {
      float weights[8];
      load_vector(matrix + i * s.block_size, weights);
      const int source = p.gather != nullptr ? __ldg(p.gather + first + i) : first + i;
#pragma unroll
      for (int r = 0; r < max_rows; ++r) {
        if (rows[r] == nullptr) continue;
        const float x = to_float(rows[r][source]);
#pragma unroll
        for (int e = 0; e < 8; ++e) sums[r][e] = __fmaf_rn(x, weights[e], sums[r][e]);
      }
    }
#pragma unroll
    for (int r = 0; r < max_rows; ++r) {
      if (r >= s.rows_per_cta) break;
#pragma unroll
      for (int e = 0; e < 8; ++e) shared[r * s.row_floats + column + e] = sums[r][e];
    }
  }
  __syncthreads();

  const int local_row = static_cast<int>(threadIdx.x) / s.row_threads;
  const std::int64_t row = first_row + local_row;
  float* values = shared + local_row * s.row_floats;
  const staged_row r{values,
                     values + s.n,
                     s.n,
                     s.row_threads,
                     static_cast<int>(threadIdx.x) % s.row_threads,
                     local_row,
                     row,
                     row < p.io.rows};
  if constexpr (Quantize)
    quantize_staged_row<detail::vector_elements>(r, p.target, shared + s.reduce_offset);
  else
    store_staged_row<detail::vector_elements, In>(r, p.io);
}

ROTQ_CUDA_KERNELS_END
