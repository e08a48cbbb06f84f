// Tests for <rotq/quantize.hpp>: integer, FP8, MXFP4 and NVFP4 quantisers against hand-worked
// codes, layouts and error bounds; fake quantisation against dequantize(quantize(x)) bit for bit.

#include <rotq/quantize.hpp>

#include <Eigen/Core>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/matrices.hpp"
#include "support/quantization_checks.hpp"

namespace {

using rotq_test::bitwise_equal;
using rotq_test::dequantized;
using rotq_test::gaussian;
using rotq_test::row_major_f;

row_major_f rows_of(std::initializer_list<std::initializer_list<float>> rows) {
  row_major_f m(Eigen::Index(rows.size()), Eigen::Index(rows.begin()->size()));
  Eigen::Index r = 0;
  for (const auto& row : rows) {
    Eigen::Index c = 0;
    for (float v : row) m(r, c++) = v;
    ++r;
  }
  return m;
}

std::vector<float> values_of(const row_major_f& m) {
  return std::vector<float>(m.data(), m.data() + m.size());
}

}  // namespace

// ---- integers ----------------------------------------------------------------------------------

TEST_CASE("symmetric 4-bit codes of a hand-worked row round ties to even", "[quantize][int]") {
  // amax 7 gives scale 7 / 7 = 1, so each code is x rounded half to even.
  const row_major_f x = rows_of({{2.5f, 3.5f, -2.5f, 0.5f, 1.5f, -7.0f, 7.0f, 0.0f}});
  const rotq::int_codes q = rotq::quantize_rows(x, {4, true, 0, 1.0});
  CHECK(q.codes == std::vector<std::int32_t>{2, 4, -2, 0, 2, -7, 7, 0});
  CHECK(q.scales == std::vector<float>{1.0f});
  CHECK(q.zeros.empty());
  CHECK(q.group_size == 8);
  CHECK(values_of(dequantized(q)) == std::vector<float>{2, 4, -2, 0, 2, -7, 7, 0});
}

TEST_CASE("clip shrinks the scale and codes clamp at qmax and -qmax - 1", "[quantize][int]") {
  // clip 0.5: scale 0.5 * 7 / 7 = 0.5; -7 / 0.5 = -14 clamps to -8, 7 / 0.5 = 14 to 7.
  const row_major_f x = rows_of({{2.5f, 3.5f, -2.5f, 0.5f, 1.5f, -7.0f, 7.0f, 0.0f}});
  const rotq::int_codes q = rotq::quantize_rows(x, {4, true, 0, 0.5});
  CHECK(q.codes == std::vector<std::int32_t>{5, 7, -5, 1, 3, -8, 7, 0});
  CHECK(q.scales == std::vector<float>{0.5f});
  CHECK(values_of(dequantized(q)) ==
        std::vector<float>{2.5f, 3.5f, -2.5f, 0.5f, 1.5f, -4.0f, 3.5f, 0});
}

TEST_CASE("groups get their own scales; an all-zero group gets scale 1", "[quantize][int]") {
  const row_major_f x =
      rows_of({{1, -2, 3.5f, 7, 0, 0, 0, 0}, {0.875f, -1.75f, 0.4375f, 0.125f, 14, -3, 5, 2}});
  const rotq::int_codes q = rotq::quantize_rows(x, {4, true, 4, 1.0});
  // Scales: 7/7, 1 (zeros), 1.75/7 = 0.25, 14/7 = 2.
  CHECK(q.scales == std::vector<float>{1.0f, 1.0f, 0.25f, 2.0f});
  CHECK(q.groups_per_row() == 2);
  CHECK(q.codes == std::vector<std::int32_t>{1, -2, 4, 7, 0, 0, 0, 0,  // 3.5 -> 4
                                             4, -7, 2, 0, 7, -2, 2,
                                             1});  // 3.5, 1.75, 0.5; -1.5, 2.5
  CHECK(values_of(dequantized(q)) ==
        std::vector<float>{1, -2, 4, 7, 0, 0, 0, 0, 1, -1.75f, 0.5f, 0, 14, -4, 4, 2});
}

