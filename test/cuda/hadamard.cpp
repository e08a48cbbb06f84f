// GPU tests of rotq::cuda::hadamard: every kind of size (powers of two from 8 to 32768, m * 2^k
// with short and long chunks) and element type against rotq::fwht in double, in place, strides,
// odd row counts, random signs and their inverse, both normalisations, orthogonality from the
// identity, replay inside a CUDA graph (also of kernels that opt into more than 48 KiB of shared
// memory during the capture), the same bits for a row in launches of few and of many rows, and
// grids of more than 65535 CTAs over more than 2^31 elements.

#include <rotq/cuda.hpp>
#include <rotq/cuda/detail/row_tiling.hpp>
#include <rotq/hadamard.hpp>
#include <rotq/hadamard_transform.hpp>

#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/comparisons.hpp"
#include "cuda/device_rows.hpp"
#include "cuda/graph_replay.hpp"
#include "cuda/quantized_rows.hpp"

namespace {

using rotq::cuda::element_type;
using rotq_test::device_rows;

constexpr element_type all_types[] = {element_type::float32, element_type::float16,
                                      element_type::bfloat16};

/// Sizes that reach every path: powers of two with 1 to 32 warps a row (with and without the
/// shared-memory exchange), m * 2^k with chunks of 8 to 1024 elements (vectorised) and with chunks
/// shorter than a vector (staged: 12, 20, 24, 40, 80, 112, 172, 344, 688), and the powers of two
/// below a vector (staged: 2, 4).
const std::vector<std::size_t> sizes = {
    2,  4,  8,  16,  256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 12,    20,    24,    40,
    64, 80, 96, 112, 128, 172, 344,  688,  768,  3072, 5120,  11008, 13824, 14336, 18944, 28672};

/// Row stride for n: padded, keeping 16-byte row alignment where the vectorised kernel needs it.
std::size_t padded_stride(std::size_t n) { return n % 8 == 0 ? n + 8 : n + 3; }

/// Each row r of x (rows x stride, first n used) -> H_n r in double, rows x n.
std::vector<double> reference_rows(const std::vector<float>& x, std::size_t rows, std::size_t n,
                                   std::size_t stride, bool transposed = false,
                                   rotq::normalization norm = rotq::normalization::orthonormal) {
  std::vector<double> y(rows * n);
  for (std::size_t r = 0; r < rows; ++r) {
    double* row = y.data() + r * n;
    for (std::size_t c = 0; c < n; ++c) row[c] = x[r * stride + c];
    if (transposed)
      rotq::fwht_transposed(row, n, norm);
    else
      rotq::fwht(row, n, norm);
  }
  return y;
}

/// A few ulps of the output type, scaled by sqrt(log2 n), of the largest output; plus the fp32
/// rounding of the m-term sums of H_m, which the output type may not hide (fp32 output).
double tolerance(const std::vector<double>& reference, std::size_t n, element_type type) {
  double largest = 0.0;
  for (double v : reference) largest = std::max(largest, std::abs(v));
  const double m = static_cast<double>(rotq::hadamard_base_order(n));
  return largest * (4 * rotq_test::unit_roundoff(type) * std::sqrt(std::log2(double(n))) +
                    4 * rotq_test::unit_roundoff(element_type::float32) * m);
}

/// The worst error of y (rows x stride) against ref (rows x n), and where.
rotq_test::worst_difference max_error(const std::vector<float>& y, std::size_t stride,
                                      const std::vector<double>& ref, std::size_t rows,
                                      std::size_t n) {
  return rotq_test::find_worst_difference(
      y, stride, rows, n, [&](std::size_t r, std::size_t c) { return ref[r * n + c]; });
}

/// "" when the padding after the n elements of every row is as it was; else the first change.
std::string padding_change(const std::vector<float>& before, const std::vector<float>& after,
                           std::size_t rows, std::size_t n, std::size_t stride) {
  std::vector<float> old_padding, new_padding;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = n; c < stride; ++c) {
      old_padding.push_back(before[r * stride + c]);
      new_padding.push_back(after[r * stride + c]);
    }
  return rotq_test::first_mismatch("row padding", new_padding, old_padding, stride - n);
}

}  // namespace

