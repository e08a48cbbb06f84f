// GPU tests of the block-diagonal (DuQuant) and dense (cuBLAS) rotations: rows against the host
// transforms in double (rotq::permutation then rotq::block_rotation; X R), the fused or chained
// quantisers bit-identical to rotq/quantize.hpp on the fp32 rows the GPU rotation writes, and the
// dense path on several streams and inside a CUDA graph (its plan's own cuBLAS workspace).

#include <rotq/cuda.hpp>
#include <rotq/permutation.hpp>
#include <rotq/rotation.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "cuda/comparisons.hpp"
#include "cuda/device_rows.hpp"
#include "cuda/graph_replay.hpp"
#include "cuda/quantized_rows.hpp"

namespace {

using rotq::cuda::element_type;
using rotq_test::device_rows;
using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

row_major to_matrix(const std::vector<float>& x, std::size_t rows, std::size_t n,
                    std::size_t stride) {
  row_major m(rows, n);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < n; ++c) m(Eigen::Index(r), Eigen::Index(c)) = x[r * stride + c];
  return m;
}

rotq_test::worst_difference max_difference(const std::vector<float>& y, const row_major& ref,
                                           std::size_t stride) {
  return rotq_test::find_worst_difference(
      y, stride, std::size_t(ref.rows()), std::size_t(ref.cols()),
      [&](std::size_t r, std::size_t c) { return ref(Eigen::Index(r), Eigen::Index(c)); });
}

std::vector<std::size_t> shuffled(std::size_t n, unsigned seed) {
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  std::shuffle(perm.begin(), perm.end(), std::mt19937(seed));
  return perm;
}

}  // namespace

TEST_CASE("block_rotate: x P R against rotq::permutation and rotq::block_rotation in double") {
  for (const std::size_t bs : {16, 64, 128, 256})
    for (const std::size_t blocks : {1, 3, 32})
      for (const bool gather : {false, true}) {
        const std::size_t n = bs * blocks;
        if (n > 32768) continue;
        for (const element_type type : {element_type::float32, element_type::bfloat16}) {
          INFO("bs = " << bs << ", n = " << n << (gather ? ", gathered, " : ", ")
                       << rotq_test::name_of(type));
          std::vector<Eigen::MatrixXd> matrices;
          std::vector<float> packed;
          for (std::size_t b = 0; b < blocks; ++b) {
            matrices.push_back(rotq::random_orthogonal(bs, 100 + b));
            for (Eigen::Index i = 0; i < Eigen::Index(bs); ++i)
              for (Eigen::Index j = 0; j < Eigen::Index(bs); ++j)
                packed.push_back(static_cast<float>(matrices.back()(i, j)));
          }
          // The host transform in double uses the float matrices the GPU gets.
          std::vector<Eigen::MatrixXd> rounded;
          for (const Eigen::MatrixXd& m : matrices)
            rounded.push_back(m.cast<float>().cast<double>());
          const std::vector<std::size_t> perm =
              gather ? shuffled(n, 7) : std::vector<std::size_t>{};
          const rotq::cuda::block_rotation_plan plan(bs, packed, perm);
          const std::size_t rows = 5, stride = n + 8;
          const std::vector<float> x = rotq_test::gaussian_rows(rows, n, stride, type, 21u);
          device_rows in(x, type, stride);
          device_rows out(std::vector<float>(rows * stride, 0.0f), type, stride);
          REQUIRE_OK(rotq::cuda::block_rotate(plan, rows, in.input(), out.output(), nullptr));

          row_major ref = to_matrix(x, rows, n, stride);
          if (gather) rotq::permutation(perm).apply_activations(ref);
          // block_rotation demands orthogonality to 1e-6; the float-rounded blocks are applied by
          // hand.
          for (std::size_t b = 0; b < blocks; ++b)
            ref.middleCols(Eigen::Index(b * bs), Eigen::Index(bs)) =
                ref.middleCols(Eigen::Index(b * bs), Eigen::Index(bs)) * rounded[b];
          const double largest = ref.cwiseAbs().maxCoeff();
          const rotq_test::worst_difference worst = max_difference(out.values(), ref, stride);
          INFO(worst.describe());
          CHECK(worst.error <=
                largest * (4 * rotq_test::unit_roundoff(type) + 4 * 0x1p-24 * double(bs)));
        }
      }
}