TEST_CASE("asymmetric codes and zero points, the range widened to include 0", "[quantize][int]") {
  SECTION("2 bits") {
    const row_major_f x = rows_of({{-1, 0.5f, 2, 1},        // [-1, 2]: scale 1, zero 1
                                   {1, 3, 2, 0.5f},         // [0, 3]: scale 1, zero 0
                                   {-3, -1.5f, -0.5f, -2},  // [-3, 0]: scale 1, zero 3
                                   {0, 0, 0, 0}});          // all zero: scale 1, zero 0
    const rotq::int_codes q = rotq::quantize_rows(x, {2, false, 0, 1.0});
    CHECK(q.scales == std::vector<float>{1, 1, 1, 1});
    CHECK(q.zeros == std::vector<std::int32_t>{1, 0, 3, 0});
    CHECK(q.codes == std::vector<std::int32_t>{0, 1, 3, 2, 1, 3, 2, 0, 0, 1, 3, 1, 0, 0, 0, 0});
    CHECK(values_of(dequantized(q)) ==
          std::vector<float>{-1, 0, 2, 1, 1, 3, 2, 0, -3, -2, 0, -2, 0, 0, 0, 0});
  }
  SECTION("4 bits") {
    // [-2, 5.5]: scale 7.5 / 15 = 0.5, zero round(2 / 0.5) = 4.
    const row_major_f x = rows_of({{-2, 5.5f, 1.25f, 0.75f}});
    const rotq::int_codes q = rotq::quantize_rows(x, {4, false, 0, 1.0});
    CHECK(q.scales == std::vector<float>{0.5f});
    CHECK(q.zeros == std::vector<std::int32_t>{4});
    CHECK(q.codes == std::vector<std::int32_t>{0, 15, 6, 6});  // 2.5 -> 2 and 1.5 -> 2, plus 4
    CHECK(values_of(dequantized(q)) == std::vector<float>{-2, 5.5f, 1, 1});
  }
}

TEST_CASE("per-tensor quantisation shares one scale over all rows", "[quantize][int]") {
  const row_major_f x = rows_of({{1, 2, 3, 7}, {0.5f, -0.25f, 3.5f, -1}});
  const rotq::int_codes q = rotq::quantize_tensor(x, {4, true, 0, 1.0});
  CHECK(q.per_tensor);
  CHECK(q.scales == std::vector<float>{1.0f});
  CHECK(q.codes == std::vector<std::int32_t>{1, 2, 3, 7, 0, 0, 4, -1});
  row_major_f fake = x;
  rotq::fake_quantize_tensor(fake, {4, true, 0, 1.0});
  CHECK(bitwise_equal(fake, dequantized(q)));

  // Asymmetric over the whole tensor: [-1, 7] with 3 bits, scale 8 / 7, zero round(7 / 8) = 1.
  const rotq::int_codes a = rotq::quantize_tensor(x, {3, false, 0, 1.0});
  CHECK(a.scales == std::vector<float>{8.0f / 7.0f});
  CHECK(a.zeros == std::vector<std::int32_t>{1});
  CHECK_THROWS_WITH(rotq::quantize_tensor(x, {4, true, 2, 1.0}),
                    Catch::Contains("spec.group_size = 2, expected 0 for one scale per tensor"));
}

TEST_CASE("int4 packing: element 2i low, two's complement nibbles, round trip",
          "[quantize][int][packing]") {
  const std::vector<std::int32_t> codes = {-8, 7, -1, 0, 3, -5, 2, -2};
  const std::vector<std::uint8_t> packed =
      rotq::pack_int4(rotq::matrix_view<const std::int32_t>(codes.data(), 2, 4), true);
  CHECK(packed == std::vector<std::uint8_t>{0x78, 0x0f, 0xb3, 0xe2});
  CHECK(rotq::unpack_int4(rotq::matrix_view<const std::uint8_t>(packed.data(), 2, 2), true) ==
        codes);

  const std::vector<std::int32_t> unsigned_codes = {15, 0, 9, 4};
  const std::vector<std::uint8_t> unsigned_packed =
      rotq::pack_int4(rotq::matrix_view<const std::int32_t>(unsigned_codes.data(), 1, 4), false);
  CHECK(unsigned_packed == std::vector<std::uint8_t>{0x0f, 0x49});
  CHECK(rotq::unpack_int4(rotq::matrix_view<const std::uint8_t>(unsigned_packed.data(), 1, 2),
                          false) == unsigned_codes);

  // Real codes from the quantiser, a strided view of them, and their round trip.
  const rotq::int_codes q =
      rotq::quantize_rows(gaussian<row_major_f>(3, 32, 5), {4, true, 16, 1.0});
  const std::vector<std::uint8_t> bytes = rotq::pack_int4(q.code_view(), true);
  CHECK(bytes.size() == 3 * 16);
  CHECK(rotq::unpack_int4(rotq::matrix_view<const std::uint8_t>(bytes.data(), 3, 16), true) ==
        q.codes);
  // The first 8 codes of each row through a strided view: the first 4 bytes of each packed row.
  std::vector<std::uint8_t> heads;
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t i = 0; i < 4; ++i) heads.push_back(bytes[16 * r + i]);
  CHECK(rotq::pack_int4(rotq::matrix_view<const std::int32_t>(q.codes.data(), 3, 8, 32), true) ==
        heads);
}