TEST_CASE("hadamard: every size and element type against rotq::fwht in double") {
  for (const element_type type : all_types)
    for (const std::size_t n : sizes) {
      const std::size_t rows = 7, stride = padded_stride(n);
      INFO(rotq_test::name_of(type) << ", n = " << n);
      const std::vector<float> x = rotq_test::gaussian_rows(rows, n, stride, type, 1u + n);
      const std::vector<float> marker = rotq_test::gaussian_rows(rows, n, stride, type, 2u + n);
      device_rows in(x, type, stride);
      device_rows out(marker, type, stride);
      const rotq::cuda::hadamard_plan plan(n);
      REQUIRE_OK(rotq::cuda::hadamard(plan, rows, in.input(), out.output(), nullptr));
      const std::vector<float> y = out.values();
      const std::vector<double> ref = reference_rows(x, rows, n, stride);
      const rotq_test::worst_difference worst = max_error(y, stride, ref, rows, n);
      INFO(worst.describe());
      CHECK(worst.error <= tolerance(ref, n, type));
      CHECK(padding_change(marker, y, rows, n, stride) == "");
      CHECK(rotq_test::first_mismatch("input (read only)", in.values(), x, stride) == "");
    }
}

TEST_CASE("hadamard: in place, odd and large row counts, no rows") {
  for (const std::size_t n : {64, 172, 4096, 11008})
    for (const std::size_t rows : {1, 3, 257}) {
      INFO("n = " << n << ", rows = " << rows);
      const std::size_t stride = padded_stride(n);
      const std::vector<float> x =
          rotq_test::gaussian_rows(rows, n, stride, element_type::bfloat16, 3u);
      device_rows data(x, element_type::bfloat16, stride);
      const rotq::cuda::hadamard_plan plan(n);
      REQUIRE_OK(rotq::cuda::hadamard(plan, rows, data.input(), data.output(), nullptr));
      const std::vector<float> y = data.values();
      const std::vector<double> ref = reference_rows(x, rows, n, stride);
      const rotq_test::worst_difference worst = max_error(y, stride, ref, rows, n);
      INFO(worst.describe());
      CHECK(worst.error <= tolerance(ref, n, element_type::bfloat16));
      CHECK(padding_change(x, y, rows, n, stride) == "");
    }
  const rotq::cuda::hadamard_plan plan(256);
  REQUIRE_OK(rotq::cuda::hadamard(plan, 0, {nullptr, element_type::float32, 256},
                                  {nullptr, element_type::float32, 256}, nullptr));
}

TEST_CASE("hadamard: random signs match rotq::random_hadamard, and the inverse plan undoes them") {
  for (const std::size_t n : {256, 172, 2048, 14336}) {
    INFO("n = " << n);
    const std::size_t rows = 5, seed = 20240917;
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, element_type::float32, 4u);
    device_rows data(x, element_type::float32, n);
    rotq::cuda::hadamard_options forward;
    forward.random_signs = true;
    forward.seed = seed;
    rotq::cuda::hadamard_options inverse = forward;
    inverse.inverse = true;
    const rotq::cuda::hadamard_plan plan(n, forward);
    const rotq::cuda::hadamard_plan undo(n, inverse);
    REQUIRE_OK(rotq::cuda::hadamard(plan, rows, data.input(), data.output(), nullptr));
    const std::vector<float> y = data.values();

    {
      Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> ref(rows, n);
      for (std::size_t i = 0; i < x.size(); ++i) ref.data()[i] = x[i];
      rotq::random_hadamard(n, seed).apply_activations(ref);
      const rotq_test::worst_difference worst = rotq_test::find_worst_difference(
          y, n, rows, n,
          [&](std::size_t r, std::size_t c) { return ref(Eigen::Index(r), Eigen::Index(c)); });
      INFO("forward: " << worst.describe());
      const double m = double(rotq::hadamard_base_order(n));
      CHECK(worst.error <=
            ref.cwiseAbs().maxCoeff() * 4 * 0x1p-24 * (std::sqrt(std::log2(double(n))) + m));
    }

    REQUIRE_OK(rotq::cuda::hadamard(undo, rows, data.input(), data.output(), nullptr));
    const std::vector<float> back = data.values();
    const rotq_test::worst_difference worst = rotq_test::find_worst_difference(
        back, n, rows, n, [&](std::size_t r, std::size_t c) { return double(x[r * n + c]); });
    INFO("inverse: " << worst.describe());
    double largest = 0.0;
    for (float v : x) largest = std::max(largest, double(std::abs(v)));
    // Two transforms' fp32 roundings.
    const double m = double(rotq::hadamard_base_order(n));
    CHECK(worst.error <= largest * 8 * 0x1p-24 * (std::sqrt(std::log2(double(n))) + m));
  }
}

