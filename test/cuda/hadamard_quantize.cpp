// GPU tests of rotq::cuda::hadamard_quantize and rotq::cuda::quantize: for every format, group
// size and element type, the fused codes and scales are bit-identical to rotq/quantize.hpp run on
// the fp32 rows rotq::cuda::hadamard writes for the same input (and on the input itself for
// quantize); against the transform in double they differ by at most one step, on a fraction of
// elements the test reports. Also the per-channel divisor, strided outputs, odd row counts, and
// clipped asymmetric scales on groups where a contracted multiply-add would round differently.

#include <rotq/cuda.hpp>
#include <rotq/hadamard.hpp>
#include <rotq/quantize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "cuda/device_rows.hpp"
#include "cuda/quantized_rows.hpp"

namespace {

using rotq::cuda::element_type;
using rotq::cuda::quant_format;
using rotq_test::device_rows;

/// Vectorised sizes (with and without H_m and the exchange) and staged ones (96 is m = 12 with
/// 8-element chunks; 172 has 1-element chunks).
const std::vector<std::size_t> sizes = {64, 96, 172, 2048, 4096, 11008};

std::size_t stride_for(std::size_t n) { return n % 8 == 0 ? n + 16 : n + 2; }

/// The fp32 rows rotq::cuda::hadamard writes for x (rows x stride), compact rows x n.
std::vector<float> gpu_transform(const rotq::cuda::hadamard_plan& plan, const std::vector<float>& x,
                                 std::size_t rows, std::size_t n, std::size_t stride) {
  device_rows in(x, element_type::float32, stride);
  device_rows out(std::vector<float>(rows * n, 0.0f), element_type::float32, n);
  REQUIRE_OK(rotq::cuda::hadamard(plan, rows, in.input(), out.output(), nullptr));
  return out.values();
}

rotq_test::quantized_rows fused(const rotq::cuda::hadamard_plan& plan, const std::vector<float>& x,
                                element_type type, std::size_t rows, std::size_t n,
                                std::size_t stride, const float* divisor,
                                const rotq::cuda::quant_options& q, std::size_t pad = 0) {
  device_rows in(x, type, stride);
  rotq_test::device_quantized out(rows, n, q, pad);
  REQUIRE_OK(
      rotq::cuda::hadamard_quantize(plan, rows, in.input(), divisor, q, out.output(), nullptr));
  bool padding_intact = false;
  rotq_test::quantized_rows result = out.compact(padding_intact);
  CHECK(padding_intact);
  return result;
}

/// The integer code of element i from packed or byte codes.
int integer_code(const std::vector<std::uint8_t>& codes, std::size_t i,
                 const rotq::cuda::quant_options& q) {
  if (q.format == quant_format::int8)
    return q.symmetric ? static_cast<std::int8_t>(codes[i]) : codes[i];
  return rotq::detail::unpack_nibble(codes[i / 2], static_cast<int>(i % 2), q.symmetric);
}

}  // namespace

TEST_CASE("hadamard_quantize: bit-identical to the host quantiser on hadamard's fp32 rows") {
  for (const element_type type :
       {element_type::float32, element_type::float16, element_type::bfloat16})
    for (const std::size_t n : sizes) {
      const std::size_t rows = 5, stride = stride_for(n);
      const rotq::cuda::hadamard_plan plan(n);
      const std::vector<float> x = rotq_test::gaussian_rows(rows, n, stride, type, 10u + n);
      const std::vector<float> y = gpu_transform(plan, x, rows, n, stride);
      for (const rotq::cuda::quant_options& q : rotq_test::quantisers_for(n)) {
        INFO(rotq_test::name_of(type)
             << ", n = " << n << ", " << rotq_test::format_name(q.format)
             << (q.symmetric ? "" : " asymmetric") << ", group " << q.group_size);
        rotq_test::check_same_codes(fused(plan, x, type, rows, n, stride, nullptr, q),
                                    rotq_test::host_quantize(y, rows, n, q), n, q);
      }
    }
}

TEST_CASE(
    "hadamard_quantize: against the transform in double, integer codes differ by at most "
    "one step") {
  for (const std::size_t n : {4096, 11008, 172}) {
    const std::size_t rows = 64;
    const rotq::cuda::hadamard_plan plan(n);
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, element_type::float32, 11u);
    std::vector<float> exact(rows * n);
    for (std::size_t r = 0; r < rows; ++r) {
      std::vector<double> row(x.begin() + r * n, x.begin() + (r + 1) * n);
      rotq::fwht(row.data(), n);
      for (std::size_t c = 0; c < n; ++c) exact[r * n + c] = static_cast<float>(row[c]);
    }
    for (const rotq::cuda::quant_options& q : rotq_test::quantisers_for(n)) {
      if (!rotq_test::is_integer(q.format)) continue;
      const rotq_test::quantized_rows gpu =
          fused(plan, x, element_type::float32, rows, n, n, nullptr, q);
      const rotq_test::quantized_rows host = rotq_test::host_quantize(exact, rows, n, q);
      std::size_t differing = 0, largest_at = 0;
      int largest_step = 0;
      for (std::size_t i = 0; i < rows * n; ++i) {
        const int step = std::abs(integer_code(gpu.codes, i, q) - integer_code(host.codes, i, q));
        differing += step != 0;
        if (step > largest_step) largest_step = step, largest_at = i;
      }
      const double fraction = double(differing) / double(rows * n);
      WARN("n = " << n << ", " << rotq_test::format_name(q.format)
                  << (q.symmetric ? "" : " asymmetric") << ", group " << q.group_size << ": "
                  << fraction * 100 << " % of codes one step from the double reference");
      INFO("largest difference at row " << largest_at / n << ", column " << largest_at % n
                                        << ": GPU code " << integer_code(gpu.codes, largest_at, q)
                                        << ", code of the double transform "
                                        << integer_code(host.codes, largest_at, q));
      CHECK(largest_step <= 1);
      CHECK(fraction < 0.01);
    }
  }
}