TEST_CASE("fake quantisation is dequantize(quantize(x)) bit for bit", "[quantize][int]") {
  const row_major_f x = gaussian<row_major_f>(6, 96, 11, 3.0f);
  for (int bits = 2; bits <= 8; ++bits) {
    for (bool symmetric : {true, false}) {
      for (std::size_t group : {0u, 8u, 32u, 96u}) {
        for (double clip : {1.0, 0.9, 0.55}) {
          const rotq::quant_spec spec{bits, symmetric, group, clip};
          INFO("bits " << bits << " symmetric " << symmetric << " group " << group << " clip "
                       << clip);
          row_major_f fake = x;
          rotq::fake_quantize_rows(fake, spec);
          CHECK(bitwise_equal(fake, dequantized(rotq::quantize_rows(x, spec))));
        }
      }
    }
  }
}

TEST_CASE("quantisers read and write only the view, stride respected", "[quantize][int]") {
  row_major_f storage = gaussian<row_major_f>(4, 40, 3);
  const row_major_f original = storage;
  rotq::matrix_view<float> view(storage.data(), 4, 32, 40);
  rotq::fake_quantize_rows(view, {4, true, 16, 1.0});
  CHECK(storage.rightCols(8) == original.rightCols(8));
  const row_major_f left = original.leftCols(32);
  CHECK(bitwise_equal(storage.leftCols(32),
                      dequantized(rotq::quantize_rows(left, {4, true, 16, 1.0}))));
}

TEST_CASE("round-to-nearest error is at most half a step where nothing clips", "[quantize][int]") {
  const row_major_f x = gaussian<row_major_f>(16, 256, 21);
  const float eps = std::numeric_limits<float>::epsilon();
  for (bool symmetric : {true, false}) {
    const rotq::quant_spec spec{4, symmetric, 64, 1.0};
    const rotq::int_codes q = rotq::quantize_rows(x, spec);
    const row_major_f y = dequantized(q);
    const rotq::detail::int_grid grid = rotq::detail::make_int_grid(4, symmetric);
    double squared = 0.0, steps = 0.0;
    for (std::size_t r = 0; r < q.rows; ++r) {
      for (std::size_t c = 0; c < q.cols; ++c) {
        const std::size_t slot = q.scale_index(r, c);
        const double scale = q.scales[slot];
        const double zero = symmetric ? 0.0 : q.zeros[slot];
        const double error = std::abs(double(x(r, c)) - double(y(r, c)));
        // The unclamped position on the grid: inside [low, high], rounding is the only error.
        const double position = double(x(r, c)) / scale + zero;
        if (position >= grid.low - 0.5 && position <= grid.high + 0.5)
          CHECK(error <= scale / 2 + 4 * eps * std::abs(double(x(r, c))));
        squared += error * error;
        steps += scale * scale;
      }
    }
    // Rounding errors spread evenly over a step have mean square step^2 / 12.
    CHECK(squared / steps == Approx(1.0 / 12.0).epsilon(0.15));
  }
}