TEST_CASE("hadamard: normalization none gives the raw +-1 butterflies") {
  for (const std::size_t n : {128, 96, 172}) {
    const std::size_t rows = 3;
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, element_type::float32, 5u);
    device_rows data(x, element_type::float32, n);
    rotq::cuda::hadamard_options raw;
    raw.norm = rotq::normalization::none;
    const rotq::cuda::hadamard_plan plan(n, raw);
    REQUIRE_OK(rotq::cuda::hadamard(plan, rows, data.input(), data.output(), nullptr));
    const std::vector<double> ref = reference_rows(x, rows, n, n, false, rotq::normalization::none);
    const rotq_test::worst_difference worst = max_error(data.values(), n, ref, rows, n);
    INFO("n = " << n << ", " << worst.describe());
    CHECK(worst.error <= tolerance(ref, n, element_type::float32));
  }
}

TEST_CASE("hadamard: the transform of the identity is H_n^T, an orthogonal matrix") {
  for (const std::size_t n : {16, 64, 96, 172, 1024, 3072}) {
    INFO("n = " << n);
    std::vector<float> identity(n * n, 0.0f);
    for (std::size_t i = 0; i < n; ++i) identity[i * n + i] = 1.0f;
    device_rows data(identity, element_type::float32, n);
    const rotq::cuda::hadamard_plan plan(n);
    REQUIRE_OK(rotq::cuda::hadamard(plan, n, data.input(), data.output(), nullptr));
    const std::vector<float> y = data.values();
    Eigen::MatrixXd rows(n, n);  // row i = H_n e_i, the i-th column of H_n
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) rows(Eigen::Index(i), Eigen::Index(j)) = y[i * n + j];
    const Eigen::MatrixXd h = rotq::hadamard_matrix(n);
    CHECK((rows - h.transpose()).cwiseAbs().maxCoeff() < 1e-6);
    const Eigen::MatrixXd product = rows * rows.transpose();
    CHECK((product - Eigen::MatrixXd::Identity(Eigen::Index(n), Eigen::Index(n)))
              .cwiseAbs()
              .maxCoeff() < 1e-5);
  }
}

TEST_CASE("hadamard: a launch captured in a CUDA graph replays to the same rows") {
  const std::size_t n = 4096, rows = 33;
  const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, element_type::float16, 6u);
  device_rows in(x, element_type::float16, n);
  device_rows direct(x, element_type::float16, n);
  device_rows replayed(x, element_type::float16, n);
  const rotq::cuda::hadamard_plan plan(n);
  REQUIRE_OK(rotq::cuda::hadamard(plan, rows, in.input(), direct.output(), nullptr));
  rotq_test::captured_graph graph;
  graph.capture_and_replay([&](cudaStream_t stream) {
    return rotq::cuda::hadamard(plan, rows, in.input(), replayed.output(), stream);
  });
  CHECK(rotq_test::first_mismatch("replayed rows", replayed.values(), direct.values(), n) == "");
}

