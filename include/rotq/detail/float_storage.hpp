#pragma once
// Rows stored as Eigen::half or Eigen::bfloat16 are transformed in float: widened before the
// transform and rounded back after it. These are those two conversions for each instruction set,
// of a row and of one register (which the FWHT kernels apply in their first and last passes).
// Every version rounds to nearest even exactly as Eigen's static_cast does, subnormals and
// infinities included, so a row gets the same bits on every instruction set; only a NaN's payload
// may differ (it stays a NaN of its sign).

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <Eigen/Core>

#include "rotq/config.hpp"

#if ROTQ_HAS_X86_DISPATCH
#include <immintrin.h>
#elif ROTQ_HAS_NEON
#include <arm_neon.h>
#endif

namespace rotq {
namespace detail {

/// The two conversions of storage type T for one instruction set. (Eigen::half and bfloat16 are
/// one std::uint16_t each, but not trivial types: their bits are written through void*.)
template <class T>
struct storage_kernels {
  void (*widen)(const T* in, float* out, std::size_t n);
  void (*round)(const float* in, T* out, std::size_t n);
};

template <class T>
void widen_portable(const T* in, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

template <class T>
void round_portable(const float* in, T* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(in[i]);
}

#if ROTQ_HAS_X86_DISPATCH
// Each conversion twice: of one register of eight floats (the lanes functions, which the FWHT
// kernels call in their first and last passes) and of a row. Call them only where
// isa_available(isa::avx2).

// F16C converts eight lanes an instruction with the rounding of static_cast (to nearest even,
// from the immediate rather than MXCSR).
ROTQ_FORCEINLINE __attribute__((target("avx2,f16c"))) __m256 widen_lanes_avx2(
    const Eigen::half* in) {
  __m128i halves;
  std::memcpy(&halves, in, sizeof halves);
  return _mm256_cvtph_ps(halves);
}

ROTQ_FORCEINLINE __attribute__((target("avx2,f16c"))) void round_lanes_avx2(__m256 value,
                                                                            Eigen::half* out) {
  const __m128i halves = _mm256_cvtps_ph(value, _MM_FROUND_TO_NEAREST_INT);
  std::memcpy(static_cast<void*>(out), &halves, sizeof halves);
}

__attribute__((target("avx2,f16c"))) inline void widen_avx2(const Eigen::half* in, float* out,
                                                            std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, widen_lanes_avx2(in + i));
  widen_portable(in + i, out + i, n - i);
}

__attribute__((target("avx2,f16c"))) inline void round_avx2(const float* in, Eigen::half* out,
                                                            std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) round_lanes_avx2(_mm256_loadu_ps(in + i), out + i);
  round_portable(in + i, out + i, n - i);
}

// bfloat16 is the upper half of a float: widening is a shift into place, rounding integer
// arithmetic (round_bfloat16_lanes_avx2). The rows go sixteen lanes a step, so that one pack
// serves two registers.
ROTQ_FORCEINLINE __attribute__((target("avx2"))) __m256 widen_lanes_avx2(
    const Eigen::bfloat16* in) {
  __m128i upper;
  std::memcpy(&upper, in, sizeof upper);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(upper), 16));
}

__attribute__((target("avx2"))) inline void widen_avx2(const Eigen::bfloat16* in, float* out,
                                                       std::size_t n) {
  const __m256i zero = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i upper;
    std::memcpy(&upper, in + i, sizeof upper);
    // Unpacking works within 128-bit halves: order the 64-bit quarters 0, 2, 1, 3 so that the
    // low words of both halves are elements 0-7 and the high words 8-15.
    upper = _mm256_permute4x64_epi64(upper, 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_unpacklo_epi16(zero, upper));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 8),
                        _mm256_unpackhi_epi16(zero, upper));
  }
  if (i + 8 <= n) {
    _mm256_storeu_ps(out + i, widen_lanes_avx2(in + i));
    i += 8;
  }
  widen_portable(in + i, out + i, n - i);
}

/// Eight floats rounded to bfloat16 as Eigen rounds, each in the upper half of its 32-bit lane.
/// Few operations and constants: the FWHT kernels round in their last pass beside the registers
/// of the butterflies.
ROTQ_FORCEINLINE __attribute__((target("avx2"))) __m256i round_bfloat16_lanes_avx2(__m256 value) {
  const __m256i bits = _mm256_castps_si256(value);
  // 0x7fff plus the lowest bit kept (bit 16, shifted to the top and back: no constant): a tie
  // carries into an odd kept half and not into an even one; an infinity has no low bits and stays
  // one.
  const __m256i lowest_kept = _mm256_srli_epi32(_mm256_slli_epi32(bits, 15), 31);
  const __m256i rounded =
      _mm256_add_epi32(bits, _mm256_add_epi32(lowest_kept, _mm256_set1_epi32(0x7fff)));
  // A NaN could round into an infinity or change sign: it keeps its upper half with the quiet bit
  // set instead, a NaN of its sign.
  const __m256 quiet = _mm256_castsi256_ps(_mm256_or_si256(bits, _mm256_set1_epi32(0x00400000)));
  return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(rounded), quiet,
                                              _mm256_cmp_ps(value, value, _CMP_UNORD_Q)));
}

