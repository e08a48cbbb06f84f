#pragma once
// The SplitMix64 stream behind rotq's random Hadamard signs, shared by host and GPU code.

#include <cstdint>

#include "rotq/config.hpp"

namespace rotq {
namespace detail {

constexpr std::uint64_t splitmix64_increment = 0x9E3779B97F4A7C15ull;

/// The SplitMix64 output function applied to a state value.
ROTQ_HOST_DEVICE constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Output number `index` (0-based) of the stream seeded with `seed`: the state advances by the
/// increment before each output, so output i mixes seed + (i + 1) * increment. Random access is
/// what lets a GPU thread compute the sign of its own element without walking the stream.
ROTQ_HOST_DEVICE constexpr std::uint64_t splitmix64_at(std::uint64_t seed, std::uint64_t index) {
  return splitmix64_mix(seed + (index + 1) * splitmix64_increment);
}

/// The random Hadamard sign of element `index`: -1 when the top bit of that output is set.
ROTQ_HOST_DEVICE constexpr int random_sign_at(std::uint64_t seed, std::uint64_t index) {
  return (splitmix64_at(seed, index) >> 63) != 0 ? -1 : 1;
}

}  // namespace detail
}  // namespace rotq