TEST_CASE("hadamard: kernels past 48 KiB of shared memory opt in and replay inside a CUDA graph") {
  // Run alone (ctest gives every case its own process), nothing has launched these kernels
  // before the capture, so their opt-in (a function attribute, set once per kernel and device)
  // happens while the stream is being captured. The same launches then run directly and must
  // give the same bits.
  struct shape {
    std::size_t n;
    element_type type;
  };
  for (const shape s : {shape{16384, element_type::float16}, shape{32768, element_type::float32},
                        shape{28672, element_type::bfloat16}}) {
    INFO("n = " << s.n << ", " << rotq_test::name_of(s.type));
    const std::size_t rows = 3, n = s.n;
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, s.type, 7u);
    device_rows in(x, s.type, n);
    device_rows replayed(x, s.type, n), direct(x, s.type, n);
    rotq::cuda::quant_options q;  // per-group statistics also go through shared memory
    q.format = rotq::cuda::quant_format::int4;
    q.group_size = 128;
    rotq_test::device_quantized replayed_codes(rows, n, q), direct_codes(rows, n, q);
    const rotq::cuda::hadamard_plan plan(n);
    rotq_test::captured_graph graph;
    graph.capture_and_replay([&](cudaStream_t stream) {
      const rotq::cuda::status transformed =
          rotq::cuda::hadamard(plan, rows, in.input(), replayed.output(), stream);
      if (!transformed) return transformed;
      return rotq::cuda::hadamard_quantize(plan, rows, in.input(), nullptr, q,
                                           replayed_codes.output(), stream);
    });
    REQUIRE_OK(rotq::cuda::hadamard(plan, rows, in.input(), direct.output(), nullptr));
    REQUIRE_OK(rotq::cuda::hadamard_quantize(plan, rows, in.input(), nullptr, q,
                                             direct_codes.output(), nullptr));
    CHECK(rotq_test::first_mismatch("replayed rows", replayed.values(), direct.values(), n) == "");
    bool replayed_padding = false, direct_padding = false;
    rotq_test::check_same_codes(replayed_codes.compact(replayed_padding),
                                direct_codes.compact(direct_padding), n, q);
    const std::vector<double> ref = reference_rows(x, rows, n, n);
    const rotq_test::worst_difference worst = max_error(direct.values(), n, ref, rows, n);
    INFO(worst.describe());
    CHECK(worst.error <= tolerance(ref, n, s.type));
  }
}

TEST_CASE("hadamard: a row gets the same bits in a launch of few rows as in one of many") {
  // Launches of at most decode_max_rows rows spread each row over more threads (the decode
  // tiling); the arithmetic must not depend on the launch's size. Sizes whose decode tiling has
  // fewer slots than the library's, with and without the cross-warp exchange and H_m, and one
  // whose tilings agree (32768); int8 per token and int4 in groups for the fused kernel.
  const std::size_t few = 5, many = 2 * rotq::cuda::detail::decode_max_rows + 3;
  for (const std::size_t n : {256, 2048, 4096, 8192, 16384, 32768, 3072, 11008, 14336}) {
    INFO("n = " << n);
    const element_type type = element_type::bfloat16;
    const std::vector<float> x = rotq_test::gaussian_rows(many, n, n, type, 9u + n);
    device_rows in(x, type, n);
    device_rows all(x, type, n), first(x, type, n);
    rotq::cuda::hadamard_options random_signs;
    random_signs.random_signs = true;
    random_signs.seed = 3;
    const rotq::cuda::hadamard_plan plan(n, random_signs);
    REQUIRE_OK(rotq::cuda::hadamard(plan, many, in.input(), all.output(), nullptr));
    REQUIRE_OK(rotq::cuda::hadamard(plan, few, in.input(), first.output(), nullptr));
    const std::vector<float> y_all = all.values(), y_first = first.values();
    CHECK(rotq_test::first_mismatch("rows of the small launch",
                                    std::vector<float>(y_first.begin(), y_first.begin() + few * n),
                                    std::vector<float>(y_all.begin(), y_all.begin() + few * n),
                                    n) == "");
    for (const int group : {0, 128}) {
      rotq::cuda::quant_options q;
      q.format = group == 0 ? rotq::cuda::quant_format::int8 : rotq::cuda::quant_format::int4;
      q.group_size = static_cast<std::size_t>(group);
      rotq_test::device_quantized all_codes(many, n, q), first_codes(few, n, q);
      REQUIRE_OK(rotq::cuda::hadamard_quantize(plan, many, in.input(), nullptr, q,
                                               all_codes.output(), nullptr));
      REQUIRE_OK(rotq::cuda::hadamard_quantize(plan, few, in.input(), nullptr, q,
                                               first_codes.output(), nullptr));
      bool padding = false;
      rotq_test::check_same_codes(first_codes.compact(padding),
                                  rotq_test::first_rows(all_codes.compact(padding), few, n, q), n,
                                  q);
    }
  }
}

