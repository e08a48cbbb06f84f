// Tests for <rotq/detail/quant_math.hpp>, the quantiser arithmetic shared with the CUDA kernels:
// every format against its definition (decoded values from the bit fields, encodings from a
// brute-force nearest search with ties to the even code) and hand-computed values.

#include <rotq/detail/quant_math.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

using rotq::detail::e2m1_to_float;
using rotq::detail::e4m3_to_float;
using rotq::detail::e8m0_to_float;
using rotq::detail::float_to_e2m1;
using rotq::detail::float_to_e4m3;

// OCP e4m3fn from its fields: bias 7, subnormals 2^-6 * m / 8, S.1111.111 is NaN.
double e4m3_definition(unsigned code) {
  const double sign = (code & 0x80u) != 0 ? -1.0 : 1.0;
  const unsigned exponent = (code >> 3) & 0xfu;
  const unsigned mantissa = code & 7u;
  if (exponent == 0xfu && mantissa == 7u) return std::numeric_limits<double>::quiet_NaN();
  if (exponent == 0) return sign * std::ldexp(mantissa / 8.0, -6);
  return sign * std::ldexp(1.0 + mantissa / 8.0, int(exponent) - 7);
}

// The non-negative finite e4m3 values by code, 0x00 .. 0x7e.
std::vector<double> e4m3_magnitudes() {
  std::vector<double> values;
  for (unsigned code = 0; code <= 0x7e; ++code) values.push_back(e4m3_definition(code));
  return values;
}

// Nearest e4m3 code of a finite x by exhaustive search, ties to the even code, saturating.
std::uint8_t e4m3_brute_force(float x) {
  static const std::vector<double> magnitudes = e4m3_magnitudes();
  const double a = std::min(std::abs(double(x)), 448.0);
  unsigned best = 0;
  for (unsigned code = 1; code < magnitudes.size(); ++code) {
    const double d = std::abs(magnitudes[code] - a), best_d = std::abs(magnitudes[best] - a);
    if (d < best_d || (d == best_d && code % 2 == 0)) best = code;
  }
  return static_cast<std::uint8_t>((std::signbit(x) ? 0x80u : 0u) | best);
}

const double e2m1_magnitudes[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};

std::uint8_t e2m1_brute_force(float x) {
  const double a = std::abs(double(x));
  unsigned best = 0;
  for (unsigned code = 1; code < 8; ++code) {
    const double d = std::abs(e2m1_magnitudes[code] - a),
                 best_d = std::abs(e2m1_magnitudes[best] - a);
    if (d < best_d || (d == best_d && code % 2 == 0)) best = code;
  }
  return static_cast<std::uint8_t>((std::signbit(x) ? 8u : 0u) | best);
}

bool same_bits(float a, float b) {
  return rotq::detail::float_bits(a) == rotq::detail::float_bits(b);
}

}  // namespace

TEST_CASE("e4m3 decodes every one of the 256 codes by its definition", "[quant_math][e4m3]") {
  for (unsigned code = 0; code < 256; ++code) {
    const double expected = e4m3_definition(code);
    const float decoded = e4m3_to_float(static_cast<std::uint8_t>(code));
    INFO("code " << code);
    if (std::isnan(expected)) {
      CHECK(std::isnan(decoded));
    } else {
      CHECK(double(decoded) == expected);
      CHECK(std::signbit(decoded) == ((code & 0x80u) != 0));  // -0 stays -0
    }
  }
}

TEST_CASE("e4m3 round trips every code, NaN and -0 included", "[quant_math][e4m3]") {
  for (unsigned code = 0; code < 256; ++code) {
    INFO("code " << code);
    CHECK(unsigned(float_to_e4m3(e4m3_to_float(static_cast<std::uint8_t>(code)))) == code);
  }
}

