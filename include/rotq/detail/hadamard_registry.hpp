#pragma once
// Where rotq finds H_m: built on first use from a construction, or registered by the caller, and
// cached for the life of the process. Thread-safe.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "rotq/detail/hadamard_base.hpp"
#include "rotq/detail/hadamard_miyamoto.hpp"

namespace rotq {
namespace detail {

/// Largest base order the constructions are used for. Applying H_m costs about m / 7
/// additions per element, so much larger bases would make the "fast" transform a slow one;
/// register_hadamard_base accepts any order.
inline constexpr std::size_t max_constructed_base_order = 4096;

/// n with every factor 2 removed (0 for 0).
constexpr std::size_t odd_part(std::size_t n) {
  if (n == 0) return 0;
  while (n % 2 == 0) n /= 2;
  return n;
}

/// True for the orders rotq keeps a base matrix of: 4 * odd with odd > 1 (12, 20, 28, ...). 8 * odd
/// and larger multiples are not: they are a base of 4 * odd times a power of two.
constexpr bool is_base_order(std::size_t m) { return odd_part(m) > 1 && m == 4 * odd_part(m); }

constexpr bool is_power_of_two(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

class hadamard_registry {
public:
  static hadamard_registry& instance() {
    static hadamard_registry registry;
    return registry;
  }

  /// True when a construction reaches m or a matrix of order m was registered.
  bool available(std::size_t m) const {
    {
      std::shared_lock<std::shared_mutex> lock(mutex_);
      if (bases_.count(m) != 0) return true;
    }
    return constructible(m);
  }

  /// H_m, built on first use; null when no construction reaches m and none was registered.
  std::shared_ptr<const hadamard_base> find(std::size_t m) {
    {
      std::shared_lock<std::shared_mutex> lock(mutex_);
      const auto it = bases_.find(m);
      if (it != bases_.end()) return it->second;
    }
    sign_matrix h = construct(m);
    if (h.empty()) return nullptr;
    auto base = std::make_shared<const hadamard_base>(m, std::move(h));
    std::unique_lock<std::shared_mutex> lock(mutex_);
    return bases_.emplace(m, std::move(base)).first->second;  // a concurrent builder may have won
  }

  /// Replaces (or adds) H_m. The caller has checked that `h` is a Hadamard matrix.
  void insert(std::size_t m, sign_matrix h) {
    auto base = std::make_shared<const hadamard_base>(m, std::move(h));
    std::unique_lock<std::shared_mutex> lock(mutex_);
    bases_[m] = std::move(base);
    replacements_.fetch_add(1, std::memory_order_release);
  }

  /// How many times insert has run: what find returned for an order stays valid while this
  /// count does not change (a base built on first use is never replaced but by insert).
  std::uint64_t replacements() const { return replacements_.load(std::memory_order_acquire); }

  static bool constructible(std::size_t m) {
    if (m > max_constructed_base_order) return false;
    return paley1_reaches(m) || paley2_reaches(m) || find_block_circulant_design(m) != nullptr ||
           miyamoto_reaches(m);
  }

  /// m = 4q with q a prime power, q = 1 (mod 4), and H_{q-1} constructible (a power of two, or its
  /// base order constructible): registered matrices do not count, so that the H_m built does not
  /// depend on what a caller registered before.
  static bool miyamoto_reaches(std::size_t m) {
    const std::size_t q = miyamoto_field_size(m);
    if (q == 0) return false;
    const std::size_t odd = odd_part(q - 1);
    return odd == 1 || constructible(4 * odd);
  }

private:
  static sign_matrix construct(std::size_t m) {
    if (m > max_constructed_base_order) return {};
    // Paley II first: its matrices have the paired form, which fwht applies in half the work
    // (hadamard_pairs.hpp).
    if (paley2_reaches(m)) return paley2(m);
    if (paley1_reaches(m)) return paley1(m);
    if (const block_circulant_design* design = find_block_circulant_design(m))
      return block_circulant(*design);
    if (miyamoto_reaches(m)) return miyamoto(m, construct_whole(m / 4 - 1));
    return {};
  }

  // The whole H_n = H_b (x) S_p (b = 4 * odd(n), or 1 for a power of two; p = n / b) as n * n
  // signs, row-major, from the constructions alone: Miyamoto needs a Hadamard matrix of order
  // q - 1, which is rarely a base order itself (80 = 20 * 4 for 324).
  static sign_matrix construct_whole(std::size_t n) {
    const std::size_t odd = odd_part(n);
    const std::size_t b = odd == 1 ? 1 : 4 * odd;
    return kronecker_with_sylvester(b == 1 ? sign_matrix{1} : construct(b), b, n / b);
  }

  mutable std::shared_mutex mutex_;
  std::map<std::size_t, std::shared_ptr<const hadamard_base>> bases_;
  std::atomic<std::uint64_t> replacements_{0};
};

}  // namespace detail
}  // namespace rotq