TEST_CASE("hadamard: more than 65535 CTAs and rows past 2^31 elements (64-bit offsets)",
          "[large]") {
  // n = 8192 takes one 256-thread CTA a row: 2^18 + 64 rows are 262208 CTAs, and the last rows
  // start beyond 2^31 elements (4 GiB of bf16; the int8 codes pass 2^31 bytes). The rows repeat
  // 64 random rows, so the last ones can be checked against a small launch on those 64 rows.
  const std::size_t n = 8192, period = 64, rows = (std::size_t{1} << 18) + period;
  const element_type type = element_type::bfloat16;
  REQUIRE(rows * n > (std::size_t{1} << 31));
  const std::vector<float> pattern = rotq_test::gaussian_rows(period, n, n, type, 8u);
  device_rows small(pattern, type, n);
  rotq_test::device_bytes big(rows * n * 2);
  REQUIRE_CUDA(cudaMemcpy(big.get(), small.memory.get(), period * n * 2, cudaMemcpyDeviceToDevice));
  for (std::size_t filled = period; filled < rows;) {  // doubling copies of the pattern rows
    const std::size_t copy = std::min(filled, rows - filled);
    REQUIRE_CUDA(cudaMemcpy(big.get<char>() + filled * n * 2, big.get(), copy * n * 2,
                            cudaMemcpyDeviceToDevice));
    filled += copy;
  }
  const rotq::cuda::device_input big_rows{big.get(), type, n};
  const rotq::cuda::hadamard_plan plan(n);

  rotq::cuda::quant_options q;  // int8 per token
  rotq_test::device_quantized codes(rows, n, q), small_codes(period, n, q);
  REQUIRE_OK(
      rotq::cuda::hadamard_quantize(plan, rows, big_rows, nullptr, q, codes.output(), nullptr));
  REQUIRE_OK(rotq::cuda::hadamard_quantize(plan, period, small.input(), nullptr, q,
                                           small_codes.output(), nullptr));
  REQUIRE_OK(rotq::cuda::hadamard(plan, rows, big_rows, {big.get(), type, n}, nullptr));
  REQUIRE_OK(rotq::cuda::hadamard(plan, period, small.input(), small.output(), nullptr));
  REQUIRE_CUDA(cudaDeviceSynchronize());

  // The last `period` rows (row r repeats pattern row r % period) against the small launch.
  const std::size_t first = rows - period;
  REQUIRE(first % period == 0);
  std::vector<unsigned char> tail(period * n * 2);
  REQUIRE_CUDA(cudaMemcpy(tail.data(), big.get<char>() + first * n * 2, tail.size(),
                          cudaMemcpyDeviceToHost));
  CHECK(rotq_test::first_mismatch("transformed rows past 2^31 elements",
                                  rotq_test::decode(tail, type), small.values(), n) == "");
  std::vector<std::uint8_t> tail_codes(period * n);
  REQUIRE_CUDA(cudaMemcpy(tail_codes.data(), codes.codes_at(first), tail_codes.size(),
                          cudaMemcpyDeviceToHost));
  std::vector<float> tail_scales(period);
  REQUIRE_CUDA(cudaMemcpy(tail_scales.data(), codes.scales_at(first), period * sizeof(float),
                          cudaMemcpyDeviceToHost));
  bool padding = false;
  const rotq_test::quantized_rows expected = small_codes.compact(padding);
  CHECK(rotq_test::first_mismatch("codes past 2^31 bytes", tail_codes, expected.codes, n) == "");
  CHECK(rotq_test::first_mismatch("scales of the last rows", tail_scales, expected.float_scales,
                                  1) == "");
}