TEST_CASE("hadamard_quantize: the channel divisor is applied before the transform") {
  for (const std::size_t n : {4096, 172}) {
    const std::size_t rows = 3;
    const rotq::cuda::hadamard_plan plan(n);
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, element_type::bfloat16, 12u);
    std::mt19937 gen(13);
    std::uniform_real_distribution<float> spread(0.25f, 4.0f);
    std::vector<float> divisor(n);
    for (float& d : divisor) d = spread(gen);
    rotq_test::device_bytes device_divisor(n * sizeof(float));
    device_divisor.upload(divisor.data(), n * sizeof(float));
    std::vector<float> divided(x);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < n; ++c) divided[r * n + c] = x[r * n + c] / divisor[c];
    const std::vector<float> y = gpu_transform(plan, divided, rows, n, n);
    for (const rotq::cuda::quant_options& q : rotq_test::quantisers_for(n)) {
      INFO("n = " << n << ", " << rotq_test::format_name(q.format) << ", group " << q.group_size);
      rotq_test::check_same_codes(
          fused(plan, x, element_type::bfloat16, rows, n, n, device_divisor.get<const float>(), q),
          rotq_test::host_quantize(y, rows, n, q), n, q);
    }
  }
}

TEST_CASE("hadamard_quantize: random signs, strided outputs, odd and large row counts") {
  const std::size_t n = 2048;
  rotq::cuda::hadamard_options options;
  options.random_signs = true;
  options.seed = 77;
  const rotq::cuda::hadamard_plan plan(n, options);
  for (const std::size_t rows : {1, 3, 1001}) {
    INFO("rows = " << rows);
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, element_type::float16, 14u);
    const std::vector<float> y = gpu_transform(plan, x, rows, n, n);
    for (const rotq::cuda::quant_options& q : rotq_test::quantisers_for(n)) {
      INFO(rotq_test::format_name(q.format)
           << (q.symmetric ? "" : " asymmetric") << ", group " << q.group_size);
      rotq_test::check_same_codes(fused(plan, x, element_type::float16, rows, n, n, nullptr, q, 3),
                                  rotq_test::host_quantize(y, rows, n, q), n, q);
    }
  }
}

TEST_CASE("quantize: bit-identical to the host quantiser on the input rows") {
  for (const element_type type : {element_type::float32, element_type::bfloat16})
    for (const std::size_t n : {64, 100, 4096, 32768}) {
      const std::size_t rows = 9, stride = stride_for(n);
      const std::vector<float> x = rotq_test::gaussian_rows(rows, n, stride, type, 15u);
      std::vector<float> compact(rows * n);
      for (std::size_t r = 0; r < rows; ++r)
        std::copy_n(x.begin() + r * stride, n, compact.begin() + r * n);
      device_rows in(x, type, stride);
      for (const rotq::cuda::quant_options& q : rotq_test::quantisers_for(n)) {
        INFO(rotq_test::name_of(type) << ", n = " << n << ", " << rotq_test::format_name(q.format)
                                      << ", group " << q.group_size);
        rotq_test::device_quantized out(rows, n, q, 1);
        REQUIRE_OK(rotq::cuda::quantize(rows, n, in.input(), q, out.output(), nullptr));
        bool padding_intact = false;
        rotq_test::check_same_codes(out.compact(padding_intact),
                                    rotq_test::host_quantize(compact, rows, n, q), n, q);
        CHECK(padding_intact);
      }
    }
}

TEST_CASE("quantize: clipped asymmetric scales and codes equal the host's") {
  // n = 64 runs the vectorised kernel, n = 62 the staged one.
  const std::size_t rows = 64;
  for (const std::size_t n : {64, 62}) {
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, element_type::float32, 16u);
    device_rows in(x, element_type::float32, n);
    for (const int bits : {8, 4})
      for (const std::size_t group : {0, 16, 32})
        for (const float clip : {0.9f, 0.7f}) {
          if (group != 0 && n % group != 0) continue;
          rotq::cuda::quant_options q;
          q.format = bits == 8 ? quant_format::int8 : quant_format::int4;
          q.symmetric = false;
          q.group_size = group;
          q.clip = clip;
          INFO("n = " << n << ", int" << bits << ", group " << group << ", clip " << clip);
          rotq_test::device_quantized out(rows, n, q);
          REQUIRE_OK(rotq::cuda::quantize(rows, n, in.input(), q, out.output(), nullptr));
          bool padding_intact = false;
          rotq_test::check_same_codes(out.compact(padding_intact),
                                      rotq_test::host_quantize(x, rows, n, q), n, q);
        }
  }
}