TEST_CASE("integer quantisers reject bad specs and non-finite input", "[quantize][int][errors]") {
  row_major_f x = gaussian<row_major_f>(3, 12, 1);
  CHECK_THROWS_WITH(
      rotq::quantize_rows(x, {4, true, 5, 1.0}),
      Catch::Contains("spec.group_size = 5 does not divide the row length x.cols = 12"));
  CHECK_THROWS_WITH(rotq::fake_quantize_rows(x, {1, true, 0, 1.0}),
                    Catch::Contains("spec.bits = 1, expected 2 to 8"));
  CHECK_THROWS_WITH(rotq::quantize_rows(x, {9, false, 0, 1.0}),
                    Catch::Contains("spec.bits = 9, expected 2 to 8"));
  CHECK_THROWS_WITH(rotq::quantize_rows(x, {4, true, 0, 0.0}),
                    Catch::Contains("spec.clip = 0, expected a ratio in (0, 1]"));
  CHECK_THROWS_WITH(rotq::quantize_rows(x, {4, true, 0, 1.5}), Catch::Contains("spec.clip = 1.5"));
  CHECK_THROWS_WITH(rotq::quantize_rows(x, {4, true, 0, 1e-46}),
                    Catch::Contains("spec.clip = 1e-46 is 0 in float"));
  x(0, 3) = 1e38f;  // above float's largest / 4 = 8.5e37
  CHECK_THROWS_WITH(rotq::quantize_rows(x, {4, false, 0, 1.0}),
                    Catch::Contains("x(0, 3) = 1e+38 (row 0, element 3), expected a magnitude of "
                                    "at most 8.50706e+37"));
  CHECK_THROWS_WITH(rotq::fake_quantize_tensor(x, {8, true, 0, 1.0}),
                    Catch::Contains("x(0, 3) = 1e+38"));
  x(0, 3) = 0.0f;
  x(2, 7) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(rotq::quantize_rows(x, {4, true, 0, 1.0}),
                    Catch::Contains("rotq::quantize_rows: x(2, 7) = nan (row 2, element 7)"));
  CHECK_THROWS_WITH(rotq::fake_quantize_rows(x, {4, true, 0, 1.0}),
                    Catch::Contains("x(2, 7) = nan"));
  x(2, 7) = 0.0f;
  x(1, 0) = -std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(rotq::fake_quantize_tensor(x, {4, true, 0, 1.0}),
                    Catch::Contains("x(1, 0) = -inf (row 1, element 0), expected finite values"));
  const std::vector<std::int32_t> odd = {1, 2, 3};
  CHECK_THROWS_WITH(rotq::pack_int4(rotq::matrix_view<const std::int32_t>(odd.data(), 1, 3), true),
                    Catch::Contains("codes.cols = 3, expected an even row length"));
  const std::vector<std::int32_t> wide = {1, 8};
  CHECK_THROWS_WITH(rotq::pack_int4(rotq::matrix_view<const std::int32_t>(wide.data(), 1, 2), true),
                    Catch::Contains("codes(0, 1) = 8, expected a code in [-8, 7] (signed 4-bit)"));
  const std::vector<std::int32_t> negative = {-1, 2};
  CHECK_THROWS_WITH(
      rotq::pack_int4(rotq::matrix_view<const std::int32_t>(negative.data(), 1, 2), false),
      Catch::Contains("codes(0, 0) = -1, expected a code in [0, 15] (unsigned 4-bit)"));
}

TEST_CASE("values up to the accepted magnitude keep every scale and dequantised value finite",
          "[quantize][int]") {
  // float's largest / 4 and its neighbours below, with ranges that put the extreme codes of both
  // grids to use: one sign only, both signs, and a lone extreme beside small values.
  const float limit = std::numeric_limits<float>::max() / 4.0f;
  const float below = std::nextafter(limit, 0.0f);
  const row_major_f x = rows_of({{limit, -limit, 1.0f, -2.0f},
                                 {-limit, -below, -1.0f, 0.0f},
                                 {limit, below, 0.5f, 0.0f},
                                 {-limit, 1e-30f, 3.0f, 2.0f}});
  for (int bits = 2; bits <= 8; ++bits)
    for (const bool symmetric : {true, false})
      for (const double clip : {1.0, 0.9}) {
        INFO("bits " << bits << (symmetric ? " symmetric" : " asymmetric") << ", clip " << clip);
        row_major_f fake = x;
        rotq::fake_quantize_rows(fake, {bits, symmetric, 0, clip});
        CHECK(fake.allFinite());
        // With clip 1 the extreme lands within the coarsest step (2 bits, 2/3 of the range's
        // half) of where it was.
        if (clip == 1.0) CHECK(std::abs(double(fake(0, 0)) - double(limit)) <= double(limit) * 0.7);
        fake = x;
        rotq::fake_quantize_tensor(fake, {bits, symmetric, 0, clip});
        CHECK(fake.allFinite());
      }
}

TEST_CASE("dequantize rejects inconsistent codes", "[quantize][int][errors]") {
  rotq::int_codes q = rotq::quantize_rows(gaussian<row_major_f>(2, 8, 4), {3, true, 4, 1.0});
  row_major_f out(2, 8);
  row_major_f wrong(2, 7);
  CHECK_THROWS_WITH(rotq::dequantize(q, wrong),
                    Catch::Contains("out is 2 x 7, expected the codes' shape 2 x 8"));
  q.codes[5] = 4;
  CHECK_THROWS_WITH(
      rotq::dequantize(q, out),
      Catch::Contains("q.codes[5] = 4 (row 0, element 5), expected a 3-bit code in [-4, 3]"));
  q.codes[5] = 0;
  q.scales.pop_back();
  CHECK_THROWS_WITH(rotq::dequantize(q, out), Catch::Contains("q.scales.size() = 3, expected 4"));
}

