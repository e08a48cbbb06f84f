#pragma once
// The quantiser arithmetic, once, for host and GPU (algorithms.md 6). Every function is
// ROTQ_HOST_DEVICE and built from operations that are correctly rounded in IEEE single precision
// on both sides (division, multiplication by powers of two, rint, integer bit manipulation), so
// the host reference and the CUDA kernels produce bit-identical codes and scales from the same
// float inputs. Nothing here is written as a * b + c (or a * b - c * d): a compiler may contract
// that into an FMA, GCC on the host wherever FMA is enabled and nvcc unless -fmad=false, and the
// result would then depend on how each side was built.

#include <cstdint>
#include <cstring>

#include "rotq/config.hpp"

#if !defined(__CUDACC__)
#include <cmath>
#endif

namespace rotq {
namespace detail {

ROTQ_HOST_DEVICE std::uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

ROTQ_HOST_DEVICE float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

/// Round to the nearest integer, ties to even (the default IEEE rounding mode, which rint uses).
ROTQ_HOST_DEVICE float round_half_even(float x) {
#if defined(__CUDA_ARCH__)
  return rintf(x);
#else
  return std::rint(x);
#endif
}

ROTQ_HOST_DEVICE float abs_value(float x) { return bits_float(float_bits(x) & 0x7fffffffu); }

ROTQ_HOST_DEVICE bool is_nan(float x) { return (float_bits(x) & 0x7fffffffu) > 0x7f800000u; }

ROTQ_HOST_DEVICE bool is_finite(float x) { return (float_bits(x) & 0x7f800000u) != 0x7f800000u; }

/// The larger magnitude seen so far; a NaN wins, so a NaN group is detected rather than hidden.
ROTQ_HOST_DEVICE float max_magnitude(float running, float x) {
  const float a = abs_value(x);
  return (a > running || is_nan(a)) ? a : running;
}

// ---- integers --------------------------------------------------------------------------------

/// The code range of a b-bit integer grid: symmetric [-2^(b-1), 2^(b-1) - 1], asymmetric
/// [0, 2^b - 1].
struct int_grid {
  int low;
  int high;
};

ROTQ_HOST_DEVICE int_grid make_int_grid(int bits, bool symmetric) {
  return symmetric ? int_grid{-(1 << (bits - 1)), (1 << (bits - 1)) - 1}
                   : int_grid{0, (1 << bits) - 1};
}

ROTQ_HOST_DEVICE int clamp_code(float rounded, int_grid grid) {
  // Compare in float first: a huge (or infinite) quotient must not overflow the int conversion.
  if (!(rounded >= static_cast<float>(grid.low))) return grid.low;  // NaN lands here too
  if (rounded > static_cast<float>(grid.high)) return grid.high;
  return static_cast<int>(rounded);
}

/// Symmetric scale: clip * amax / qmax with qmax = 2^(b-1) - 1; an all-zero group gets 1.
ROTQ_HOST_DEVICE float symmetric_scale(float amax, float clip, int bits) {
  const float qmax = static_cast<float>((1 << (bits - 1)) - 1);
  const float scale = (clip * amax) / qmax;
  return scale > 0.0f ? scale : 1.0f;
}

/// Symmetric code of x: clamp(round_half_even(x / scale), -qmax - 1, qmax).
ROTQ_HOST_DEVICE int quantize_symmetric(float x, float scale, int bits) {
  return clamp_code(round_half_even(x / scale), make_int_grid(bits, true));
}

/// Asymmetric parameters of a group with minimum lo <= 0 <= hi (callers widen the range to include
/// 0): the clipped range clip * (hi - lo) is spread over 2^b - 1 steps, and the zero point is
/// round_half_even(-(clip * lo) / scale), which lies in [0, 2^b - 1]. An all-zero group gets
/// scale 1, zero 0.
struct asymmetric_params {
  float scale;
  int zero;
};

ROTQ_HOST_DEVICE asymmetric_params asymmetric_scale(float lo, float hi, float clip, int bits) {
  const float steps = static_cast<float>((1 << bits) - 1);
  // clip * (hi - lo), not clip * hi - clip * lo: a product minus a product is what compilers
  // contract into one fused multiply-add (GCC wherever FMA is enabled, nvcc unless -fmad=false),
  // which would make the scale depend on the build flags.
  const float scale = (clip * (hi - lo)) / steps;
  if (!(scale > 0.0f)) return {1.0f, 0};
  return {scale, clamp_code(round_half_even(-(clip * lo) / scale), make_int_grid(bits, false))};
}

/// Asymmetric code of x: clamp(round_half_even(x / scale) + zero, 0, 2^b - 1).
ROTQ_HOST_DEVICE int quantize_asymmetric(float x, asymmetric_params params, int bits) {
  const float shifted = round_half_even(x / params.scale) + static_cast<float>(params.zero);
  return clamp_code(shifted, make_int_grid(bits, false));
}

ROTQ_HOST_DEVICE float dequantize_symmetric(int code, float scale) {
  return static_cast<float>(code) * scale;
}

ROTQ_HOST_DEVICE float dequantize_asymmetric(int code, asymmetric_params params) {
  return static_cast<float>(code - params.zero) * params.scale;
}

/// The code of x on the b-bit grid of a group with step `scale`: quantize_symmetric when
/// `symmetric` (the zero point is then unused), else quantize_asymmetric with zero point `zero`.
ROTQ_HOST_DEVICE int quantize_int(float x, float scale, int zero, int bits, bool symmetric) {
  return symmetric ? quantize_symmetric(x, scale, bits)
                   : quantize_asymmetric(x, {scale, zero}, bits);
}

/// The value of a code quantize_int gave: dequantize_symmetric or dequantize_asymmetric.
ROTQ_HOST_DEVICE float dequantize_int(int code, float scale, int zero, bool symmetric) {
  return symmetric ? dequantize_symmetric(code, scale) : dequantize_asymmetric(code, {scale, zero});
}

/// Two 4-bit codes in one byte: `low` (element 2i) in bits 0-3, `high` (element 2i + 1) in
/// bits 4-7; signed codes as two's complement nibbles.
ROTQ_HOST_DEVICE std::uint8_t pack_nibbles(int low, int high) {
  return static_cast<std::uint8_t>((low & 0xf) | ((high & 0xf) << 4));
}

/// The nibble `which` (0 low, 1 high) of a packed byte, sign-extended when `is_signed`.
ROTQ_HOST_DEVICE int unpack_nibble(std::uint8_t byte, int which, bool is_signed) {
  const int v = (which == 0 ? byte : byte >> 4) & 0xf;
  return (is_signed && v >= 8) ? v - 16 : v;
}

// ---- FP8 e4m3 (OCP "fn": bias 7, no infinities, max 448, 0x7f / 0xff NaN) --------------------

constexpr float e4m3_max = 448.0f;

/// Round to nearest even, saturating to +-448; NaN stays NaN (0x7f with the sign).
ROTQ_HOST_DEVICE std::uint8_t float_to_e4m3(float x) {
  const std::uint32_t u = float_bits(x);
  const std::uint8_t sign = static_cast<std::uint8_t>((u >> 24) & 0x80u);
  const std::uint32_t magnitude = u & 0x7fffffffu;
  if (magnitude > 0x7f800000u) return static_cast<std::uint8_t>(sign | 0x7f);
  if (magnitude >= 0x43e00000u) return static_cast<std::uint8_t>(sign | 0x7e);  // >= 448, inf
  const int exponent = static_cast<int>(magnitude >> 23) - 127;
  if (exponent < -6) {
    // Subnormal range: multiples of 2^-9. a * 512 is exact; rint rounds half to even. 8 steps is
    // the smallest normal, whose code is 8 as well.
    const float steps = round_half_even(bits_float(magnitude) * 512.0f);
    return static_cast<std::uint8_t>(sign | static_cast<std::uint8_t>(steps));
  }
  // Normal: keep 3 of the 23 mantissa bits, rounding the other 20 half to even; a carry out of the
  // mantissa moves to the next exponent, which the addition does by itself.
  std::uint32_t code = (static_cast<std::uint32_t>(exponent + 7) << 3) | ((magnitude >> 20) & 7u);
  const std::uint32_t rest = magnitude & 0xfffffu;
  if (rest > 0x80000u || (rest == 0x80000u && (code & 1u) != 0)) ++code;
  if (code > 0x7eu) code = 0x7eu;
  return static_cast<std::uint8_t>(sign | code);
}

ROTQ_HOST_DEVICE float e4m3_to_float(std::uint8_t code) {
  const std::uint32_t sign = static_cast<std::uint32_t>(code & 0x80u) << 24;
  const std::uint32_t exponent = (code >> 3) & 0xfu;
  const std::uint32_t mantissa = code & 7u;
  if (exponent == 0xfu && mantissa == 7u) return bits_float(sign | 0x7fc00000u);
  if (exponent == 0) {
    const float value = static_cast<float>(mantissa) * 0.001953125f;  // m * 2^-9, exact
    return bits_float(sign | float_bits(value));
  }
  return bits_float(sign | ((exponent + 120u) << 23) | (mantissa << 20));
}

/// The FP8 scale of a block (a token or a 1 x 128 tile): amax / 448, so the block's largest
/// magnitude lands on the largest e4m3 value; an all-zero block (or one whose quotient underflows)
/// gets 1.
ROTQ_HOST_DEVICE float e4m3_scale(float amax) {
  const float scale = amax / e4m3_max;
  return scale > 0.0f ? scale : 1.0f;
}

/// The e4m3 code of x in a block with the given scale: float_to_e4m3(x / scale).
ROTQ_HOST_DEVICE std::uint8_t quantize_e4m3(float x, float scale) {
  return float_to_e4m3(x / scale);
}

ROTQ_HOST_DEVICE float dequantize_e4m3(std::uint8_t code, float scale) {
  return e4m3_to_float(code) * scale;
}

// ---- FP4 e2m1: magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6}, sign in bit 3 -------------------------

constexpr float e2m1_max = 6.0f;

/// Round to nearest, ties to the even code (0.25 -> 0, 0.75 -> 1, 1.25 -> 1, 1.75 -> 2, 2.5 -> 2,
/// 3.5 -> 4, 5 -> 4), saturating to 6; NaN saturates too (e2m1 has no NaN). Returns the 4-bit code.
ROTQ_HOST_DEVICE std::uint8_t float_to_e2m1(float x) {
  const std::uint8_t sign = (float_bits(x) >> 31) != 0 ? 0x8 : 0x0;
  const float a = abs_value(x);
  std::uint8_t code;
  // clang-format off
  if (is_nan(a)) code = 7;
  else if (a <= 0.25f) code = 0;
  else if (a < 0.75f) code = 1;
  else if (a <= 1.25f) code = 2;
  else if (a < 1.75f) code = 3;
  else if (a <= 2.5f) code = 4;
  else if (a < 3.5f) code = 5;
  else if (a <= 5.0f) code = 6;
  else code = 7;
  // clang-format on
  return static_cast<std::uint8_t>(sign | code);
}

ROTQ_HOST_DEVICE float e2m1_to_float(std::uint8_t code) {
  // Magnitude codes 0..7: 0, 0.5, 1, 1.5, 2, 3, 4, 6 (in halves: 0, 1, 2, 3, 4, 6, 8, 12).
  const int m = code & 7;
  const int halves = m < 4 ? m : (m == 4 ? 4 : (m == 5 ? 6 : (m == 6 ? 8 : 12)));
  const float value = static_cast<float>(halves) * 0.5f;
  return (code & 8) != 0 ? -value : value;
}

/// The e2m1 code of x in a block whose elements are multiples of `scale`: float_to_e2m1(x / scale).
/// A zero scale (an NVFP4 block scale that underflowed e4m3) gives code 0: every element of such a
/// block decodes to 0 whatever its code, and 0 says so.
ROTQ_HOST_DEVICE std::uint8_t quantize_e2m1(float x, float scale) {
  return scale > 0.0f ? float_to_e2m1(x / scale) : std::uint8_t{0};
}

ROTQ_HOST_DEVICE float dequantize_e2m1(std::uint8_t code, float scale) {
  return e2m1_to_float(code) * scale;
}

// ---- E8M0 shared scales (OCP MX): 2^(code - 127), 0xff NaN --------------------------------------

/// The MX shared scale of a block with magnitude maximum amax for elements whose largest power of
/// two is 2^emax (2 for e2m1): 2^(floor(log2 amax) - emax), clamped to the e8m0 range. A zero (or
/// subnormal-only) block gets 2^0 so it decodes to zeros; NaN or Inf amax gives the NaN code.
ROTQ_HOST_DEVICE std::uint8_t mx_shared_scale(float amax, int emax) {
  const std::uint32_t u = float_bits(amax) & 0x7fffffffu;
  if (u >= 0x7f800000u) return 0xff;
  if (u < 0x00800000u) return 127;
  const int exponent = static_cast<int>(u >> 23) - 127 - emax;
  const int code = exponent + 127;
  return static_cast<std::uint8_t>(code < 0 ? 0 : (code > 254 ? 254 : code));
}

ROTQ_HOST_DEVICE float e8m0_to_float(std::uint8_t code) {
  if (code == 0xff) return bits_float(0x7fc00000u);
  if (code == 0) return bits_float(0x00400000u);  // 2^-127 is a float subnormal
  return bits_float(static_cast<std::uint32_t>(code) << 23);
}

// ---- MXFP4 and NVFP4 block scales -------------------------------------------------------------

/// Elements per MXFP4 block (one e8m0 scale each) and per NVFP4 block (one e4m3 scale each).
constexpr int mxfp4_block_size = 32;
constexpr int nvfp4_block_size = 16;

/// The e8m0 code of an MXFP4 block's shared scale 2^(floor(log2 amax) - 2): e2m1's largest power of
/// two is 2^2, so the block maximum lands in [4, 8) and saturates to 6 above 6.
ROTQ_HOST_DEVICE std::uint8_t mxfp4_scale(float amax) { return mx_shared_scale(amax, 2); }

/// NVFP4's second-level fp32 scale g of a tensor with magnitude maximum amax: amax / (448 * 6), so
/// the block with the tensor's maximum gets block scale 448; an all-zero tensor (or an underflow)
/// gets 1. A per-row kernel that cannot see the whole tensor takes g as an argument instead.
ROTQ_HOST_DEVICE float nvfp4_global_scale(float amax) {
  const float global = amax / (e4m3_max * e2m1_max);
  return global > 0.0f ? global : 1.0f;
}

/// The e4m3 code of an NVFP4 block scale: float_to_e4m3(amax / (6 * global)), saturating at 448
/// when g is smaller than the block needs.
ROTQ_HOST_DEVICE std::uint8_t nvfp4_block_scale(float amax, float global) {
  return float_to_e4m3(amax / (e2m1_max * global));
}

/// The step of an NVFP4 block's elements: decoded block scale times g (0 when the block scale
/// underflowed to code 0).
ROTQ_HOST_DEVICE float nvfp4_element_scale(std::uint8_t block_scale, float global) {
  return e4m3_to_float(block_scale) * global;
}

}  // namespace detail
}  // namespace rotq
