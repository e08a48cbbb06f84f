#pragma once
// The AVX-512 back end of the FWHT kernels: 512-bit registers, thirty-two of them (F and DQ).
// Written from the same generic kernels as AVX2 (fwht_simd.hpp); only the register type and the
// register budget differ.

#include <cstddef>

#include "rotq/config.hpp"
#include "rotq/detail/hadamard_base.hpp"

#if ROTQ_HAS_X86_DISPATCH
#include "rotq/detail/float_storage.hpp"
#include "rotq/detail/fwht_bordered_circulant_simd.hpp"
#include "rotq/detail/fwht_circulant_simd.hpp"
#include "rotq/detail/fwht_dense_simd.hpp"
#include "rotq/detail/fwht_lanes_avx2.hpp"
#include "rotq/detail/fwht_simd.hpp"

namespace rotq {
namespace detail {

template <class T>
struct avx512_fwht : lane_lookups_avx2<T> {
  using scalar = T;
  typedef T reg __attribute__((vector_size(64)));
  // Thirty-two registers hold sixteen of data with the constants and temporaries beside them.
  static constexpr std::size_t leaf_registers = 16;
  static constexpr std::size_t pass_registers = 16;
  // Zen 4 has separate add and FMA pipes as Zen 3 does; on Intel cores both kinds share the same
  // two ports and the split costs nothing.
  static constexpr bool split_butterflies = true;
  static constexpr bool inline_assembly = true;  // FMAs and vmovs(l|h)dup as written

  // Rows of Eigen::half or Eigen::bfloat16 (T = float), a register at a time: the AVX2
  // conversions of its two halves (they only move data; one implementation, tested on every
  // AVX2 machine, serves both back ends). Not force-inlined: see avx2_fwht.
  template <class Storage>
  static inline __attribute__((target("avx2,f16c,avx512f"))) void widen(reg& r,
                                                                        const Storage* from) {
    const __m256 low = widen_lanes_avx2(from), high = widen_lanes_avx2(from + 8);
    r = __builtin_shufflevector(low, high, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  }
  template <class Storage>
  static inline __attribute__((target("avx2,f16c,avx512f"))) void round(Storage* to, const reg& r) {
    round_lanes_avx2(__builtin_shufflevector(r, r, 0, 1, 2, 3, 4, 5, 6, 7), to);
    round_lanes_avx2(__builtin_shufflevector(r, r, 8, 9, 10, 11, 12, 13, 14, 15), to + 8);
  }
};

/// sylvester_chunks_portable's contract on AVX-512, In and Out T or a storage type; call only
/// where isa_available(isa::avx512).
template <class T, class In = T, class Out = T>
__attribute__((target("avx2,fma,f16c,avx512f,avx512dq"))) void sylvester_avx512(
    const In* in, Out* out, std::size_t log2n, std::size_t count, T scale, chunk_source source) {
  sylvester_simd<avx512_fwht<T>>(in, out, log2n, count, scale, source);
}

/// apply_base_portable's contract on AVX-512 (`sums` unused: apply_base_simd keeps its own,
/// aligned); call only where isa_available(isa::avx512).
template <class T>
__attribute__((target("avx2,fma,avx512f,avx512dq"))) void apply_base_avx512(
    const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale, T* /*sums*/) {
  apply_base_simd<avx512_fwht<T>>(plan, z, y, p, scale);
}

/// apply_paired_base_portable's contract on AVX-512 (`sums` unused); call only where
/// isa_available(isa::avx512).
template <class T>
__attribute__((target("avx2,fma,avx512f,avx512dq"))) void apply_paired_base_avx512(
    const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale, T* /*sums*/) {
  apply_paired_base_simd<avx512_fwht<T>>(plan, z, y, p, scale);
}

/// apply_dense_portable's contract on AVX-512; call only where isa_available(isa::avx512).
inline __attribute__((target("avx2,fma,avx512f,avx512dq"))) void apply_dense_avx512(
    const dense_sign_columns& h, float* x, float scale) {
  apply_dense_simd<avx512_fwht<float>>(h, x, scale);
}

/// apply_circulant_portable's contract on AVX-512; call only where isa_available(isa::avx512).
inline __attribute__((target("avx2,fma,avx512f,avx512dq"))) void apply_circulant_avx512(
    const circulant_plan& plan, const float* z, float* y, std::size_t p, float scale, float* work) {
  apply_circulant_simd<avx512_fwht<float>>(plan, z, y, p, scale, work);
}

/// apply_bordered_circulant_portable's contract on AVX-512; call only where
/// isa_available(isa::avx512).
inline __attribute__((target("avx2,fma,avx512f,avx512dq"))) void apply_bordered_avx512(
    const bordered_circulant_plan& plan, const float* z, float* y, std::size_t p, float scale,
    float* work) {
  apply_bordered_circulant_simd<avx512_fwht<float>>(plan, z, y, p, scale, work);
}

}  // namespace detail
}  // namespace rotq

#endif  // ROTQ_HAS_X86_DISPATCH
