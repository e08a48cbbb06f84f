// The CPU Walsh-Hadamard transform against its baselines, measured in the same run:
//   fwht/<type>/<n>/<offset>  rotq::fwht on one vector that stays in cache, `offset` elements
//                         past a cache line: CPU ns per transform, GB/s (2 n sizeof(T) bytes:
//                         read and write), and how many times faster rotq is than the naive
//                         loops, the dense Eigen product (n <= 8192, aligned only) and rotq's own
//                         portable kernels.
//   fwht/half/<n>, fwht/bfloat16/<n>  the storage types, on one vector in cache: how many times
//                         faster than widening and rounding element by element with static_cast
//                         around the float transform (x_scalar_conversion) and than rotq's own
//                         vectorised conversions as separate passes around it
//                         (x_separate_conversions: what fusing them into the transform's first
//                         and last passes gains), and the float transform's time over theirs
//                         (x_float: below 1, the conversions' cost).
//   fwht_rows/<type>/<n>  rotq::fwht_rows over 4096 rows of n (far larger than the caches)
//                         against std::memcpy of the same bytes.
// The instruction set is rotq::active_isa() (ROTQ_ISA=portable|avx2|avx512|neon overrides it); it
// is recorded in the benchmark context. Ratios come from medians of interleaved CPU timings, so a
// noisy machine slows both sides of a ratio alike.

#include <rotq/hadamard.hpp>
#include <rotq/isa.hpp>

#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "interleaved_timing.hpp"

namespace {

using rotq_bench::gaussian_buffer;
using rotq_bench::interleaved_ns_per_call;

// x <- H_n x from the definition, with no cleverness: three nested loops of butterflies on each
// chunk of p (for powers of two, the whole vector), then the m x m signs of H_m applied as a
// dense sum over chunks, then the scale.
template <class T>
class naive_hadamard {
public:
  explicit naive_hadamard(std::size_t n)
      : n_(n),
        m_(rotq::hadamard_base_order(n)),
        p_(n / m_),
        signs_(rotq::hadamard_base_signs(m_)),
        mixed_(m_ > 1 ? n : 0) {}