// ---- clip search -------------------------------------------------------------------------------

TEST_CASE("clip search picks the ratio with the smallest |q - x|^2.4 sum", "[quantize][clip]") {
  row_major_f w = gaussian<row_major_f>(5, 64, 8);
  w(0, 3) = 9.0f;  // an outlier: clipping it pays off for the other 63 weights
  w(2, 10) = -7.5f;
  for (std::size_t group : {0u, 16u}) {
    const rotq::quant_spec spec{4, true, group, 1.0};
    const rotq::clip_search search{50, 2.4};
    const std::vector<float> clips = rotq::search_clip_ratios(w, spec, search);
    const std::size_t group_size = group == 0 ? 64 : group;
    const std::size_t groups = 64 / group_size;
    REQUIRE(clips.size() == 5 * groups);
    // Brute force with the plain quantiser at each candidate clip.
    for (std::size_t r = 0; r < 5; ++r) {
      for (std::size_t g = 0; g < groups; ++g) {
        const row_major_f segment =
            w.block(Eigen::Index(r), Eigen::Index(g * group_size), 1, Eigen::Index(group_size));
        double best_error = std::numeric_limits<double>::infinity();
        float best_clip = 0.0f;
        for (int i = 0; i < 50; ++i) {
          row_major_f fake = segment;
          const double clip = 1.0 - i / 100.0;
          rotq::fake_quantize_rows(fake, {4, true, 0, clip});
          double error = 0.0;
          for (Eigen::Index k = 0; k < fake.size(); ++k)
            error += std::pow(std::abs(double(fake(0, k)) - double(segment(0, k))), 2.4);
          if (error < best_error) {
            best_error = error;
            best_clip = static_cast<float>(clip);
          }
        }
        INFO("row " << r << " group " << g);
        CHECK(clips[r * groups + g] == best_clip);
      }
    }
    if (group == 0) CHECK(clips[0] < 1.0f);  // the outlier row clips
    // Quantising with the clips equals fake-quantising with them, and beats clip 1 in the search
    // norm.
    row_major_f fake = w;
    rotq::fake_quantize_rows(fake, spec, clips);
    CHECK(bitwise_equal(fake, dequantized(rotq::quantize_rows(w, spec, clips))));
    row_major_f plain = w;
    rotq::fake_quantize_rows(plain, spec);
    CHECK((fake - w).array().abs().pow(2.4f).sum() < (plain - w).array().abs().pow(2.4f).sum());
  }
}

TEST_CASE("clip search keeps 1 where the grid already fits exactly", "[quantize][clip]") {
  const row_major_f w = rows_of({{-7, -3, 0, 1, 2, 5, 6, 7}});  // integers on the amax-7 grid
  CHECK(rotq::search_clip_ratios(w, {4, true, 0, 1.0}) == std::vector<float>{1.0f});
  // The candidates scale with spec.clip: a base of 0.5 is the largest candidate.
  CHECK(rotq::search_clip_ratios(w, {4, true, 0, 0.5}, {2, 2.4}) == std::vector<float>{0.5f});
}

TEST_CASE("clip search on rows without elements gives the clips the quantisers expect",
          "[quantize][clip]") {
  const row_major_f empty(3, 0);
  for (const std::size_t group : {std::size_t{0}, std::size_t{4}}) {
    const rotq::quant_spec spec{4, false, group, 1.0};
    const std::vector<float> clips = rotq::search_clip_ratios(empty, spec);
    CHECK(clips.empty());
    CHECK(rotq::quantize_rows(empty, spec, clips).codes.empty());
    row_major_f fake = empty;
    CHECK_NOTHROW(rotq::fake_quantize_rows(fake, spec, clips));
  }
}

