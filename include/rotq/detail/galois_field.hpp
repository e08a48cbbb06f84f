#pragma once
// The quadratic character of a finite field GF(p^k): all that the Paley constructions need.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/error.hpp"

namespace rotq {
namespace detail {

struct prime_power {
  std::size_t prime = 0;  ///< 0 when the number is not a prime power
  std::size_t exponent = 0;
};

/// q = prime^exponent, or {0, 0} when q is not a prime power (q < 2 included).
inline prime_power factor_prime_power(std::size_t q) {
  if (q < 2) return {};
  std::size_t p = 0;
  for (std::size_t d = 2; d * d <= q; ++d) {
    if (q % d == 0) {
      p = d;
      break;
    }
  }
  if (p == 0) return {q, 1};
  std::size_t k = 0;
  while (q % p == 0) {
    q /= p;
    ++k;
  }
  return q == 1 ? prime_power{p, k} : prime_power{};
}

/// GF(q), q = p^k odd, with its q elements numbered 0..q-1 by their base-p digits (digit i is the
/// coefficient of t^i in the element's polynomial modulo a monic irreducible polynomial of degree
/// k). Any irreducible polynomial gives an isomorphic field, so the Hadamard matrices built from
/// this numbering are valid whichever one is found first.
class galois_field {
public:
  explicit galois_field(std::size_t q) : q_(q) {
    const prime_power pk = factor_prime_power(q);
    ROTQ_EXPECTS(pk.prime > 2, "q = " << q << " is not a power of an odd prime");
    p_ = pk.prime;
    k_ = pk.exponent;
    modulus_ = find_irreducible();
    is_square_.assign(q_, 0);
    for (std::size_t x = 1; x < q_; ++x) is_square_[multiply(x, x)] = 1;
  }

  std::size_t size() const { return q_; }

  /// a - b in the field.
  std::size_t subtract(std::size_t a, std::size_t b) const {
    std::size_t result = 0, place = 1;
    for (std::size_t i = 0; i < k_; ++i) {
      const std::size_t da = a % p_, db = b % p_;
      result += ((da + p_ - db) % p_) * place;
      a /= p_;
      b /= p_;
      place *= p_;
    }
    return result;
  }

  /// The quadratic character: 0 for 0, +1 for a nonzero square, -1 otherwise.
  int chi(std::size_t x) const { return x == 0 ? 0 : (is_square_[x] ? 1 : -1); }

private:
  using poly = std::vector<std::size_t>;  // coefficients, lowest degree first

  poly digits(std::size_t x) const {
    poly d(k_);
    for (auto& c : d) {
      c = x % p_;
      x /= p_;
    }
    return d;
  }

  std::size_t multiply(std::size_t a, std::size_t b) const {
    const poly da = digits(a), db = digits(b);
    poly product(2 * k_ - 1, 0);
    for (std::size_t i = 0; i < k_; ++i)
      for (std::size_t j = 0; j < k_; ++j) product[i + j] = (product[i + j] + da[i] * db[j]) % p_;
    // Reduce with the monic modulus: t^k = -(modulus_[0] + ... + modulus_[k-1] t^(k-1)).
    for (std::size_t d = product.size(); d-- > k_;) {
      const std::size_t lead = product[d];
      if (lead == 0) continue;
      for (std::size_t i = 0; i < k_; ++i)
        product[d - k_ + i] = (product[d - k_ + i] + (p_ - lead) * modulus_[i]) % p_;
      product[d] = 0;
    }
    std::size_t result = 0;
    for (std::size_t i = k_; i-- > 0;) result = result * p_ + product[i];
    return result;
  }

  // Remainder of `num` modulo the monic polynomial `den`, both lowest degree first.
  poly remainder(poly num, const poly& den) const {
    const std::size_t dd = den.size() - 1;
    for (std::size_t d = num.size(); d-- > dd;) {
      const std::size_t lead = num[d];
      if (lead == 0) continue;
      for (std::size_t i = 0; i <= dd; ++i)
        num[d - dd + i] = (num[d - dd + i] + (p_ - lead) * den[i]) % p_;
    }
    num.resize(dd);
    return num;
  }

  // The first monic polynomial of degree k (by base-p numbering of its lower coefficients) with no
  // monic factor of degree 1..k/2. Returns its k lower coefficients.
  poly find_irreducible() const {
    if (k_ == 1) return poly{0};  // t: GF(p) itself, elements are the residues
    for (std::size_t code = 0; code < q_; ++code) {
      poly f = digits(code);
      f.push_back(1);
      bool irreducible = true;
      for (std::size_t degree = 1; irreducible && 2 * degree <= k_; ++degree) {
        std::size_t count = 1;
        for (std::size_t i = 0; i < degree; ++i) count *= p_;
        for (std::size_t g = 0; irreducible && g < count; ++g) {
          poly divisor(degree + 1);
          std::size_t rest = g;
          for (std::size_t i = 0; i < degree; ++i) {
            divisor[i] = rest % p_;
            rest /= p_;
          }
          divisor[degree] = 1;
          const poly r = remainder(f, divisor);
          bool zero = true;
          for (std::size_t c : r) zero = zero && c == 0;
          irreducible = !zero;
        }
      }
      if (irreducible) {
        f.pop_back();
        return f;
      }
    }
    ROTQ_EXPECTS(false, "no irreducible polynomial of degree " << k_ << " over GF(" << p_ << ")");
    return {};
  }

  std::size_t q_ = 0, p_ = 0, k_ = 0;
  poly modulus_;
  std::vector<std::uint8_t> is_square_;
};

}  // namespace detail
}  // namespace rotq
