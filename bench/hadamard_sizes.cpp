// Every size m * 2^k that rotq transforms through a base order m <= 172 (m = 4 * odd: the others
// reduce to a smaller base or are powers of two), up to 65536, against the power of two above it:
//   fwht_vs_pow2/float/<n>  CPU ns per rotq::fwht of n floats in cache; counters m and p (the base
//                           and the chunk length, n = m p) and x_pow2: this transform's time over
//                           the next power of two's, from interleaved timings (issue 2 asks for at
//                           most 3).
// One line per size, so that the whole map of where the m * 2^k transforms stand is one run:
//   bench_hadamard_sizes --benchmark_format=csv

#include <rotq/hadamard.hpp>
#include <rotq/isa.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#include "interleaved_timing.hpp"

namespace {

constexpr std::size_t largest_base = 172;
constexpr std::size_t largest_size = 65536;

std::size_t next_power_of_two(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p *= 2;
  return p;
}

void bench_against_power_of_two(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::size_t above = next_power_of_two(n);
  rotq_bench::gaussian_buffer<float> x(n, 1), y(above, 2);
  const auto transform = [&] {
    rotq::fwht(x.data(), n);
    benchmark::DoNotOptimize(x.data());
  };
  const auto power_of_two = [&] {
    rotq::fwht(y.data(), above);
    benchmark::DoNotOptimize(y.data());
  };
  for (auto _ : state) transform();
  const auto ns = rotq_bench::interleaved_ns_per_call(2e-3, 9, transform, power_of_two);
  const std::size_t m = rotq::hadamard_base_order(n);
  state.counters["m"] = double(m);
  state.counters["p"] = double(n / m);
  state.counters["x_pow2"] = ns[0] / ns[1];
}

void register_all() {
  benchmark::AddCustomContext("rotq_isa", rotq::isa_name(rotq::active_isa()));
  for (std::size_t m = 12; m <= largest_base; m += 8) {
    if (rotq::hadamard_base_order(m) != m) continue;
    for (std::size_t n = m; n <= largest_size; n *= 2)
      benchmark::RegisterBenchmark("fwht_vs_pow2/float", bench_against_power_of_two)
          ->Arg(static_cast<std::int64_t>(n))
          ->MinTime(0.02);
  }
}

// Registered before main, as BENCHMARK() registers, so that BENCHMARK_MAIN serves.
[[maybe_unused]] const bool registered = (register_all(), true);

}  // namespace

BENCHMARK_MAIN();