TEST_CASE("e4m3 rounds to nearest with ties to the even code", "[quant_math][e4m3]") {
  const std::vector<double> magnitudes = e4m3_magnitudes();
  for (unsigned code = 0; code + 1 < magnitudes.size(); ++code) {
    // The midpoint of two neighbours is exact in float; it goes to the even code, and one float
    // step either side goes to the nearer neighbour.
    const float mid = static_cast<float>((magnitudes[code] + magnitudes[code + 1]) / 2);
    const unsigned even = code % 2 == 0 ? code : code + 1;
    INFO("between codes " << code << " and " << code + 1);
    CHECK(unsigned(float_to_e4m3(mid)) == even);
    CHECK(unsigned(float_to_e4m3(-mid)) == (0x80u | even));
    CHECK(unsigned(float_to_e4m3(std::nextafter(mid, 0.0f))) == code);
    CHECK(unsigned(float_to_e4m3(std::nextafter(mid, 1000.0f))) == code + 1);
  }
  // A sweep over many binades against the exhaustive search.
  for (float x = 1e-5f; x < 600.0f; x *= 1.0009765625f) {
    INFO("x = " << x);
    CHECK(float_to_e4m3(x) == e4m3_brute_force(x));
    CHECK(float_to_e4m3(-x) == e4m3_brute_force(-x));
  }
}

TEST_CASE("e4m3 known values: saturation, subnormals, signed zero, NaN", "[quant_math][e4m3]") {
  CHECK(float_to_e4m3(448.0f) == 0x7e);
  CHECK(float_to_e4m3(464.0f) == 0x7e);  // would round up to 480, which e4m3fn does not have
  CHECK(float_to_e4m3(1e6f) == 0x7e);
  CHECK(float_to_e4m3(std::numeric_limits<float>::infinity()) == 0x7e);
  CHECK(float_to_e4m3(-std::numeric_limits<float>::infinity()) == 0xfe);
  CHECK(float_to_e4m3(-448.0f) == 0xfe);
  CHECK(float_to_e4m3(1.0f) == 0x38);           // 2^0: exponent field 0 + 7, mantissa 0
  CHECK(float_to_e4m3(-224.0f) == 0xf6);        // 1.75 * 2^7: exponent 14, mantissa 6
  CHECK(float_to_e4m3(0.015625f) == 0x08);      // 2^-6, the smallest normal
  CHECK(float_to_e4m3(0.001953125f) == 0x01);   // 2^-9, the smallest subnormal
  CHECK(float_to_e4m3(1e-3f) == 0x01);          // 0.512 steps of 2^-9 -> 1
  CHECK(float_to_e4m3(0.0009765625f) == 0x00);  // half a step: tie to even 0
  CHECK(float_to_e4m3(0.0029296875f) == 0x02);  // 1.5 steps: tie to even 2
  CHECK(float_to_e4m3(0.013671875f) == 0x07);   // 7 steps, the largest subnormal
  CHECK(float_to_e4m3(0.0146484375f) == 0x08);  // 7.5 steps: tie to even 8, the smallest normal
  CHECK(float_to_e4m3(1e-30f) == 0x00);
  CHECK(float_to_e4m3(0.0f) == 0x00);
  CHECK(float_to_e4m3(-0.0f) == 0x80);
  CHECK(float_to_e4m3(std::numeric_limits<float>::quiet_NaN()) == 0x7f);
  CHECK(float_to_e4m3(-std::numeric_limits<float>::quiet_NaN()) == 0xff);
  CHECK(e4m3_to_float(0x7e) == 448.0f);
  CHECK(e4m3_to_float(0x01) == 0.001953125f);
}

TEST_CASE("e2m1 decodes, round trips and rounds ties to the even code", "[quant_math][e2m1]") {
  for (unsigned code = 0; code < 16; ++code) {
    const double expected = ((code & 8u) != 0 ? -1.0 : 1.0) * e2m1_magnitudes[code & 7u];
    INFO("code " << code);
    CHECK(double(e2m1_to_float(static_cast<std::uint8_t>(code))) == expected);
    CHECK(unsigned(float_to_e2m1(e2m1_to_float(static_cast<std::uint8_t>(code)))) == code);
  }
  // Every multiple of 1/64 in [-8, 8] covers all midpoints (0.25, 0.75, ..., 5) and their
  // neighbourhoods.
  for (int i = -512; i <= 512; ++i) {
    const float x = float(i) / 64.0f;
    INFO("x = " << x);
    CHECK(float_to_e2m1(x) == e2m1_brute_force(x));
  }
}

