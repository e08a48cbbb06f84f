#pragma once
// What the CPU Hadamard benchmarks share: vectors of Gaussian values at a chosen distance from a
// cache line, and CPU timings of several functions taken in turns, so that a ratio between them
// is measured in one run and a noisy machine slows both of its sides alike.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <random>
#include <vector>

namespace rotq_bench {

// n Gaussian values starting `offset` elements past a cache line: the transforms run fastest on
// data aligned to their registers (offset 0), which rotq cannot choose for its caller.
template <class T>
class gaussian_buffer {
public:
  gaussian_buffer(std::size_t n, unsigned seed, std::size_t offset = 0)
      : storage_(n + offset + 64 / sizeof(T)) {
    const auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
    data_ = reinterpret_cast<T*>((address + 63) / 64 * 64) + offset;
    std::mt19937 gen(seed);
    std::normal_distribution<double> dist;
    for (std::size_t i = 0; i < n; ++i) data_[i] = static_cast<T>(dist(gen));
  }
  gaussian_buffer(const gaussian_buffer&) = delete;
  gaussian_buffer& operator=(const gaussian_buffer&) = delete;
  T* data() { return data_; }

private:
  std::vector<T> storage_;
  T* data_;
};

// CPU time of this process: on a shared virtual machine the wall clock also counts the time the
// host gives to others, which no ratio should include.
inline double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

// Median over rounds of the CPU time per call of each function, the functions taking turns within
// a round; each round runs each function for about `round_seconds`.
template <class... F>
std::vector<double> interleaved_ns_per_call(double round_seconds, int rounds, F&... functions) {
  constexpr std::size_t count = sizeof...(F);
  std::vector<std::vector<double>> samples(count);
  std::vector<long> calls(count, 1);
  for (int round = -1; round < rounds; ++round) {  // round -1 warms up and sizes the batches
    std::size_t k = 0;
    const auto time_one = [&](auto& f) {
      const double start = cpu_seconds();
      for (long c = 0; c < calls[k]; ++c) f();
      const double seconds = cpu_seconds() - start;
      if (round < 0)
        calls[k] = std::max(1L, static_cast<long>(round_seconds / std::max(seconds, 1e-9)));
      else
        samples[k].push_back(seconds * 1e9 / double(calls[k]));
      ++k;
    };
    (time_one(functions), ...);
  }
  std::vector<double> medians;
  for (auto& s : samples) {
    std::nth_element(s.begin(), s.begin() + s.size() / 2, s.end());
    medians.push_back(s[s.size() / 2]);
  }
  return medians;
}

}  // namespace rotq_bench