TEST_CASE("clip search and per-group clips reject bad arguments", "[quantize][clip][errors]") {
  const row_major_f w = gaussian<row_major_f>(2, 8, 2);
  CHECK_THROWS_WITH(rotq::search_clip_ratios(w, {4, true, 0, 1.0}, {0, 2.4}),
                    Catch::Contains("search.ratios = 0, expected 1 to 100"));
  CHECK_THROWS_WITH(rotq::search_clip_ratios(w, {4, true, 0, 1.0}, {101, 2.4}),
                    Catch::Contains("search.ratios = 101"));
  CHECK_THROWS_WITH(rotq::search_clip_ratios(w, {4, true, 0, 1.0}, {10, -1.0}),
                    Catch::Contains("search.norm = -1, expected a positive exponent"));
  CHECK_THROWS_WITH(rotq::quantize_rows(w, {4, true, 4, 1.0}, std::vector<float>{1, 1, 1}),
                    Catch::Contains("clips.size() = 3, expected rows * groups = 2 * 2"));
  row_major_f fake = w;
  CHECK_THROWS_WITH(rotq::fake_quantize_rows(fake, {4, true, 0, 1.0}, std::vector<float>{1, 0}),
                    Catch::Contains("clips[1] = 0, expected a ratio in (0, 1]"));
}

// ---- FP8 ---------------------------------------------------------------------------------------

TEST_CASE("FP8 e4m3 rows with 1 x 128 block scales: hand-worked codes", "[quantize][fp8]") {
  row_major_f x = row_major_f::Zero(2, 256);
  x.row(0).head(4) << 448, -224, 1, 1e-3f;  // block (0, 0): amax 448, scale 1; block (0, 1) zero
  x.row(1).head(2) << 896, 3;               // block (1, 0): scale 2
  x(1, 128) = -0.5f;                        // block (1, 1): scale 0.5 / 448
  const rotq::fp8_codes q = rotq::quantize_fp8_rows(x, 128);
  CHECK(q.block_size == 128);
  REQUIRE(q.scales.size() == 4);
  CHECK(q.scales[0] == 1.0f);
  CHECK(q.scales[1] == 1.0f);
  CHECK(q.scales[2] == 2.0f);
  CHECK(q.scales[3] == 0.5f / 448.0f);
  CHECK(q.codes[0] == 0x7e);
  CHECK(q.codes[1] == 0xf6);  // -1.75 * 2^7
  CHECK(q.codes[2] == 0x38);
  CHECK(q.codes[3] == 0x01);  // 1e-3 -> the smallest subnormal 2^-9
  CHECK(q.codes[4] == 0x00);
  CHECK(q.codes[256] == 0x7e);
  CHECK(q.codes[257] == 0x3c);  // 3 / 2 = 1.5
  CHECK(q.codes[256 + 128] == 0xfe);
  const row_major_f y = dequantized(q);
  CHECK(y(0, 0) == 448.0f);
  CHECK(y(0, 3) == 0.001953125f);
  CHECK(y(1, 1) == 3.0f);
  CHECK(y.row(0).tail(128).isZero(0));

  // Per-token scales: one block per row.
  const rotq::fp8_codes token = rotq::quantize_fp8_rows(x);
  CHECK(token.block_size == 256);
  CHECK(token.scales == std::vector<float>{1.0f, 2.0f});
}

TEST_CASE("FP8 fake quantisation matches dequantize and the e4m3 error bound", "[quantize][fp8]") {
  const row_major_f x = gaussian<row_major_f>(8, 512, 13, 5.0f);
  for (std::size_t block : {0u, 128u}) {
    const rotq::fp8_codes q = rotq::quantize_fp8_rows(x, block);
    row_major_f fake = x;
    rotq::fake_quantize_fp8_rows(fake, block);
    const row_major_f y = dequantized(q);
    CHECK(bitwise_equal(fake, y));
    // Three mantissa bits: half an ulp is 2^-4 of the value for normals; subnormal steps are
    // 2^-9 of the scale.
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      for (Eigen::Index c = 0; c < x.cols(); ++c) {
        const double scale =
            q.scales[std::size_t(r) * (512 / q.block_size) + std::size_t(c) / q.block_size];
        const double bound = std::abs(double(x(r, c))) * (0.0625 + 1e-6) + scale * 0.0009765625;
        CHECK(std::abs(double(x(r, c)) - double(y(r, c))) <= bound);
      }
    }
  }
}

// ---- MXFP4 -------------------------------------------------------------------------------------