TEST_CASE("e2m1 known values", "[quant_math][e2m1]") {
  CHECK(float_to_e2m1(0.25f) == 0);  // tie between 0 and 0.5: even code 0
  CHECK(float_to_e2m1(0.75f) == 2);  // tie between 0.5 and 1: even code 2 (1.0)
  CHECK(float_to_e2m1(1.25f) == 2);
  CHECK(float_to_e2m1(1.75f) == 4);  // 2.0
  CHECK(float_to_e2m1(2.5f) == 4);   // tie between 2 and 3: code 4 (2.0)
  CHECK(float_to_e2m1(3.5f) == 6);   // 4.0
  CHECK(float_to_e2m1(5.0f) == 6);   // tie between 4 and 6: code 6 (4.0)
  CHECK(float_to_e2m1(7.0f) == 7);   // saturates at 6
  CHECK(float_to_e2m1(1e30f) == 7);
  CHECK(float_to_e2m1(-2.5f) == 12);  // sign bit 3
  CHECK(float_to_e2m1(-0.0f) == 8);
  CHECK(float_to_e2m1(-0.1f) == 8);
  CHECK((float_to_e2m1(std::numeric_limits<float>::quiet_NaN()) & 7) == 7);
}

TEST_CASE("e8m0 values and the MX shared scale", "[quant_math][e8m0]") {
  CHECK(e8m0_to_float(127) == 1.0f);
  CHECK(e8m0_to_float(128) == 2.0f);
  CHECK(e8m0_to_float(1) == std::ldexp(1.0f, -126));
  CHECK(double(e8m0_to_float(0)) == std::ldexp(1.0, -127));
  CHECK(e8m0_to_float(254) == std::ldexp(1.0f, 127));
  CHECK(std::isnan(e8m0_to_float(255)));
  for (unsigned code = 1; code < 255; ++code)
    CHECK(double(e8m0_to_float(std::uint8_t(code))) == std::ldexp(1.0, int(code) - 127));
  using rotq::detail::mx_shared_scale;
  CHECK(mx_shared_scale(6.0f, 2) == 127);  // floor(log2 6) = 2: 2^0
  CHECK(mx_shared_scale(4.0f, 2) == 127);
  CHECK(mx_shared_scale(7.99f, 2) == 127);
  CHECK(mx_shared_scale(8.0f, 2) == 128);
  CHECK(mx_shared_scale(1.0f, 2) == 125);    // 2^-2
  CHECK(mx_shared_scale(0.75f, 2) == 124);   // floor(log2 0.75) = -1: 2^-3
  CHECK(mx_shared_scale(3e38f, 2) == 252);   // 2^(127 - 2)
  CHECK(mx_shared_scale(0.0f, 2) == 127);    // all-zero block decodes to zeros with 2^0
  CHECK(mx_shared_scale(1e-39f, 2) == 127);  // subnormal-only block: same
  CHECK(mx_shared_scale(std::ldexp(1.0f, -126), 2) == 0);  // 2^-128 clamps to the smallest, 2^-127
  CHECK(mx_shared_scale(std::numeric_limits<float>::quiet_NaN(), 2) == 0xff);
  CHECK(mx_shared_scale(std::numeric_limits<float>::infinity(), 2) == 0xff);
  CHECK(rotq::detail::mxfp4_scale(6.0f) == 127);
}

