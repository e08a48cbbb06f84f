// GPU tests of rotq::cuda::hadamard: every kind of size (powers of two from 8 to 32768, m * 2^k
// with short and long chunks) and element type against rotq::fwht in double, in place, strides,
// odd row counts, random signs and their inverse, both normalisations, orthogonality from the
// identity, and replay inside a CUDA graph.

#include <rotq/cuda.hpp>
#include <rotq/hadamard.hpp>
#include <rotq/hadamard_transform.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda/device_rows.hpp"

namespace {

using rotq::cuda::element_type;
using rotq_test::device_rows;

constexpr element_type all_types[] = {element_type::float32, element_type::float16,
                                      element_type::bfloat16};

/// Sizes that reach every path: powers of two with 1 to 32 warps a row (with and without the
/// shared-memory exchange), m * 2^k with chunks of 8 to 1024 elements (vectorised) and with chunks
/// shorter than a vector (staged: 12, 20, 80, 112, 172, 344, 688).
const std::vector<std::size_t> sizes = {
    8,  16, 64,  128, 256, 512, 1024, 2048, 4096, 8192,  16384, 32768, 12,    20,
    80, 96, 112, 172, 344, 688, 768,  3072, 5120, 11008, 13824, 14336, 18944, 28672};

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

double max_error(const std::vector<float>& y, std::size_t stride, const std::vector<double>& ref,
                 std::size_t rows, std::size_t n) {
  double worst = 0.0;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < n; ++c)
      worst = std::max(worst, std::abs(double(y[r * stride + c]) - ref[r * n + c]));
  return worst;
}

bool padding_untouched(const std::vector<float>& before, const std::vector<float>& after,
                       std::size_t rows, std::size_t n, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = n; c < stride; ++c)
      if (before[r * stride + c] != after[r * stride + c]) return false;
  return true;
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
      CHECK(max_error(y, stride, ref, rows, n) <= tolerance(ref, n, type));
      CHECK(padding_untouched(marker, y, rows, n, stride));
      CHECK(in.values() == x);  // the input is read only
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
      CHECK(max_error(y, stride, ref, rows, n) <= tolerance(ref, n, element_type::bfloat16));
      CHECK(padding_untouched(x, y, rows, n, stride));
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
      double worst = 0.0, largest = 0.0;
      for (std::size_t i = 0; i < y.size(); ++i) {
        worst = std::max(worst, std::abs(y[i] - ref.data()[i]));
        largest = std::max(largest, std::abs(ref.data()[i]));
      }
      const double m = double(rotq::hadamard_base_order(n));
      CHECK(worst <= largest * 4 * 0x1p-24 * (std::sqrt(std::log2(double(n))) + m));
    }

    REQUIRE_OK(rotq::cuda::hadamard(undo, rows, data.input(), data.output(), nullptr));
    const std::vector<float> back = data.values();
    double worst = 0.0, largest = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      worst = std::max(worst, double(std::abs(back[i] - x[i])));
      largest = std::max(largest, double(std::abs(x[i])));
    }
    // Two transforms' fp32 roundings.
    const double m = double(rotq::hadamard_base_order(n));
    CHECK(worst <= largest * 8 * 0x1p-24 * (std::sqrt(std::log2(double(n))) + m));
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
    CHECK(max_error(data.values(), n, ref, rows, n) <= tolerance(ref, n, element_type::float32));
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

  cudaStream_t stream = nullptr;
  REQUIRE_CUDA(cudaStreamCreate(&stream));
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  REQUIRE_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  const rotq::cuda::status captured =
      rotq::cuda::hadamard(plan, rows, in.input(), replayed.output(), stream);
  REQUIRE_CUDA(cudaStreamEndCapture(stream, &graph));
  REQUIRE_OK(captured);
  REQUIRE_CUDA(cudaGraphInstantiate(&exec, graph, 0));
  REQUIRE_CUDA(cudaGraphLaunch(exec, stream));
  REQUIRE_CUDA(cudaStreamSynchronize(stream));
  CHECK(replayed.values() == direct.values());
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}
