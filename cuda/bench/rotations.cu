// bench_cuda_rotations: the fused block rotation + quantiser (DuQuant's online transform) and the
// dense rotation through cuBLAS followed by the quantise kernel, each against a copy kernel moving
// the bytes a fused kernel would move (bf16 in, int8 codes and per-token scales out), in the same
// run. The dense path also reports its cost split: GEMM alone and quantiser alone.

#include <rotq/cuda.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "timing.cuh"

namespace {

using rotq::cuda::element_type;

void require(const rotq::cuda::status& s) {
  if (!s) {
    std::fprintf(stderr, "%s\n", s.message());
    std::exit(1);
  }
}

std::vector<float> random_matrices(std::size_t count, std::size_t size) {
  std::mt19937 gen(1);
  std::normal_distribution<float> dist(0.0f, 1.0f / std::sqrt(float(size)));
  std::vector<float> m(count * size * size);
  for (float& x : m) x = dist(gen);
  return m;
}

struct int8_codes {
  rotq_bench::device_memory codes, scales;
  rotq::cuda::quantized_output out;
  int8_codes(std::size_t rows, std::size_t n) : codes(rows * n), scales(rows * sizeof(float)) {
    out.codes = codes.get();
    out.codes_stride = n;
    out.scales = scales.get();
    out.scales_stride = 1;
  }
};

/// Arguments: n, block size, rows.
void BM_block_rotate_quantize_bf16(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0)), bs = std::size_t(state.range(1)),
                    rows = std::size_t(state.range(2));
  std::vector<std::size_t> gather(n);
  for (std::size_t j = 0; j < n; ++j) gather[j] = (j * 7919) % n;  // 7919 is prime: a permutation
  const rotq::cuda::block_rotation_plan plan(bs, random_matrices(n / bs, bs), gather);
  rotq_bench::device_memory data(rows * n * 2);
  int8_codes codes(rows, n);
  const double copy = rotq_bench::copy_seconds<16, 8>(std::int64_t(rows * n));
  rotq_bench::time_against_copy(
      state,
      [&] {
        require(rotq::cuda::block_rotate_quantize(
            plan, rows, {data.get(), element_type::bfloat16, n}, {}, codes.out, nullptr));
      },
      double(rows) * (3.0 * double(n) + 4.0), copy);
}
BENCHMARK(BM_block_rotate_quantize_bf16)
    ->ArgsProduct({{4096, 11008, 14336}, {32, 128}, {16, 4096, 16384}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

/// Arguments: n, rows. Counters add gemm_us and quantize_us, the two kernels of the dense path.
void BM_dense_rotate_quantize_bf16(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0)), rows = std::size_t(state.range(1));
  const rotq::cuda::dense_rotation_plan plan(n, random_matrices(1, n), element_type::bfloat16);
  rotq_bench::device_memory data(rows * n * 2), workspace(rows * n * sizeof(float));
  int8_codes codes(rows, n);
  const rotq::cuda::device_input in{data.get(), element_type::bfloat16, n};
  const double copy = rotq_bench::copy_seconds<16, 8>(std::int64_t(rows * n));
  const double gemm = rotq_bench::median_seconds([&] {
    require(rotq::cuda::dense_rotate(plan, rows, in, workspace.get<float>(), n, nullptr));
  });
  const double quantize = rotq_bench::median_seconds([&] {
    require(rotq::cuda::quantize(rows, n, {workspace.get(), element_type::float32, n}, {},
                                 codes.out, nullptr));
  });
  rotq_bench::time_against_copy(
      state,
      [&] {
        require(rotq::cuda::dense_rotate_quantize(plan, rows, in, workspace.get<float>(), {},
                                                  codes.out, nullptr));
      },
      double(rows) * (3.0 * double(n) + 4.0), copy);
  state.counters["gemm_us"] = gemm * 1e6;
  state.counters["quantize_us"] = quantize * 1e6;
}
BENCHMARK(BM_dense_rotate_quantize_bf16)
    ->ArgsProduct({{1024, 4096}, {16, 4096, 16384}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