TEST_CASE("MXFP4: e8m0 block scales, e2m1 codes, packed two per byte", "[quantize][mxfp4]") {
  row_major_f x = row_major_f::Zero(1, 64);
  x.row(0).head(8) << 6, 3, -1.5f, 0.25f, 0.75f, 5, 7, -0.1f;  // amax 7: scale 2^0
  x(0, 32) = 0.375f;  // amax 0.375: floor(log2) = -2, scale 2^-4 = 0.0625
  x(0, 33) = 0.1f;    // 1.6 steps -> 1.5
  x(0, 34) = -0.2f;   // -3.2 steps -> -3
  const rotq::mxfp4_codes q = rotq::quantize_mxfp4_rows(x);
  CHECK(q.scales == std::vector<std::uint8_t>{127, 123});
  REQUIRE(q.packed.size() == 32);
  // Codes 7 5 | 11 0 | 2 6 | 7 8: 6, 3, -1.5, 0.25 -> 0, 0.75 -> 1, 5 -> 4, 7 -> 6, -0.1 -> -0.
  CHECK(q.packed[0] == 0x57);
  CHECK(q.packed[1] == 0x0b);
  CHECK(q.packed[2] == 0x62);
  CHECK(q.packed[3] == 0x87);
  CHECK(q.packed[4] == 0x00);
  CHECK(q.packed[16] == 0x37);  // 6 steps -> code 7, 1.5 -> code 3
  CHECK(q.packed[17] == 0x0d);  // -3 -> code 13
  const row_major_f y = dequantized(q);
  CHECK(std::vector<float>(y.data(), y.data() + 8) ==
        std::vector<float>{6, 3, -1.5f, 0, 1, 4, 6, -0.0f});
  CHECK(y(0, 32) == 0.375f);
  CHECK(y(0, 33) == 0.09375f);
  CHECK(y(0, 34) == -0.1875f);
  row_major_f fake = x;
  rotq::fake_quantize_mxfp4_rows(fake);
  CHECK(bitwise_equal(fake, y));
}

TEST_CASE("MXFP4 on random rows: fake equals dequantize, elements within e2m1 rounding",
          "[quantize][mxfp4]") {
  const row_major_f x = gaussian<row_major_f>(4, 128, 17);
  const rotq::mxfp4_codes q = rotq::quantize_mxfp4_rows(x);
  row_major_f fake = x;
  rotq::fake_quantize_mxfp4_rows(fake);
  CHECK(bitwise_equal(fake, dequantized(q)));
  for (Eigen::Index r = 0; r < 4; ++r) {
    for (Eigen::Index b = 0; b < 4; ++b) {
      const double scale = std::ldexp(1.0, int(q.scales[std::size_t(r * 4 + b)]) - 127);
      const double amax = x.row(r).segment(b * 32, 32).cwiseAbs().maxCoeff();
      CHECK(amax / scale >= 4.0);  // 2^(floor(log2 amax) - 2) puts the maximum in [4, 8)
      CHECK(amax / scale < 8.0);
      for (Eigen::Index k = b * 32; k < b * 32 + 32; ++k) {
        const double v = std::abs(double(x(r, k))) / scale;
        // Below 6, e2m1 steps are at most 1 (so the error is at most half of it); above, it
        // saturates at 6.
        const double expected_error = v > 6.0 ? v - 6.0 : (v >= 4 ? 1.0 : v >= 2 ? 0.5 : 0.25);
        CHECK(std::abs(double(x(r, k)) - double(fake(r, k))) / scale <= expected_error + 1e-6);
      }
    }
  }
}

// ---- NVFP4 -------------------------------------------------------------------------------------

TEST_CASE("NVFP4: e4m3 block scales of amax / (6 g), e2m1 codes", "[quantize][nvfp4]") {
  row_major_f x = row_major_f::Zero(1, 48);
  x.row(0).head(3) << 2688, 1000, -300;  // amax / 6 = 448: block scale 448
  x(0, 16) = 19.8f;                      // 19.8 / 6 = 3.3 -> e4m3 3.25 (0x45)
  x(0, 17) = 3.3f;
  x(0, 18) = -1.0f;
  x(0, 32) = 1e-4f;                            // 1.7e-5 underflows e4m3: block scale 0
  CHECK(rotq::nvfp4_global_scale(x) == 1.0f);  // 2688 / (448 * 6)
  const rotq::nvfp4_codes q = rotq::quantize_nvfp4_rows(x, 1.0f);
  CHECK(q.global_scale == 1.0f);
  CHECK(q.scales == std::vector<std::uint8_t>{0x7e, 0x45, 0x00});
  // Block 0, step 448: 6 -> 7, 2.23 -> 2 (code 4), -0.67 -> -0.5 (code 9).
  CHECK(q.packed[0] == 0x47);
  CHECK(q.packed[1] == 0x09);
  // Block 1, step 3.25: 6.09 saturates to 6 (code 7), 1.015 -> 1 (code 2), -0.31 -> -0.5 (9).
  CHECK(q.packed[8] == 0x27);
  CHECK(q.packed[9] == 0x09);
  CHECK(q.packed[16] == 0x00);  // a zero step encodes as 0
  const row_major_f y = dequantized(q);
  CHECK(y(0, 0) == 2688.0f);
  CHECK(y(0, 1) == 896.0f);
  CHECK(y(0, 2) == -224.0f);
  CHECK(y(0, 16) == 19.5f);
  CHECK(y(0, 17) == 3.25f);
  CHECK(y(0, 18) == -1.625f);
  CHECK(y(0, 32) == 0.0f);
  row_major_f fake = x;
  rotq::fake_quantize_nvfp4_rows(fake, 1.0f);
  CHECK(bitwise_equal(fake, y));
}