TEST_CASE("integer grid: half-even rounding, clamping, scales", "[quant_math][int]") {
  using rotq::detail::quantize_symmetric;
  CHECK(rotq::detail::symmetric_scale(7.0f, 1.0f, 4) == 1.0f);
  CHECK(rotq::detail::symmetric_scale(127.0f, 0.5f, 8) == 0.5f);
  CHECK(rotq::detail::symmetric_scale(0.0f, 1.0f, 4) == 1.0f);
  CHECK(quantize_symmetric(2.5f, 1.0f, 4) == 2);
  CHECK(quantize_symmetric(3.5f, 1.0f, 4) == 4);
  CHECK(quantize_symmetric(-2.5f, 1.0f, 4) == -2);
  CHECK(quantize_symmetric(0.5f, 1.0f, 4) == 0);
  CHECK(quantize_symmetric(-0.5f, 1.0f, 4) == 0);
  CHECK(quantize_symmetric(7.5f, 1.0f, 4) == 7);
  CHECK(quantize_symmetric(-8.5f, 1.0f, 4) == -8);
  CHECK(quantize_symmetric(-100.0f, 1.0f, 4) == -8);
  CHECK(quantize_symmetric(1e30f, 1e-30f, 8) == 127);  // a quotient beyond int range clamps
  CHECK(quantize_symmetric(-std::numeric_limits<float>::infinity(), 1.0f, 2) == -2);

  // Asymmetric 4-bit over [-2, 5.5]: scale 7.5 / 15 = 0.5, zero round(2 / 0.5) = 4.
  const auto params = rotq::detail::asymmetric_scale(-2.0f, 5.5f, 1.0f, 4);
  CHECK(params.scale == 0.5f);
  CHECK(params.zero == 4);
  CHECK(rotq::detail::quantize_asymmetric(1.25f, params, 4) == 6);  // 2.5 -> 2, + 4
  CHECK(rotq::detail::quantize_asymmetric(5.5f, params, 4) == 15);
  CHECK(rotq::detail::quantize_asymmetric(9.0f, params, 4) == 15);
  CHECK(rotq::detail::quantize_asymmetric(-2.0f, params, 4) == 0);
  CHECK(rotq::detail::quantize_asymmetric(-3.0f, params, 4) == 0);
  CHECK(rotq::detail::dequantize_asymmetric(6, params) == 1.0f);
  const auto zero_group = rotq::detail::asymmetric_scale(0.0f, 0.0f, 1.0f, 4);
  CHECK(zero_group.scale == 1.0f);
  CHECK(zero_group.zero == 0);
}

