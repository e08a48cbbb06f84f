#pragma once
// One quantisation group on the GPU: its running statistics, its scale (and zero point), and the
// bytes of a vector of its codes. Every number comes from the functions of
// rotq/detail/quant_math.hpp, combined as the host quantisers combine them (rotq/quantize.hpp:
// int_group.hpp's find_group_params, quant_math.hpp's quantize_int, fp_block_formats.hpp's
// formats), so codes and scales match the host bit for bit. The host tests check that on every
// format.

#include <cstdint>

#include "rotq/config.hpp"
#include "rotq/detail/quant_math.hpp"

namespace rotq {
namespace cuda {
namespace detail {

enum class code_kind : int { integer, e4m3, mxfp4, nvfp4 };

/// The output format as a kernel sees it (plain data, passed by value).
struct code_format {
  code_kind kind = code_kind::integer;
  int bits = 8;               ///< integer codes: 8 or 4
  bool symmetric = true;      ///< integer codes
  float clip = 1.0f;          ///< integer codes
  float global_scale = 1.0f;  ///< nvfp4
  int group_size = 0;         ///< elements per scale (the row length for one scale per row)
};

/// True when two codes share a byte (int4, and the e2m1 elements of MXFP4 / NVFP4).
ROTQ_HOST_DEVICE constexpr bool packs_nibbles(const code_format& f) {
  return f.kind == code_kind::mxfp4 || f.kind == code_kind::nvfp4 ||
         (f.kind == code_kind::integer && f.bits == 4);
}

/// True when the group needs its range (asymmetric integers) rather than its magnitude maximum.
ROTQ_HOST_DEVICE constexpr bool tracks_range(const code_format& f) {
  return f.kind == code_kind::integer && !f.symmetric;
}

/// True when the stored scale is one byte (e8m0 or e4m3) rather than an fp32 step.
ROTQ_HOST_DEVICE constexpr bool byte_scales(const code_format& f) {
  return f.kind == code_kind::mxfp4 || f.kind == code_kind::nvfp4;
}

/// A group's statistics so far: {max |x|, unused} or, when tracks_range, {min(0, x...),
/// max(0, x...)}, the range the host widens to include 0.
struct group_stats {
  float first = 0.0f;
  float second = 0.0f;
};

ROTQ_HOST_DEVICE group_stats add_value(group_stats s, float x, bool range) {
  if (range) {
    // std::min(lo, x) and std::max(hi, x), as the host writes them.
    s.first = x < s.first ? x : s.first;
    s.second = s.second < x ? x : s.second;
  } else {
    s.first = rotq::detail::max_magnitude(s.first, x);
  }
  return s;
}

/// The statistics of two disjoint parts of a group; equal to adding their values one by one in
/// any order (the maxima and minima are exact, and max_magnitude keeps a NaN).
ROTQ_HOST_DEVICE group_stats merge_stats(group_stats a, group_stats b, bool range) {
  if (range) {
    a.first = b.first < a.first ? b.first : a.first;
    a.second = a.second < b.second ? b.second : a.second;
  } else {
    a.first = rotq::detail::max_magnitude(a.first, b.first);
  }
  return a;
}

template <int E>
ROTQ_HOST_DEVICE group_stats vector_stats(const float (&x)[E], bool range) {
  group_stats s;
  ROTQ_UNROLL
  for (int e = 0; e < E; ++e) s = add_value(s, x[e], range);
  return s;
}

/// What the elements of a group are divided by (`step`), the integer zero point, and the stored
/// scale byte of MXFP4 (e8m0) / NVFP4 (e4m3).
struct group_params {
  float step = 1.0f;
  int zero = 0;
  std::uint8_t stored = 0;
};

ROTQ_HOST_DEVICE group_params make_group_params(const code_format& f, group_stats s) {
  namespace math = rotq::detail;
  group_params p;
  switch (f.kind) {
    case code_kind::integer:
      if (f.symmetric) {
        p.step = math::symmetric_scale(s.first, f.clip, f.bits);
      } else {
        const math::asymmetric_params a = math::asymmetric_scale(s.first, s.second, f.clip, f.bits);
        p.step = a.scale;
        p.zero = a.zero;
      }
      break;
    case code_kind::e4m3: p.step = math::e4m3_scale(s.first); break;
    case code_kind::mxfp4:
      p.stored = math::mxfp4_scale(s.first);
      p.step = math::e8m0_to_float(p.stored);
      break;
    case code_kind::nvfp4:
      p.stored = math::nvfp4_block_scale(s.first, f.global_scale);
      p.step = math::nvfp4_element_scale(p.stored, f.global_scale);
      break;
  }
  return p;
}

/// Bytes of codes for E elements: E, or E / 2 when two codes share a byte.
template <int E>
ROTQ_HOST_DEVICE constexpr int vector_code_bytes(const code_format& f) {
  return packs_nibbles(f) ? E / 2 : E;
}

/// The code bytes of E consecutive elements of one group (E even), in memory order: byte i is
/// element i, or for packed formats elements 2i (low nibble) and 2i + 1 (high nibble). Only the
/// first vector_code_bytes<E>(f) bytes are written.
template <int E>
ROTQ_HOST_DEVICE void encode_vector(const code_format& f, const float (&x)[E], group_params p,
                                    std::uint8_t (&bytes)[E]) {
  namespace math = rotq::detail;
  static_assert(E % 2 == 0, "codes are packed in pairs");
  switch (f.kind) {
    case code_kind::integer: {
      int codes[E];
      ROTQ_UNROLL
      for (int e = 0; e < E; ++e)
        codes[e] = math::quantize_int(x[e], p.step, p.zero, f.bits, f.symmetric);
      if (f.bits == 4) {
        ROTQ_UNROLL
        for (int i = 0; i < E / 2; ++i)
          bytes[i] = math::pack_nibbles(codes[2 * i], codes[2 * i + 1]);
      } else {
        ROTQ_UNROLL
        for (int e = 0; e < E; ++e) bytes[e] = static_cast<std::uint8_t>(codes[e] & 0xff);
      }
      break;
    }
    case code_kind::e4m3:
      ROTQ_UNROLL
      for (int e = 0; e < E; ++e) bytes[e] = math::quantize_e4m3(x[e], p.step);
      break;
    case code_kind::mxfp4:
    case code_kind::nvfp4:
      ROTQ_UNROLL
      for (int i = 0; i < E / 2; ++i)
        bytes[i] = math::pack_nibbles(math::quantize_e2m1(x[2 * i], p.step),
                                      math::quantize_e2m1(x[2 * i + 1], p.step));
      break;
  }
}

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
