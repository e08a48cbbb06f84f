#pragma once
// The staged row kernel: the whole row in shared memory (fp32), S_p one stage at a time, H_m as a
// signed sum per element, then the staged finish (store or quantise). It takes any even n the
// host supports and is what the vectorised kernel cannot tile: chunks shorter than a vector
// (p < 8, e.g. n = 172 = 172 * 1 or 80 = 20 * 4) and quantising rows whose length is not a
// multiple of 8. Simple rather than fast: a barrier per butterfly stage, m additions per element.

#include <cstdint>

#include "abi_namespace.cuh"
#include "butterflies.hpp"
#include "kernel_params.hpp"
#include "staged_rows.cuh"
#include "vector_io.cuh"

ROTQ_CUDA_KERNELS_BEGIN

template <class In, bool Quantize>
ROTQ_CUDA_KERNEL void __launch_bounds__(detail::staged_cta_threads)
    staged_kernel(const detail::staged_params p) {
  extern __shared__ float4 shared_words[];
  float* shared = reinterpret_cast<float*>(shared_words);
  const detail::staged_shape& s = p.shape;
  const int local_row = static_cast<int>(threadIdx.x) / s.row_threads;
  const int thread = static_cast<int>(threadIdx.x) % s.row_threads;
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * s.rows_per_cta + local_row;
  const bool valid = row < p.io.rows;
  float* values = shared + local_row * s.row_floats;
  const bool mixed = p.transform && s.m > 1;
  float* result = mixed ? values + s.n : values;
  const detail::hadamard_tables& tables = p.tables;
  const bool signs_before = p.transform && tables.random_signs != nullptr && !tables.signs_after;
  const bool signs_after = p.transform && tables.random_signs != nullptr && tables.signs_after;

  const In* in = static_cast<const In*>(p.io.in) + (valid ? row * p.io.in_stride : 0);
  for (int i = thread; i < s.n; i += s.row_threads) {
    float x = valid ? to_float(in[i]) : 0.0f;
    if (p.io.divisor != nullptr) x = x / p.io.divisor[i];
    if (signs_before) x = detail::flip_sign(x, ((tables.random_signs[i / 8] >> (i % 8)) & 1u) != 0);
    values[i] = x;
  }
  __syncthreads();

  if (p.transform) {
    for (int h = 1; h < s.p; h *= 2) {
      for (int q = thread; q < s.n / 2; q += s.row_threads) {
        const int i = (q / h) * 2 * h + q % h;
        detail::butterfly(values[i], values[i + h]);
      }
      __syncthreads();
    }
    if (mixed) {
      const int words = detail::sign_words(s.m);
      for (int i = thread; i < s.n; i += s.row_threads) {
        const int a = i / s.p;
        const int j = i % s.p;
        float sum = 0.0f;
        for (int b0 = 0; b0 < s.m; b0 += 32) {
          const std::uint32_t word = __ldg(tables.base_signs + a * words + b0 / 32);
          const int count = s.m - b0 < 32 ? s.m - b0 : 32;
          for (int bit = 0; bit < count; ++bit)
            sum = detail::add_signed(sum, detail::sign_of(word, bit), values[(b0 + bit) * s.p + j]);
        }
        result[i] = sum;
      }
    }
    // Each thread scales the elements it owns; the barrier publishes them (and the mixed row).
    for (int i = thread; i < s.n; i += s.row_threads) {
      float x = result[i] * tables.scale;
      if (signs_after)
        x = detail::flip_sign(x, ((tables.random_signs[i / 8] >> (i % 8)) & 1u) != 0);
      result[i] = x;
    }
    __syncthreads();
  }

  const staged_row r{
      result, values + (mixed ? 2 * s.n : s.n), s.n, s.row_threads, thread, local_row, row, valid};
  if constexpr (Quantize)
    quantize_staged_row<detail::staged_vector_elements>(r, p.target, shared + s.reduce_offset);
  else
    store_staged_row<detail::staged_vector_elements, In>(r, p.io);
}

ROTQ_CUDA_KERNELS_END
