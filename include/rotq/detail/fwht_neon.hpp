#pragma once
// The NEON back end of the FWHT kernels (AArch64): 128-bit registers, thirty-two of them, with FMA.
// Written from the same generic kernels as AVX2 and AVX-512 (fwht_simd.hpp); only the register
// type and the register budget differ.
//
// The back end's description is also compiled on x86, where test_fwht_isa runs these kernels on
// 128-bit SSE registers: the same schedules (leaf passes of 16 registers of 4 floats, strips of 8
// lanes, chunks of 1 and 2 floats in registers of that many lanes) as an AArch64 build, checked
// bitwise against the portable kernels on every CI run.

#include <cstddef>

#include "rotq/config.hpp"
#include "rotq/detail/float_storage.hpp"
#include "rotq/detail/hadamard_base.hpp"

#if ROTQ_HAS_NEON || ROTQ_HAS_X86_DISPATCH
#include "rotq/detail/fwht_bordered_circulant_simd.hpp"
#include "rotq/detail/fwht_circulant_simd.hpp"
#include "rotq/detail/fwht_dense_simd.hpp"
#include "rotq/detail/fwht_simd.hpp"

namespace rotq {
namespace detail {

template <class T>
struct neon_fwht {
  using scalar = T;
  typedef T reg __attribute__((vector_size(16)));
  // Thirty-two registers hold sixteen of data with the constants and temporaries beside them, as
  // on AVX-512.
  static constexpr std::size_t leaf_registers = 16;
  static constexpr std::size_t pass_registers = 16;
  // The split between add and multiply pipes was measured on Zen only; AArch64 cores issue both
  // on the same pipes.
  static constexpr bool split_butterflies = false;
  // a * b + acc as written, which the compiler may contract into an FMA (GNU modes do): either
  // way it rounds as the addition it stands for, every b being +-1.
  static constexpr bool inline_assembly = false;
  // Rows in lanes (fwht_lanes_avx2.hpp) is AVX2 code; float chunks of one or two elements go
  // through the strips on the same 3-column plans, in registers of one or two lanes.
  static constexpr bool lane_lookups = false;

#if ROTQ_HAS_NEON
  // Rows of Eigen::half or Eigen::bfloat16 (T = float), a register at a time.
  template <class Storage>
  static ROTQ_FORCEINLINE void widen(reg& r, const Storage* from) {
    r = reg(widen_lanes_neon(from));
  }
  template <class Storage>
  static ROTQ_FORCEINLINE void round(Storage* to, const reg& r) {
    round_lanes_neon(float32x4_t(r), to);
  }
#endif
};

#if ROTQ_HAS_NEON
/// sylvester_chunks_portable's contract with NEON, In and Out T or a storage type.
template <class T, class In = T, class Out = T>
void sylvester_neon(const In* in, Out* out, std::size_t log2n, std::size_t count, T scale,
                    chunk_source source) {
  sylvester_simd<neon_fwht<T>>(in, out, log2n, count, scale, source);
}

/// apply_base_portable's contract with NEON (`sums` unused: apply_base_simd keeps its own,
/// aligned).
template <class T>
void apply_base_neon(const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale,
                     T* /*sums*/) {
  apply_base_simd<neon_fwht<T>>(plan, z, y, p, scale);
}

/// apply_paired_base_portable's contract with NEON (`sums` unused).
template <class T>
void apply_paired_base_neon(const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale,
                            T* /*sums*/) {
  apply_paired_base_simd<neon_fwht<T>>(plan, z, y, p, scale);
}

/// apply_dense_portable's contract with NEON.
inline void apply_dense_neon(const dense_sign_columns& h, float* x, float scale) {
  apply_dense_simd<neon_fwht<float>>(h, x, scale);
}

/// apply_circulant_portable's contract on NEON.
inline void apply_circulant_neon(const circulant_plan& plan, const float* z, float* y,
                                 std::size_t p, float scale, float* work) {
  apply_circulant_simd<neon_fwht<float>>(plan, z, y, p, scale, work);
}

/// apply_bordered_circulant_portable's contract on NEON.
inline void apply_bordered_neon(const bordered_circulant_plan& plan, const float* z, float* y,
                                std::size_t p, float scale, float* work) {
  apply_bordered_circulant_simd<neon_fwht<float>>(plan, z, y, p, scale, work);
}
#endif  // ROTQ_HAS_NEON

}  // namespace detail
}  // namespace rotq

#endif  // ROTQ_HAS_NEON || ROTQ_HAS_X86_DISPATCH