ROTQ_FORCEINLINE __attribute__((target("avx2"))) void round_lanes_avx2(__m256 value,
                                                                       Eigen::bfloat16* out) {
  // The upper halves of each 128-bit half's lanes to its low 8 bytes, then those two quarters
  // side by side.
  const __m256i upper_halves = _mm256_shuffle_epi8(
      round_bfloat16_lanes_avx2(value),
      _mm256_setr_epi8(2, 3, 6, 7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, 2, 3, 6, 7, 10,
                       11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1));
  const __m128i packed = _mm256_castsi256_si128(_mm256_permute4x64_epi64(upper_halves, 0x08));
  std::memcpy(static_cast<void*>(out), &packed, sizeof packed);
}

__attribute__((target("avx2"))) inline void round_avx2(const float* in, Eigen::bfloat16* out,
                                                       std::size_t n) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // The pack interleaves 128-bit halves (0-3, 8-11, 4-7, 12-15); the permute restores order.
    const __m256i packed = _mm256_packus_epi32(
        _mm256_srli_epi32(round_bfloat16_lanes_avx2(_mm256_loadu_ps(in + i)), 16),
        _mm256_srli_epi32(round_bfloat16_lanes_avx2(_mm256_loadu_ps(in + i + 8)), 16));
    const __m256i ordered = _mm256_permute4x64_epi64(packed, 0xd8);
    std::memcpy(static_cast<void*>(out + i), &ordered, sizeof ordered);
  }
  if (i + 8 <= n) {
    round_lanes_avx2(_mm256_loadu_ps(in + i), out + i);
    i += 8;
  }
  round_portable(in + i, out + i, n - i);
}
#endif

#if ROTQ_HAS_NEON
// Each conversion of one register of four floats (the lanes functions, which the FWHT kernels
// call in their first and last passes) and of a row. Conversions between half and float are part
// of every AArch64 processor's Advanced SIMD.
inline float32x4_t widen_lanes_neon(const Eigen::half* in) {
  uint16x4_t halves;
  std::memcpy(&halves, in, sizeof halves);
  return vcvt_f32_f16(vreinterpret_f16_u16(halves));
}

inline void round_lanes_neon(float32x4_t value, Eigen::half* out) {
  const uint16x4_t halves = vreinterpret_u16_f16(vcvt_f16_f32(value));
  std::memcpy(static_cast<void*>(out), &halves, sizeof halves);
}

// bfloat16 is the upper half of a float: widening is a shift into place, rounding the integer
// arithmetic of round_bfloat16_lanes_avx2.
inline float32x4_t widen_lanes_neon(const Eigen::bfloat16* in) {
  uint16x4_t upper;
  std::memcpy(&upper, in, sizeof upper);
  return vreinterpretq_f32_u32(vshll_n_u16(upper, 16));
}

inline void round_lanes_neon(float32x4_t value, Eigen::bfloat16* out) {
  const uint32x4_t bits = vreinterpretq_u32_f32(value);
  const uint32x4_t lowest_kept = vandq_u32(vshrq_n_u32(bits, 16), vdupq_n_u32(1));
  const uint32x4_t rounded = vaddq_u32(bits, vaddq_u32(lowest_kept, vdupq_n_u32(0x7fff)));
  const uint32x4_t quiet_nan =
      vorrq_u32(vandq_u32(bits, vdupq_n_u32(0x80000000u)), vdupq_n_u32(0x7fc00000u));
  const uint32x4_t is_number = vceqq_f32(value, value);
  const uint16x4_t upper = vshrn_n_u32(vbslq_u32(is_number, rounded, quiet_nan), 16);
  std::memcpy(static_cast<void*>(out), &upper, sizeof upper);
}

template <class T>
void widen_neon(const T* in, float* out, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, widen_lanes_neon(in + i));
  widen_portable(in + i, out + i, n - i);
}

template <class T>
void round_neon(const float* in, T* out, std::size_t n) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) round_lanes_neon(vld1q_f32(in + i), out + i);
  round_portable(in + i, out + i, n - i);
}
#endif

/// storage_kernels<T> for each instruction set of this build (a family for active_kernels); each
/// back end's two functions are overloaded for Eigen::half and Eigen::bfloat16. The conversions
/// only move data, so AVX-512 processors, which all have AVX2 and F16C, use the AVX2 ones.
template <class T>
struct storage_tables {
  using table = storage_kernels<T>;
  static const table& portable() {
    static const table kernels{&widen_portable<T>, &round_portable<T>};
    return kernels;
  }
#if ROTQ_HAS_X86_DISPATCH
  static const table& avx2() {
    static const table kernels{&widen_avx2, &round_avx2};
    return kernels;
  }
  static const table& avx512() { return avx2(); }
#endif
#if ROTQ_HAS_NEON
  static const table& neon() {
    static const table kernels{&widen_neon<T>, &round_neon<T>};
    return kernels;
  }
#endif
};

}  // namespace detail
}  // namespace rotq