TEST_CASE("NVFP4 with the tensor's global scale: the largest block gets scale 448",
          "[quantize][nvfp4]") {
  const row_major_f x = gaussian<row_major_f>(4, 64, 19, 0.01f);
  const float g = rotq::nvfp4_global_scale(x);
  CHECK(g == static_cast<float>(x.cwiseAbs().maxCoeff()) / 2688.0f);
  const rotq::nvfp4_codes q = rotq::quantize_nvfp4_rows(x, g);
  std::uint8_t largest = 0;
  for (std::uint8_t s : q.scales) largest = std::max(largest, s);
  CHECK(largest == 0x7e);
  row_major_f fake = x;
  rotq::fake_quantize_nvfp4_rows(fake, g);
  CHECK(bitwise_equal(fake, dequantized(q)));
  // Relative to each block's maximum the error is at most half the top e2m1 step (1 of 6), plus
  // the e4m3 rounding of the block scale (at most 1/16 of it).
  for (Eigen::Index r = 0; r < 4; ++r) {
    for (Eigen::Index b = 0; b < 4; ++b) {
      const double amax = x.row(r).segment(b * 16, 16).cwiseAbs().maxCoeff();
      const double error =
          (x.row(r).segment(b * 16, 16) - fake.row(r).segment(b * 16, 16)).cwiseAbs().maxCoeff();
      CHECK(error <= amax * (1.0 / 6.0 + 1.0 / 16.0));
    }
  }
}

TEST_CASE("floating-point quantisers reject bad shapes, scales and non-finite input",
          "[quantize][errors]") {
  row_major_f x = gaussian<row_major_f>(2, 48, 23);
  CHECK_THROWS_WITH(rotq::quantize_fp8_rows(x, 32),
                    Catch::Contains("block_size = 32 does not divide the row length x.cols = 48"));
  CHECK_THROWS_WITH(rotq::quantize_mxfp4_rows(x),
                    Catch::Contains("the MXFP4 block size = 32 does not divide the row length"));
  row_major_f odd = gaussian<row_major_f>(2, 40, 23);
  CHECK_THROWS_WITH(rotq::fake_quantize_nvfp4_rows(odd, 1.0f),
                    Catch::Contains("the NVFP4 block size = 16 does not divide"));
  CHECK_THROWS_WITH(rotq::quantize_nvfp4_rows(x, 0.0f),
                    Catch::Contains("global_scale = 0, expected a finite positive fp32 scale"));
  CHECK_THROWS_AS(rotq::quantize_nvfp4_rows(x, std::numeric_limits<float>::quiet_NaN()),
                  rotq::error);
  x(1, 5) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(rotq::quantize_fp8_rows(x),
                    Catch::Contains("x(1, 5) = inf (row 1, element 5)"));
  CHECK_THROWS_WITH(rotq::nvfp4_global_scale(x), Catch::Contains("x(1, 5) = inf"));

  rotq::fp8_codes fp8 = rotq::quantize_fp8_rows(gaussian<row_major_f>(2, 48, 1));
  fp8.scales.pop_back();
  row_major_f out(2, 48);
  CHECK_THROWS_WITH(rotq::dequantize(fp8, out), Catch::Contains("q.scales.size() = 1, expected 2"));
  rotq::mxfp4_codes mx = rotq::quantize_mxfp4_rows(gaussian<row_major_f>(2, 64, 1));
  mx.packed.resize(10);
  row_major_f wide(2, 64);
  CHECK_THROWS_WITH(rotq::dequantize(mx, wide),
                    Catch::Contains("q.packed.size() = 10, expected 64"));
  rotq::nvfp4_codes nv = rotq::quantize_nvfp4_rows(gaussian<row_major_f>(2, 64, 1), 0.01f);
  CHECK_THROWS_WITH(rotq::dequantize(nv, out), Catch::Contains("out is 2 x 48, expected the codes' "
                                                               "shape 2 x 64"));
}
