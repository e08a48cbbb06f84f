// GPU tests of what the public launchers and plans do with bad arguments: plans throw rotq::error
// naming the value; launchers return the right status, with the argument in the message, and
// launch nothing; no rows is a success whatever the pointers.

#include <rotq/cuda.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "cuda/device_rows.hpp"

namespace {

using rotq::cuda::element_type;
using rotq::cuda::status_code;

bool mentions(const rotq::cuda::status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("plans: unsupported sizes and bad tables throw rotq::error naming the value") {
  CHECK_THROWS_WITH(rotq::cuda::hadamard_plan(1), Catch::Contains("n = 1"));
  CHECK_THROWS_WITH(rotq::cuda::hadamard_plan(65536), Catch::Contains("n = 65536"));
  CHECK_THROWS_AS(rotq::cuda::hadamard_plan(6), rotq::error);  // m = 12 does not divide 6
  CHECK_THROWS_WITH(rotq::cuda::hadamard_plan(18), Catch::Contains("not a supported"));
  CHECK_THROWS_WITH(rotq::cuda::block_rotation_plan(12, std::vector<float>(144, 0.0f)),
                    Catch::Contains("block_size = 12"));
  CHECK_THROWS_WITH(rotq::cuda::block_rotation_plan(16, std::vector<float>(100, 0.0f)),
                    Catch::Contains("blocks.size() = 100"));
  CHECK_THROWS_WITH(rotq::cuda::block_rotation_plan(16, std::vector<float>(256, 0.0f),
                                                    std::vector<std::size_t>(16, 0)),
                    Catch::Contains("gather[1] = 0"));
  CHECK_THROWS_WITH(rotq::cuda::dense_rotation_plan(4, std::vector<float>(15, 0.0f)),
                    Catch::Contains("r.size() = 15"));
}

TEST_CASE("launchers: misaligned, short, overlapping or mistyped rows are refused") {
  const std::size_t n = 4096, rows = 4;
  rotq_test::device_bytes memory(2 * rows * n * sizeof(float) + 64);
  const rotq::cuda::hadamard_plan plan(n);
  char* base = memory.get<char>();
  const rotq::cuda::device_input in{base, element_type::float16, n};
  const rotq::cuda::device_output out{base + rows * n * 4, element_type::float16, n};
  REQUIRE_OK(rotq::cuda::hadamard(plan, rows, in, out, nullptr));

  const rotq::cuda::status shifted =
      rotq::cuda::hadamard(plan, rows, {base + 2, element_type::float16, n}, out, nullptr);
  CHECK(shifted.code() == status_code::misaligned_pointer);
  CHECK(mentions(shifted, "in.data"));
  CHECK(rotq::cuda::hadamard(plan, rows, in, {base + rows * n * 4, element_type::float16, n - 1},
                             nullptr)
            .code() == status_code::bad_shape);
  CHECK(
      rotq::cuda::hadamard(plan, rows, in, {base + 64, element_type::float16, n}, nullptr).code() ==
      status_code::bad_shape);  // overlaps the input
  CHECK(rotq::cuda::hadamard(plan, rows, in, {base + rows * n * 4, element_type::bfloat16, n},
                             nullptr)
            .code() == status_code::invalid_argument);
  // The staged kernel (n = 172) reads element by element: a 2-byte offset is fine there.
  const rotq::cuda::hadamard_plan narrow(172);
  REQUIRE_OK(rotq::cuda::hadamard(narrow, rows, {base + 2, element_type::float16, 172},
                                  {base + 2, element_type::float16, 172}, nullptr));

  rotq::cuda::hadamard_plan moved(n);
  const rotq::cuda::hadamard_plan taken(std::move(moved));
  const rotq::cuda::status empty = rotq::cuda::hadamard(moved, rows, in, out, nullptr);
  CHECK(empty.code() == status_code::invalid_argument);
  CHECK(mentions(empty, "plan is empty"));
  CHECK(moved.size() == 0);
  CHECK(taken.size() == n);
}

TEST_CASE("launchers: quantiser options outside what the kernels take are refused") {
  const std::size_t n = 4096, rows = 2;
  rotq_test::device_bytes memory(rows * n * 2 + rows * n + 4096);
  char* base = memory.get<char>();
  const rotq::cuda::device_input in{base, element_type::bfloat16, n};
  rotq::cuda::quantized_output out;
  out.codes = base + rows * n * 2;
  out.codes_stride = n;
  out.scales = base + rows * n * 3;
  out.scales_stride = 256;
  const rotq::cuda::hadamard_plan plan(n);
  rotq::cuda::quant_options q;
  REQUIRE_OK(rotq::cuda::hadamard_quantize(plan, rows, in, nullptr, q, out, nullptr));
  q.group_size = 96;
  CHECK(rotq::cuda::hadamard_quantize(plan, rows, in, nullptr, q, out, nullptr).code() ==
        status_code::unsupported_size);
  q.group_size = 0;
  q.symmetric = false;  // needs zero points
  CHECK(rotq::cuda::hadamard_quantize(plan, rows, in, nullptr, q, out, nullptr).code() ==
        status_code::invalid_argument);
  q.symmetric = true;
  const float* odd_divisor = reinterpret_cast<const float*>(base + 4);
  CHECK(rotq::cuda::hadamard_quantize(plan, rows, in, odd_divisor, q, out, nullptr).code() ==
        status_code::misaligned_pointer);
  CHECK(rotq::cuda::quantize(rows, 33, in, q, out, nullptr).code() ==
        status_code::unsupported_size);
  CHECK(rotq::cuda::quantize(rows, 65536, in, q, out, nullptr).code() ==
        status_code::unsupported_size);
}

TEST_CASE("launchers: rotations check their plans and types") {
  const std::size_t n = 256, rows = 2;
  rotq_test::device_bytes memory(4 * rows * n * sizeof(float));
  float* base = memory.get<float>();
  const rotq::cuda::dense_rotation_plan dense(n, std::vector<float>(n * n, 0.0f));
  CHECK(rotq::cuda::dense_rotate(dense, rows, {base, element_type::bfloat16, n},
                                 base + 2 * n * rows, n, nullptr)
            .code() == status_code::invalid_argument);
  CHECK(rotq::cuda::dense_rotate(dense, rows, {base, element_type::float32, n}, base + 2 * n * rows,
                                 n - 1, nullptr)
            .code() == status_code::bad_shape);
  REQUIRE_OK(rotq::cuda::dense_rotate(dense, rows, {base, element_type::float32, n},
                                      base + 2 * n * rows, n, nullptr));
  const rotq::cuda::block_rotation_plan block(16, std::vector<float>(16 * n, 0.0f));
  CHECK(rotq::cuda::block_rotate(block, rows, {base, element_type::float32, n},
                                 {base, element_type::float32, n}, nullptr)
            .code() == status_code::invalid_argument);  // not in place
  REQUIRE_OK(rotq::cuda::block_rotate(block, rows, {base, element_type::float32, n},
                                      {base + 2 * n * rows, element_type::float32, n}, nullptr));
}

TEST_CASE("launchers: no rows is a success that touches nothing, whatever the pointers") {
  rotq::cuda::quant_options q;
  const rotq::cuda::quantized_output nowhere;  // null codes and scales
  const rotq::cuda::hadamard_plan plan(4096), staged(172);
  const rotq::cuda::device_input none{nullptr, element_type::bfloat16, 4096};
  REQUIRE_OK(rotq::cuda::hadamard(plan, 0, none, {nullptr, element_type::bfloat16, 4096}, nullptr));
  REQUIRE_OK(rotq::cuda::hadamard(staged, 0, {nullptr, element_type::bfloat16, 172},
                                  {nullptr, element_type::bfloat16, 172}, nullptr));
  REQUIRE_OK(rotq::cuda::hadamard_quantize(plan, 0, none, nullptr, q, nowhere, nullptr));
  REQUIRE_OK(rotq::cuda::quantize(0, 4096, none, q, nowhere, nullptr));
  REQUIRE_OK(rotq::cuda::quantize(0, 100, none, q, nowhere, nullptr));
  const rotq::cuda::block_rotation_plan block(16, std::vector<float>(16 * 4096, 0.0f));
  REQUIRE_OK(
      rotq::cuda::block_rotate(block, 0, none, {nullptr, element_type::bfloat16, 4096}, nullptr));
  REQUIRE_OK(rotq::cuda::block_rotate_quantize(block, 0, none, q, nowhere, nullptr));
  const rotq::cuda::dense_rotation_plan dense(256, std::vector<float>(256 * 256, 0.0f),
                                              element_type::bfloat16);
  REQUIRE_OK(rotq::cuda::dense_rotate(dense, 0, {nullptr, element_type::bfloat16, 256}, nullptr,
                                      256, nullptr));
  REQUIRE_OK(rotq::cuda::dense_rotate_quantize(dense, 0, {nullptr, element_type::bfloat16, 256},
                                               nullptr, q, nowhere, nullptr));
  REQUIRE_OK(rotq::cuda::dense_rotate(dense, 0, {nullptr, element_type::bfloat16, 256},
                                      reinterpret_cast<float*>(std::uintptr_t{2}), 1, nullptr));
  REQUIRE_CUDA(cudaDeviceSynchronize());
}

TEST_CASE("launchers: dense rotations refuse a misaligned fp32 output before cuBLAS sees it") {
  const std::size_t n = 256, rows = 2;
  rotq_test::device_bytes memory(4 * rows * n * sizeof(float) + 16);
  float* base = memory.get<float>();
  const rotq::cuda::dense_rotation_plan dense(n, std::vector<float>(n * n, 0.0f));
  const rotq::cuda::status shifted = rotq::cuda::dense_rotate(
      dense, rows, {base, element_type::float32, n},
      reinterpret_cast<float*>(memory.get<char>() + 2 * n * rows * sizeof(float) + 2), n, nullptr);
  CHECK(shifted.code() == status_code::misaligned_pointer);
  CHECK(mentions(shifted, "4-byte aligned"));
}

TEST_CASE("launchers: outputs, workspaces and codes that overlap what a launch reads are refused") {
  const std::size_t n = 256, rows = 4;
  rotq_test::device_bytes memory(4 * rows * n * sizeof(float));
  float* base = memory.get<float>();
  const rotq::cuda::device_input in{base, element_type::float32, n};
  const rotq::cuda::dense_rotation_plan dense(n, std::vector<float>(n * n, 0.0f));
  const rotq::cuda::status onto_input =
      rotq::cuda::dense_rotate(dense, rows, in, base + n, n, nullptr);
  CHECK(onto_input.code() == status_code::bad_shape);
  CHECK(mentions(onto_input, "overlap out bytes"));
  rotq::cuda::quant_options q;
  rotq::cuda::quantized_output out;
  out.codes = base + 2 * rows * n;
  out.codes_stride = n;
  out.scales = base + 3 * rows * n;
  out.scales_stride = 1;
  const rotq::cuda::status workspace =
      rotq::cuda::dense_rotate_quantize(dense, rows, in, base, q, out, nullptr);
  CHECK(workspace.code() == status_code::bad_shape);
  CHECK(mentions(workspace, "overlap workspace bytes"));
  REQUIRE_OK(rotq::cuda::dense_rotate_quantize(dense, rows, in, base + rows * n, q, out, nullptr));
  // Codes over the rows being quantised: another CTA may still be reading them.
  rotq::cuda::quantized_output over = out;
  over.codes = base + n;
  const rotq::cuda::status codes = rotq::cuda::quantize(rows, n, in, q, over, nullptr);
  CHECK(codes.code() == status_code::bad_shape);
  CHECK(mentions(codes, "overlap out.codes bytes"));
  REQUIRE_CUDA(cudaDeviceSynchronize());
}
