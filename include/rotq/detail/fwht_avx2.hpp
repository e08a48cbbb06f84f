#pragma once
// The AVX2 back end of the FWHT kernels: 256-bit registers, sixteen of them, with FMA.

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
struct avx2_fwht : lane_lookups_avx2<T> {
  using scalar = T;
  typedef T reg __attribute__((vector_size(32)));
  // Eight data registers per pass leave room for the constants (1, the lane signs) and the
  // temporaries of the butterflies within sixteen; sixteen data registers spill (measured 10-15%
  // slower).
  static constexpr std::size_t leaf_registers = 8;
  static constexpr std::size_t pass_registers = 8;
  // Zen 3 adds on two pipes and multiplies on two others.
  static constexpr bool split_butterflies = true;
  static constexpr bool inline_assembly = true;  // FMAs and vmovs(l|h)dup as written

  // Rows of Eigen::half or Eigen::bfloat16 (T = float), a register at a time. Plain inline, not
  // force-inlined: the generic kernels that call these carry no target, and GCC refuses to
  // force-inline a function with one into them; once those are inlined into the entry point,
  // these are inlined there (checked in the object code: no call remains).
  template <class Storage>
  static inline __attribute__((target("avx2,f16c"))) void widen(reg& r, const Storage* from) {
    r = widen_lanes_avx2(from);
  }
  template <class Storage>
  static inline __attribute__((target("avx2,f16c"))) void round(Storage* to, const reg& r) {
    round_lanes_avx2(r, to);
  }
};

/// sylvester_chunks_portable's contract on AVX2 + FMA (+ F16C for rows of half), In and Out T or
/// a storage type; call only where isa_available(isa::avx2).
template <class T, class In = T, class Out = T>
__attribute__((target("avx2,fma,f16c"))) void sylvester_avx2(const In* in, Out* out,
                                                             std::size_t log2n, std::size_t count,
                                                             T scale, chunk_source source) {
  sylvester_simd<avx2_fwht<T>>(in, out, log2n, count, scale, source);
}

/// apply_base_portable's contract on AVX2 + FMA (`sums` unused: apply_base_simd keeps its own,
/// aligned); call only where isa_available(isa::avx2).
template <class T>
__attribute__((target("avx2,fma"))) void apply_base_avx2(const base_group_plan& plan, const T* z,
                                                         T* y, std::size_t p, T scale,
                                                         T* /*sums*/) {
  apply_base_simd<avx2_fwht<T>>(plan, z, y, p, scale);
}

/// apply_paired_base_portable's contract on AVX2 + FMA (`sums` unused); call only where
/// isa_available(isa::avx2).
template <class T>
__attribute__((target("avx2,fma"))) void apply_paired_base_avx2(const base_group_plan& plan,
                                                                const T* z, T* y, std::size_t p,
                                                                T scale, T* /*sums*/) {
  apply_paired_base_simd<avx2_fwht<T>>(plan, z, y, p, scale);
}

/// apply_dense_portable's contract on AVX2 + FMA; call only where isa_available(isa::avx2).
inline __attribute__((target("avx2,fma"))) void apply_dense_avx2(const dense_sign_columns& h,
                                                                 float* x, float scale) {
  apply_dense_simd<avx2_fwht<float>>(h, x, scale);
}

/// apply_circulant_portable's contract on AVX2 + FMA; call only where isa_available(isa::avx2).
inline __attribute__((target("avx2,fma"))) void apply_circulant_avx2(const circulant_plan& plan,
                                                                     const float* z, float* y,
                                                                     std::size_t p, float scale,
                                                                     float* work) {
  apply_circulant_simd<avx2_fwht<float>>(plan, z, y, p, scale, work);
}

/// apply_bordered_circulant_portable's contract on AVX2; call only where
/// isa_available(isa::avx2).
inline __attribute__((target("avx2,fma"))) void apply_bordered_avx2(
    const bordered_circulant_plan& plan, const float* z, float* y, std::size_t p, float scale,
    float* work) {
  apply_bordered_circulant_simd<avx2_fwht<float>>(plan, z, y, p, scale, work);
}

}  // namespace detail
}  // namespace rotq

#endif  // ROTQ_HAS_X86_DISPATCH