TEST_CASE("block_rotate_quantize: bit-identical to the host quantiser on block_rotate's rows") {
  const std::size_t bs = 128, n = 4096, rows = 7;
  std::vector<float> packed;
  for (std::size_t b = 0; b < n / bs; ++b) {
    const Eigen::MatrixXd r = rotq::random_orthogonal(bs, 300 + b);
    for (Eigen::Index i = 0; i < Eigen::Index(bs); ++i)
      for (Eigen::Index j = 0; j < Eigen::Index(bs); ++j) packed.push_back(float(r(i, j)));
  }
  const rotq::cuda::block_rotation_plan plan(bs, packed, shuffled(n, 9));
  for (const element_type type : {element_type::float32, element_type::float16}) {
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, type, 22u);
    device_rows in(x, type, n);
    // The fp32 rows the plain kernel writes for the same values.
    device_rows in32(x, element_type::float32, n);
    device_rows out32(std::vector<float>(rows * n, 0.0f), element_type::float32, n);
    REQUIRE_OK(rotq::cuda::block_rotate(plan, rows, in32.input(), out32.output(), nullptr));
    const std::vector<float> y = out32.values();
    for (const rotq::cuda::quant_options& q : rotq_test::quantisers_for(n)) {
      INFO(rotq_test::name_of(type)
           << ", " << rotq_test::format_name(q.format) << ", group " << q.group_size);
      rotq_test::device_quantized out(rows, n, q, 2);
      REQUIRE_OK(
          rotq::cuda::block_rotate_quantize(plan, rows, in.input(), q, out.output(), nullptr));
      bool padding_intact = false;
      const rotq_test::quantized_rows gpu = out.compact(padding_intact);
      CHECK(padding_intact);
      rotq_test::check_same_codes(gpu, rotq_test::host_quantize(y, rows, n, q), n, q);
    }
  }
}

TEST_CASE("dense_rotate: X R through cuBLAS, and dense_rotate_quantize quantises those rows") {
  for (const element_type type : {element_type::float32, element_type::bfloat16}) {
    const std::size_t n = 512, rows = 19, stride = n + 8;
    const Eigen::MatrixXd r = rotq::random_orthogonal(n, 31);
    std::vector<float> packed;
    for (Eigen::Index i = 0; i < Eigen::Index(n); ++i)
      for (Eigen::Index j = 0; j < Eigen::Index(n); ++j) packed.push_back(float(r(i, j)));
    const rotq::cuda::dense_rotation_plan plan(n, packed, type);
    const std::vector<float> x = rotq_test::gaussian_rows(rows, n, stride, type, 32u);
    device_rows in(x, type, stride);
    rotq_test::device_bytes out(rows * n * sizeof(float));
    REQUIRE_OK(rotq::cuda::dense_rotate(plan, rows, in.input(), out.get<float>(), n, nullptr));
    const std::vector<float> y = out.download<float>();

    Eigen::MatrixXd used(n, n);  // R as the GEMM sees it: rounded to the input type
    for (Eigen::Index i = 0; i < Eigen::Index(n); ++i)
      for (Eigen::Index j = 0; j < Eigen::Index(n); ++j)
        used(i, j) = rotq_test::round_to(type, float(r(i, j)));
    const row_major ref = to_matrix(x, rows, n, stride) * used;
    const rotq_test::worst_difference worst = max_difference(y, ref, n);
    INFO(worst.describe());
    CHECK(worst.error <= ref.cwiseAbs().maxCoeff() * 1e-5);

    rotq_test::device_bytes workspace(rows * n * sizeof(float));
    for (const rotq::cuda::quant_options& q : rotq_test::quantisers_for(n)) {
      INFO(rotq_test::name_of(type)
           << ", " << rotq_test::format_name(q.format) << (q.symmetric ? "" : " asymmetric")
           << ", group " << q.group_size);
      rotq_test::device_quantized codes(rows, n, q);
      REQUIRE_OK(rotq::cuda::dense_rotate_quantize(plan, rows, in.input(), workspace.get<float>(),
                                                   q, codes.output(), nullptr));
      bool padding_intact = false;
      // cuBLAS gives the same bits for the same GEMM on the same GPU.
      rotq_test::check_same_codes(codes.compact(padding_intact),
                                  rotq_test::host_quantize(y, rows, n, q), n, q);
    }
  }
}

