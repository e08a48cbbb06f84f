#pragma once
// Reproducible random numbers: the same seed gives the same values on every platform and standard
// library (std::normal_distribution and friends are implementation-defined).

#include <cmath>
#include <cstdint>

#include "rotq/detail/splitmix64.hpp"

namespace rotq {
namespace detail {

class random_stream {
public:
  explicit random_stream(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    state_ += splitmix64_increment;
    return splitmix64_mix(state_);
  }

  /// Uniform in (0, 1): 53 random bits, offset by half a step so it is never 0.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

  /// Standard normal by Box-Muller, consuming two uniforms per value.
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
  }

private:
  std::uint64_t state_;
};

}  // namespace detail
}  // namespace rotq
