// GPTQ on a LLaMA-7B-sized layer (4096 x 4096 weight, Hessian from 2048 calibration tokens) against
// round-to-nearest on the same weight, its baseline: GPTQ's price is the Hessian, the inverse
// Cholesky factor and the column walk. Every benchmark runs on one thread (Eigen without OpenMP).
//
//   bench_gptq --benchmark_out=bench/results/gptq_<machine>.json --benchmark_out_format=json

#include <rotq/gptq.hpp>
#include <rotq/quantize.hpp>

#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include <cstddef>

#include "llama7b_layer.hpp"

namespace {

using rotq_bench::calibration_tokens;
using rotq_bench::gaussian;
using rotq_bench::layer_width;
using rotq_bench::row_major_f;

// Built once: the weight, calibration inputs of low effective rank (as activations are) and
// their Hessian.
struct layer {
  row_major_f weights = gaussian(layer_width, layer_width, 1);
  row_major_f inputs = (gaussian(calibration_tokens, 64, 2) * gaussian(64, layer_width, 3) +
                        0.1f * gaussian(calibration_tokens, layer_width, 4))
                           .eval();
  Eigen::MatrixXd hessian = [this] {
    rotq::hessian_accumulator accumulator(static_cast<std::size_t>(layer_width));
    accumulator.add(inputs);
    return accumulator.hessian();
  }();
};

const layer& the_layer() {
  static const layer instance;
  return instance;
}

void BM_rtn(benchmark::State& state) {
  const layer& l = the_layer();
  const rotq::quant_spec spec{4, true, static_cast<std::size_t>(state.range(0)), 1.0};
  row_major_f w = l.weights;
  for (auto _ : state) {
    state.PauseTiming();
    w = l.weights;
    state.ResumeTiming();
    rotq::fake_quantize_rows(w, spec);
    benchmark::DoNotOptimize(w.data());
  }
}

void BM_hessian(benchmark::State& state) {
  const layer& l = the_layer();
  for (auto _ : state) {
    rotq::hessian_accumulator accumulator(static_cast<std::size_t>(layer_width));
    accumulator.add(l.inputs);
    benchmark::DoNotOptimize(accumulator.hessian().data());
  }
}

void BM_inverse_cholesky(benchmark::State& state) {
  const layer& l = the_layer();
  Eigen::MatrixXd damped = l.hessian;
  damped.diagonal().array() += 0.01 * damped.diagonal().mean();
  for (auto _ : state) benchmark::DoNotOptimize(rotq::detail::inverse_upper_cholesky(damped));
}

void BM_gptq(benchmark::State& state) {
  const layer& l = the_layer();
  const rotq::quant_spec spec{4, true, static_cast<std::size_t>(state.range(0)), 1.0};
  rotq::gptq_options options;
  options.act_order = state.range(1) != 0;
  options.static_groups = options.act_order;
  for (auto _ : state)
    benchmark::DoNotOptimize(rotq::gptq_quantize(l.weights, l.hessian, spec, options));
}

}  // namespace

// Arguments: group size (0: one scale per row); for GPTQ also act order (0 / 1).
BENCHMARK(BM_rtn)->Arg(0)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_hessian)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_inverse_cholesky)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_gptq)
    ->Args({0, 0})
    ->Args({128, 0})
    ->Args({0, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

BENCHMARK_MAIN();