TEST_CASE(
    "dense_rotate: the same bits on another stream, after a stream change, and replayed in a CUDA "
    "graph") {
  // Every launch sets the handle's stream, which puts cuBLAS back on its default workspace pool;
  // the launcher then hands it the plan's workspace again, so nothing is allocated during a
  // capture and every launch runs the same GEMM.
  const std::size_t n = 1024, rows = 37;
  const Eigen::MatrixXd r = rotq::random_orthogonal(n, 33);
  std::vector<float> packed;
  for (Eigen::Index i = 0; i < Eigen::Index(n); ++i)
    for (Eigen::Index j = 0; j < Eigen::Index(n); ++j) packed.push_back(float(r(i, j)));
  const rotq::cuda::dense_rotation_plan plan(n, packed, element_type::bfloat16);
  const std::vector<float> x = rotq_test::gaussian_rows(rows, n, n, element_type::bfloat16, 34u);
  device_rows in(x, element_type::bfloat16, n);
  rotq_test::device_bytes direct(rows * n * sizeof(float)), streamed(rows * n * sizeof(float)),
      replayed(rows * n * sizeof(float)), workspace(rows * n * sizeof(float));
  rotq::cuda::quant_options q;
  q.format = rotq::cuda::quant_format::fp8_e4m3;
  q.group_size = 128;
  rotq_test::device_quantized direct_codes(rows, n, q), replayed_codes(rows, n, q);

  REQUIRE_OK(rotq::cuda::dense_rotate(plan, rows, in.input(), direct.get<float>(), n, nullptr));
  REQUIRE_OK(rotq::cuda::dense_rotate_quantize(plan, rows, in.input(), workspace.get<float>(), q,
                                               direct_codes.output(), nullptr));
  // Launches of one plan must not overlap (they share its workspace), and cuBLAS promises the
  // same bits while one stream is active.
  REQUIRE_CUDA(cudaDeviceSynchronize());
  cudaStream_t other = nullptr;
  REQUIRE_CUDA(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking));
  const rotq::cuda::status on_other =
      rotq::cuda::dense_rotate(plan, rows, in.input(), streamed.get<float>(), n, other);
  const cudaError_t synchronised = cudaStreamSynchronize(other);
  cudaStreamDestroy(other);
  REQUIRE_OK(on_other);
  REQUIRE_CUDA(synchronised);

  rotq_test::captured_graph graph;
  graph.capture_and_replay([&](cudaStream_t stream) {
    const rotq::cuda::status rotated =
        rotq::cuda::dense_rotate(plan, rows, in.input(), replayed.get<float>(), n, stream);
    if (!rotated) return rotated;
    return rotq::cuda::dense_rotate_quantize(plan, rows, in.input(), workspace.get<float>(), q,
                                             replayed_codes.output(), stream);
  });

  const std::vector<float> expected = direct.download<float>();
  CHECK(rotq_test::first_mismatch("rows on another stream", streamed.download<float>(), expected,
                                  n) == "");
  CHECK(rotq_test::first_mismatch("rows replayed in a graph", replayed.download<float>(), expected,
                                  n) == "");
  bool padding = false;
  rotq_test::check_same_codes(replayed_codes.compact(padding), direct_codes.compact(padding), n, q);
}