  void operator()(T* x) {
    for (std::size_t a = 0; a < m_; ++a) {
      T* chunk = x + a * p_;
      for (std::size_t h = 1; h < p_; h *= 2)
        for (std::size_t i = 0; i < p_; i += 2 * h)
          for (std::size_t j = i; j < i + h; ++j) {
            const T u = chunk[j], v = chunk[j + h];
            chunk[j] = u + v;
            chunk[j + h] = u - v;
          }
    }
    if (m_ > 1) {
      std::fill(mixed_.begin(), mixed_.end(), T(0));
      for (std::size_t a = 0; a < m_; ++a)
        for (std::size_t b = 0; b < m_; ++b) {
          const T sign = signs_[a * m_ + b];
          for (std::size_t i = 0; i < p_; ++i) mixed_[a * p_ + i] += sign * x[b * p_ + i];
        }
      std::copy(mixed_.begin(), mixed_.end(), x);
    }
    const T scale = T(1 / std::sqrt(double(n_)));
    for (std::size_t i = 0; i < n_; ++i) x[i] *= scale;
  }

private:
  std::size_t n_, m_, p_;
  std::vector<std::int8_t> signs_;
  std::vector<T> mixed_;
};

struct isa_scope {
  explicit isa_scope(rotq::isa which) : saved(rotq::active_isa()) { rotq::set_isa(which); }
  ~isa_scope() { rotq::set_isa(saved); }
  rotq::isa saved;
};

// Arguments: n, and the offset of the data from a cache line in elements (0: aligned).
template <class T>
void bench_fwht(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto offset = static_cast<std::size_t>(state.range(1));
  gaussian_buffer<T> x(n, 1, offset), y(n, 1, offset), z(n, 1, offset);
  const auto rotq_fwht = [&] {
    rotq::fwht(x.data(), n);
    benchmark::DoNotOptimize(x.data());
  };
  for (auto _ : state) rotq_fwht();

  // Ratios, measured after the timed loop, interleaved.
  const rotq::isa active = rotq::active_isa();
  naive_hadamard<T> naive(n);
  const auto naive_fwht = [&] {
    naive(y.data());
    benchmark::DoNotOptimize(y.data());
  };
  const auto portable_fwht = [&] {
    const isa_scope portable(rotq::isa::portable);
    rotq::fwht(z.data(), n);
    benchmark::DoNotOptimize(z.data());
  };
  const auto ns = interleaved_ns_per_call(2e-3, 7, rotq_fwht, naive_fwht, portable_fwht);
  state.counters["x_naive"] = ns[1] / ns[0];
  state.counters["x_portable"] = active == rotq::isa::portable ? 1.0 : ns[2] / ns[0];
  if (n <= 8192 && offset == 0) {
    using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    const matrix h = rotq::hadamard_matrix(n).cast<T>();
    const vector v = Eigen::Map<const vector>(y.data(), static_cast<Eigen::Index>(n));
    vector w(static_cast<Eigen::Index>(n));
    const auto dense = [&] {
      w.noalias() = h * v;
      benchmark::DoNotOptimize(w.data());
    };
    const auto dense_ns = interleaved_ns_per_call(2e-3, 5, rotq_fwht, dense);
    state.counters["x_dense"] = dense_ns[1] / dense_ns[0];
  }
  state.counters["GB/s"] = benchmark::Counter(2.0 * double(n * sizeof(T)) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
void bench_fwht_storage(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  gaussian_buffer<T> x(n, 1), y(n, 1);
  gaussian_buffer<float> z(n, 1), row(n, 2);
  const auto rotq_fwht = [&] {
    rotq::fwht(x.data(), n);
    benchmark::DoNotOptimize(x.data());
  };
  for (auto _ : state) rotq_fwht();

  const auto float_fwht = [&] {
    rotq::fwht(z.data(), n);
    benchmark::DoNotOptimize(z.data());
  };
  const auto scalar_conversion = [&] {
    for (std::size_t i = 0; i < n; ++i) row.data()[i] = static_cast<float>(y.data()[i]);
    rotq::fwht(row.data(), n);
    for (std::size_t i = 0; i < n; ++i) y.data()[i] = static_cast<T>(row.data()[i]);
    benchmark::DoNotOptimize(y.data());
  };
  const auto& storage = rotq::detail::active_kernels<rotq::detail::storage_tables<T>>();
  const auto separate_conversions = [&] {
    storage.widen(y.data(), row.data(), n);
    rotq::fwht(row.data(), n);
    storage.round(row.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  };
  const auto ns = interleaved_ns_per_call(2e-3, 7, rotq_fwht, float_fwht, scalar_conversion,
                                          separate_conversions);
  state.counters["x_float"] = ns[1] / ns[0];
  state.counters["x_scalar_conversion"] = ns[2] / ns[0];
  state.counters["x_separate_conversions"] = ns[3] / ns[0];
  state.counters["GB/s"] = benchmark::Counter(2.0 * double(n * sizeof(T)) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
void bench_fwht_rows(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  // At least 4096 rows and 2^24 elements (64 MiB of float): far beyond the caches.
  const std::size_t rows = std::max<std::size_t>(4096, (std::size_t{1} << 24) / n);
  gaussian_buffer<T> x(rows * n, 2), copy(rows * n, 3);
  const rotq::matrix_view<T> view(x.data(), rows, n);
  const auto transform = [&] {
    rotq::fwht_rows(view);
    benchmark::DoNotOptimize(x.data());
  };
  for (auto _ : state) transform();
  const auto copy_bytes = [&] {
    std::memcpy(copy.data(), x.data(), rows * n * sizeof(T));
    benchmark::DoNotOptimize(copy.data());
  };
  const auto ns = interleaved_ns_per_call(0.1, 5, transform, copy_bytes);
  state.counters["x_memcpy"] = ns[1] / ns[0];
  state.counters["GB/s"] = benchmark::Counter(2.0 * double(rows * n * sizeof(T)) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// Powers of two, and the m * 2^k sizes of real models (p >= 64; 40 * 256 is 20 * 512 to rotq), with
// 688 = 172 * 4 for chunks shorter than a register.
const std::vector<std::int64_t> kPowersOfTwo = {64,   128,  256,   512,   1024, 2048,
                                                4096, 8192, 16384, 32768, 65536};
const std::vector<std::int64_t> kBaseSizes = {12 * 1024, 20 * 512,  28 * 512, 108 * 128,
                                              172 * 64,  148 * 128, 172 * 4};

void register_all() {
  benchmark::AddCustomContext("rotq_isa", rotq::isa_name(rotq::active_isa()));
  for (const auto& sizes : {kPowersOfTwo, kBaseSizes})
    for (const std::int64_t n : sizes) {
      benchmark::RegisterBenchmark("fwht/float", bench_fwht<float>)->Args({n, 0});
      benchmark::RegisterBenchmark("fwht/double", bench_fwht<double>)->Args({n, 0});
    }
  // Data 16 bytes past a line, as malloc returns it: registers straddle cache lines.
  for (const std::int64_t n : {4096, 16384, 65536, 11008})
    benchmark::RegisterBenchmark("fwht/float", bench_fwht<float>)->Args({n, 4});
  for (const std::int64_t n : {256, 4096, 16384, 11008}) {
    benchmark::RegisterBenchmark("fwht/half", bench_fwht_storage<Eigen::half>)->Arg(n);
    benchmark::RegisterBenchmark("fwht/bfloat16", bench_fwht_storage<Eigen::bfloat16>)->Arg(n);
  }
  // Rows of a head (128), of a small model (1024) and of a large one, and a group of 16.
  for (const std::int64_t n : {16, 128, 1024, 4096, 11008}) {
    benchmark::RegisterBenchmark("fwht_rows/float", bench_fwht_rows<float>)
        ->Arg(n)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("fwht_rows/bfloat16", bench_fwht_rows<Eigen::bfloat16>)
        ->Arg(n)
        ->Unit(benchmark::kMillisecond);
  }
}

// Registered before main, as BENCHMARK() registers, so that BENCHMARK_MAIN serves.
[[maybe_unused]] const bool registered = (register_all(), true);

}  // namespace

BENCHMARK_MAIN();