namespace {

// The asymmetric parameters as the definition writes them, each float operation done in double
// and rounded to float once: exact, since double has more than 2 * 24 + 2 bits (Figueroa), so
// nothing here can differ from correctly rounded float arithmetic except by a wrong formula.
rotq::detail::asymmetric_params asymmetric_definition(float lo, float hi, float clip, int bits) {
  const float range = static_cast<float>(double(hi) - double(lo));
  const float clipped = static_cast<float>(double(clip) * double(range));
  const float scale = static_cast<float>(double(clipped) / double((1 << bits) - 1));
  const float clipped_lo = static_cast<float>(double(clip) * double(lo));
  const float zero = std::nearbyint(static_cast<float>(-double(clipped_lo) / double(scale)));
  return {scale, static_cast<int>(zero)};
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define ROTQ_TEST_FMA_CODE 1
// asymmetric_scale inlined into code compiled for FMA, where GCC contracts a product followed by
// a sum into a fused multiply-add unless the expression leaves none to contract.
__attribute__((target("fma"), flatten)) rotq::detail::asymmetric_params asymmetric_scale_in_fma_code(
    float lo, float hi, float clip, int bits) {
  return rotq::detail::asymmetric_scale(lo, hi, clip, bits);
}
#endif

}  // namespace

TEST_CASE("clipped asymmetric scales round as clip * (hi - lo) / (2^b - 1), however compiled",
          "[quant_math][int]") {
  std::uint64_t state = 7;
  auto uniform = [&state] {  // a fixed LCG: the same ranges on every platform
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(state >> 40) / static_cast<float>(1u << 24);
  };
#if ROTQ_TEST_FMA_CODE
  const bool fma = __builtin_cpu_supports("fma");
#endif
  std::size_t differ = 0, differ_in_fma_code = 0;
  for (int i = 0; i < 20000; ++i) {
    const float lo = -8.0f * uniform();
    const float hi = 8.0f * uniform();
    const float clip = 0.5f + 0.5f * uniform();
    const int bits = 2 + i % 7;
    const auto expected = asymmetric_definition(lo, hi, clip, bits);
    const auto actual = rotq::detail::asymmetric_scale(lo, hi, clip, bits);
    differ += actual.scale != expected.scale || actual.zero != expected.zero;
#if ROTQ_TEST_FMA_CODE
    if (fma) {
      const auto in_fma_code = asymmetric_scale_in_fma_code(lo, hi, clip, bits);
      differ_in_fma_code += in_fma_code.scale != expected.scale || in_fma_code.zero != expected.zero;
    }
#endif
  }
  CHECK(differ == 0);
  CHECK(differ_in_fma_code == 0);
  // A hand-worked case: clip 0.75 over [-2, 5.5] at 4 bits: 0.75 * 7.5 / 15 = 0.375, zero
  // round(1.5 / 0.375) = 4.
  const auto params = rotq::detail::asymmetric_scale(-2.0f, 5.5f, 0.75f, 4);
  CHECK(params.scale == 0.375f);
  CHECK(params.zero == 4);
}

TEST_CASE("nibbles pack element 2i low, sign-extend on the way back", "[quant_math][int]") {
  for (int low = -8; low < 16; ++low) {
    for (int high = -8; high < 16; ++high) {
      const std::uint8_t byte = rotq::detail::pack_nibbles(low, high);
      CHECK(byte == (((high & 15) << 4) | (low & 15)));
      const bool is_signed = low < 8 && high < 8;
      if (is_signed && (low < 0 || high < 0)) {
        CHECK(rotq::detail::unpack_nibble(byte, 0, true) == low);
        CHECK(rotq::detail::unpack_nibble(byte, 1, true) == high);
      }
      if (low >= 0 && high >= 0) {
        CHECK(rotq::detail::unpack_nibble(byte, 0, false) == low);
        CHECK(rotq::detail::unpack_nibble(byte, 1, false) == high);
      }
    }
  }
  CHECK(rotq::detail::pack_nibbles(-8, 7) == 0x78);
  CHECK(rotq::detail::pack_nibbles(-1, 0) == 0x0f);
}

TEST_CASE("FP8 and NVFP4 scale helpers", "[quant_math][fp8][nvfp4]") {
  using namespace rotq::detail;
  CHECK(e4m3_scale(448.0f) == 1.0f);
  CHECK(e4m3_scale(896.0f) == 2.0f);
  CHECK(e4m3_scale(0.0f) == 1.0f);
  CHECK(e4m3_scale(1e-45f) == 1.0f);  // the quotient underflows: treated as an all-zero block
  CHECK(quantize_e4m3(448.0f, e4m3_scale(448.0f)) == 0x7e);
  CHECK(dequantize_e4m3(0x38, 0.5f) == 0.5f);
  CHECK(nvfp4_global_scale(2688.0f) == 1.0f);  // 448 * 6
  CHECK(nvfp4_global_scale(0.0f) == 1.0f);
  CHECK(nvfp4_block_scale(12.0f, 1.0f) == 0x40);  // 12 / 6 = 2
  CHECK(nvfp4_block_scale(19.8f, 1.0f) == 0x45);  // 3.3 -> 3.25 = 1.625 * 2
  CHECK(nvfp4_block_scale(1e4f, 1.0f) == 0x7e);   // saturates at 448
  CHECK(nvfp4_element_scale(0x45, 0.5f) == 1.625f);
  CHECK(nvfp4_element_scale(0x00, 1.0f) == 0.0f);
  CHECK(quantize_e2m1(5.0f, 0.0f) == 0);  // an underflowed block scale gives code 0
  CHECK(quantize_e2m1(-3.0f, 0.5f) == 15);
  CHECK(dequantize_e2m1(15, 0.5f) == -3.0f);
  CHECK(same_bits(dequantize_e2m1(8, 1.0f), -0.0f));
}
