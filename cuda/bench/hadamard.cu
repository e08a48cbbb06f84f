// bench_cuda_hadamard: the Hadamard kernels against a copy kernel moving the same bytes, in the
// same run, and the fused transform + quantiser against the unfused pair (hadamard, then
// quantize). Shapes: n from 64 to 32768 plus 11008 and 14336 (m = 172 and 28), rows from 1
// (decode) to 16384 (prefill). Counters: GB/s, copy_GB/s, copy_fraction (kernel bandwidth over
// copy bandwidth; 1 is copy speed), us_per_call, for the fused kernel speedup_vs_unfused, and
// for decode shapes graph_us_per_call (report_decode_latency).
//
// The tile sweep (BM_fused_tile) instantiates rows_kernel with other register and CTA budgets
// than the library's, through the kernel templates, for a GPU session to tune.

#include <rotq/cuda.hpp>
#include <rotq/cuda/detail/launch_arguments.hpp>
#include <rotq/cuda/kernels.cuh>

#include <cuda_bf16.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "../src/plan_states.hpp"
#include "timing.cuh"

namespace {

using rotq::cuda::element_type;
using rotq::cuda::quant_format;

const std::vector<std::int64_t> row_lengths = {64,   128,  256,   512,   1024,  2048,
                                               4096, 8192, 16384, 32768, 11008, 14336};
const std::vector<std::int64_t> row_counts = {1, 16, 256, 4096, 16384};

void shapes(benchmark::internal::Benchmark* b) {
  for (const std::int64_t n : row_lengths)
    for (const std::int64_t rows : row_counts) b->Args({n, rows});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

void fused_shapes(benchmark::internal::Benchmark* b) {
  for (const std::int64_t n : row_lengths)
    for (const std::int64_t rows : row_counts)
      for (const std::int64_t format : {0, 1, 2}) b->Args({n, rows, format});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

/// Format argument: 0 int8, 1 int4, 2 fp8 e4m3 (per-token scales): what Hopper GEMMs eat, and int4
/// for KV caches.
rotq::cuda::quant_options quantiser(std::int64_t format) {
  rotq::cuda::quant_options q;
  q.format = format == 0   ? quant_format::int8
             : format == 1 ? quant_format::int4
                           : quant_format::fp8_e4m3;
  return q;
}

/// Device codes and per-token scales for rows x n.
struct code_buffers {
  rotq_bench::device_memory codes, scales;
  rotq::cuda::quantized_output out;
  code_buffers(std::int64_t rows, std::int64_t n, const rotq::cuda::quant_options& q)
      : codes(static_cast<std::size_t>(rows) * rotq::cuda::code_bytes_per_row(q.format, n)),
        scales(static_cast<std::size_t>(rows) * sizeof(float)) {
    out.codes = codes.get();
    out.codes_stride = rotq::cuda::code_bytes_per_row(q.format, static_cast<std::size_t>(n));
    out.scales = scales.get();
    out.scales_stride = 1;
  }
};

void require(const rotq::cuda::status& s) {
  if (!s) {
    std::fprintf(stderr, "%s\n", s.message());
    std::exit(1);
  }
}

/// Decode shapes (at most 16 rows) also report graph_us_per_call: microseconds per call when 64
/// calls replay back to back from a CUDA graph, the launch-bound cost that kernels.md's 5 µs
/// target is about (us_per_call also holds the host's launch overhead between two events).
void report_decode_latency(benchmark::State& state, std::int64_t rows,
                           const std::function<void(cudaStream_t)>& launch) {
  if (rows <= 16)
    state.counters["graph_us_per_call"] = rotq_bench::graph_seconds_per_call(launch) * 1e6;
}

/// hadamard, bf16 or fp16 in and out (the "bar" of kernels.md), against a 2-in 2-out copy.
void BM_hadamard_bf16(benchmark::State& state) {
  const std::int64_t n = state.range(0), rows = state.range(1);
  rotq_bench::device_memory data(static_cast<std::size_t>(rows * n) * 2);
  const rotq::cuda::hadamard_plan plan(static_cast<std::size_t>(n));
  const rotq::cuda::device_input in{data.get(), element_type::bfloat16,
                                    static_cast<std::size_t>(n)};
  const rotq::cuda::device_output out{data.get(), element_type::bfloat16,
                                      static_cast<std::size_t>(n)};
  const double copy = rotq_bench::copy_seconds<16, 16>(rows * n);
  const auto launch = [&](cudaStream_t stream) {
    require(rotq::cuda::hadamard(plan, static_cast<std::size_t>(rows), in, out, stream));
  };
  rotq_bench::time_against_copy(
      state, [&] { launch(nullptr); }, 4.0 * double(rows * n), copy);
  report_decode_latency(state, rows, launch);
}
BENCHMARK(BM_hadamard_bf16)->Apply(shapes);

/// hadamard_quantize, bf16 in, per-token scales; and the unfused pair for the speedup.
void BM_hadamard_quantize_bf16(benchmark::State& state) {
  const std::int64_t n = state.range(0), rows = state.range(1);
  const rotq::cuda::quant_options q = quantiser(state.range(2));
  const std::size_t urows = static_cast<std::size_t>(rows), un = static_cast<std::size_t>(n);
  rotq_bench::device_memory data(urows * un * 2), rotated(urows * un * 2);
  code_buffers codes(rows, n, q);
  const rotq::cuda::hadamard_plan plan(un);
  const rotq::cuda::device_input in{data.get(), element_type::bfloat16, un};
  const double out_bytes = double(rotq::cuda::code_bytes_per_row(q.format, un)) + 4.0;
  const double bytes = double(rows) * (2.0 * double(n) + out_bytes);
  const double copy = q.format == quant_format::int4 ? rotq_bench::copy_seconds<16, 4>(rows * n)
                                                     : rotq_bench::copy_seconds<16, 8>(rows * n);
  const double unfused = rotq_bench::median_seconds([&] {
    require(rotq::cuda::hadamard(plan, urows, in, {rotated.get(), element_type::bfloat16, un},
                                 nullptr));
    require(rotq::cuda::quantize(urows, un, {rotated.get(), element_type::bfloat16, un}, q,
                                 codes.out, nullptr));
  });
  const auto launch = [&](cudaStream_t stream) {
    require(rotq::cuda::hadamard_quantize(plan, urows, in, nullptr, q, codes.out, stream));
  };
  rotq_bench::time_against_copy(
      state, [&] { launch(nullptr); }, bytes, copy);
  state.counters["speedup_vs_unfused"] = unfused / (state.counters["us_per_call"].value * 1e-6);
  report_decode_latency(state, rows, launch);
}
BENCHMARK(BM_hadamard_quantize_bf16)->Apply(fused_shapes);

/// quantize alone (the second kernel of the unfused pair), bf16 in, int8 per token.
void BM_quantize_bf16(benchmark::State& state) {
  const std::int64_t n = state.range(0), rows = state.range(1);
  const rotq::cuda::quant_options q = quantiser(0);
  const std::size_t urows = static_cast<std::size_t>(rows), un = static_cast<std::size_t>(n);
  rotq_bench::device_memory data(urows * un * 2);
  code_buffers codes(rows, n, q);
  const double copy = rotq_bench::copy_seconds<16, 8>(rows * n);
  rotq_bench::time_against_copy(
      state,
      [&] {
        require(rotq::cuda::quantize(urows, un, {data.get(), element_type::bfloat16, un}, q,
                                     codes.out, nullptr));
      },
      double(rows) * (3.0 * double(n) + 4.0), copy);
}
BENCHMARK(BM_quantize_bf16)->Apply(shapes);

/// The fused kernel (bf16 in, int8 per token) in other tile configurations than the library's:
/// Slots register vectors per thread, MaxThreads the register budget. Only powers of two and
/// m * 2^k rows this configuration can tile are run.
template <int Slots, int MaxThreads>
void BM_fused_tile(benchmark::State& state) {
  namespace cd = rotq::cuda::detail;
  const std::int64_t n = state.range(0), rows = state.range(1);
  const std::size_t un = static_cast<std::size_t>(n), urows = static_cast<std::size_t>(rows);
  const rotq::cuda::hadamard_plan plan(un);
  cd::rows_params p;
  if (!cd::choose_row_tiling(int(n), int(plan.base_order()), true, Slots,
                             cd::library_row_cta_threads, p.tiling) ||
      p.tiling.rows_per_cta * p.tiling.row_threads > MaxThreads) {
    state.SkipWithError("this tile configuration cannot take the row");
    return;
  }
  const rotq::cuda::quant_options q = quantiser(0);
  rotq_bench::device_memory data(urows * un * 2);
  code_buffers codes(rows, n, q);
  p.tables = plan.state()->tables;  // the plan's device tables, as hadamard_quantize passes them
  p.smem = cd::row_smem(p.tiling, true, true, false);
  p.io.rows = rows;
  p.io.in = data.get();
  p.io.in_stride = n;
  p.transform = true;
  p.target = cd::to_code_target(q, codes.out, un);
  const double copy = rotq_bench::copy_seconds<16, 8>(rows * n);
  rotq_bench::time_against_copy(
      state,
      [&] {
        rotq_bench::check(rotq::cuda::kernels::launch_rows_with<Slots, MaxThreads, __nv_bfloat16>(
                              p, true, nullptr),
                          "launch");
      },
      double(rows) * (3.0 * double(n) + 4.0), copy);
}
BENCHMARK_TEMPLATE(BM_fused_tile, 2, 256)->Apply(shapes);
BENCHMARK_TEMPLATE(BM_fused_tile, 8, 512)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
