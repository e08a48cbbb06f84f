// Calibration cost of each method on a LLaMA-7B-sized layer input (4096 channels, 2048 calibration
// tokens, Gaussian with planted outlier channels and massive tokens), against one forward product
// of the layer, X W^T with a 4096 x 4096 weight: the work every calibration pass does anyway.
// Every benchmark runs on one thread (Eigen without OpenMP).
//
//   bench_calibration --benchmark_out=bench/results/calibration_<machine>.json \
//                     --benchmark_out_format=json

#include <rotq/calibration.hpp>
#include <rotq/dfrot.hpp>
#include <rotq/duquant.hpp>
#include <rotq/hadamard_transform.hpp>
#include <rotq/procrustes.hpp>
#include <rotq/quantize.hpp>
#include <rotq/smoothing.hpp>
#include <rotq/stats.hpp>

#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include <cstddef>

#include "llama7b_layer.hpp"

namespace {

using rotq_bench::calibration_tokens;
using rotq_bench::gaussian;
using rotq_bench::layer_width;
using rotq_bench::row_major_f;

/// Activations of `width` channels: one channel in 64 is 20x larger (outlier channels), and one
/// token in 256 is massive (two channels at +500 and -300, the rest small).
row_major_f activations(Eigen::Index width) {
  row_major_f x = gaussian(calibration_tokens, width, 1);
  for (Eigen::Index c = 7; c < width; c += 64) x.col(c) *= 20.0f;
  for (Eigen::Index t = 0; t < calibration_tokens; t += 256) {
    x.row(t) *= 0.05f;
    x(t, 11) = 500.0f;
    x(t, width / 2 + 3) = -300.0f;
  }
  return x;
}

struct layer {
  row_major_f x = activations(layer_width);
  row_major_f weights = (0.02f * gaussian(layer_width, layer_width, 2)).eval();
};

const layer& the_layer() {
  static const layer instance;
  return instance;
}

void BM_layer_product(benchmark::State& state) {
  const layer& l = the_layer();
  row_major_f y(calibration_tokens, layer_width);
  for (auto _ : state) {
    y.noalias() = l.x * l.weights.transpose();
    benchmark::DoNotOptimize(y.data());
  }
}

void BM_collect_statistics(benchmark::State& state) {
  const layer& l = the_layer();
  for (auto _ : state) {
    rotq::activation_statistics stats{std::size_t(layer_width), std::size_t(calibration_tokens)};
    stats.add(l.x);
    benchmark::DoNotOptimize(stats.channel_absmax().data());
  }
}

// q, k and v read one input: the weight statistic spans three 4096 x 4096 matrices.
void BM_smoothing_scales(benchmark::State& state) {
  const layer& l = the_layer();
  const Eigen::VectorXd act = l.x.cwiseAbs().colwise().maxCoeff().cast<double>().transpose();
  for (auto _ : state) {
    const Eigen::VectorXd w = rotq::weight_column_absmax({l.weights, l.weights, l.weights});
    benchmark::DoNotOptimize(rotq::smoothing_scales(act, w, 0.5).data());
  }
}

void BM_greedy_block_rotation(benchmark::State& state) {
  const layer& l = the_layer();
  rotq::greedy_rotation_options options;
  options.steps = static_cast<std::size_t>(state.range(0));
  for (auto _ : state)
    benchmark::DoNotOptimize(rotq::greedy_block_rotation(l.x, 128, options).blocks().data());
}

void BM_zigzag_permutation(benchmark::State& state) {
  const layer& l = the_layer();
  const Eigen::VectorXd absmax = l.x.cwiseAbs().colwise().maxCoeff().cast<double>().transpose();
  for (auto _ : state)
    benchmark::DoNotOptimize(rotq::zigzag_permutation(absmax, 128).perm().data());
}

// Procrustes of the layer's features (hidden = state.range(0)) onto their 4-bit quantisation: the
// step DFRot repeats.
void BM_procrustes(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const row_major_f x = activations(n);
  row_major_f q = x;
  rotq::fake_quantize_rows(q, rotq::quant_spec{});
  const Eigen::MatrixXd a = x.cast<double>(), b = q.cast<double>();
  for (auto _ : state) benchmark::DoNotOptimize(rotq::procrustes(a, b).data());
}

// DFRot from a random Hadamard start: hidden = state.range(0), iterations = state.range(1).
void BM_dfrot(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const row_major_f x = activations(n);
  const Eigen::MatrixXd start = rotq::random_hadamard(std::size_t(n), 0).matrix();
  rotq::dfrot_options options;
  options.iterations = static_cast<std::size_t>(state.range(1));
  for (auto _ : state)
    benchmark::DoNotOptimize(rotq::dfrot_refine(x, start, options).rotation.data());
}

void BM_weight_kurtosis(benchmark::State& state) {
  const layer& l = the_layer();
  for (auto _ : state) benchmark::DoNotOptimize(rotq::weight_kurtosis(l.weights));
}

void BM_activation_kurtosis_per_channel(benchmark::State& state) {
  const layer& l = the_layer();
  for (auto _ : state) benchmark::DoNotOptimize(rotq::activation_kurtosis_per_channel(l.x).data());
}

}  // namespace

BENCHMARK(BM_layer_product)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_collect_statistics)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_smoothing_scales)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_zigzag_permutation)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_weight_kurtosis)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_activation_kurtosis_per_channel)->Unit(benchmark::kMillisecond)->UseRealTime();
// Argument: greedy steps N (bs = 128).
BENCHMARK(BM_greedy_block_rotation)
    ->Arg(256)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
// Argument: hidden size (1024 for the scaling, 4096 for the layer).
BENCHMARK(BM_procrustes)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);
// Arguments: hidden size, iterations; the 1024 pair gives the cost per iteration.
BENCHMARK(BM_dfrot)
    ->Args({1024, 1})
    ->Args({1024, 5})
    ->Args({4096, 1})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

BENCHMARK_MAIN();
