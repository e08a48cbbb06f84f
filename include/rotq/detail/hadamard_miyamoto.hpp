#pragma once
// Miyamoto's construction (M. Miyamoto, "A construction of Hadamard matrices", J. Combin. Theory
// Ser. A 57 (1991)): a Hadamard matrix of order 4q from a prime power q = 1 (mod 4) and any
// Hadamard matrix K of order q - 1. It reaches base orders that no Paley construction does and
// that have no block-circulant structure, 324 = 4 * 81, 436 = 4 * 109 and 596 = 4 * 149 among them.
//
// The layout used here (any row and column order of a Hadamard matrix is one), with N = q - 1:
//
//         | A        E_body  E_body |     A: a 4 x 4 skew-Hadamard matrix, A = I + S, S^T = -S
//     H = | E_body'  X + Y   X - Y  |     E = A - 2I = S - I, also Hadamard
//         | E_body'  X - Y   X + Y  |
//
// X and Y are 2N x 2N, indexed by (pair, x) with pair in {0, 1} and x a nonzero element of GF(q).
// Each such index has a class, 2 * pair plus 1 when x is a non-square; the border entry between
// border index i and a body index of class j is E[i][j], in the border rows and columns alike.
//   X = I_2 (x) D, D[x][y] = -chi(y) chi(y - x), a zero diagonal;   Y = [[I_N, K], [-K^T, I_N]].
// Why H H^T = 4q I (chi is the quadratic character; chi(-1) = 1 because q = 1 mod 4):
//   - Y Y^T = (1 + N) I = q I, since K K^T = N I.
//   - (D D^T)[x][y] = sum over z != 0 of chi(z - x) chi(z - y) = q [x = y] - 1 - chi(x) chi(y),
//     so X X^T = q I - 2 [same class].
//   - Two body rows on the same side: 2 X X^T + 2 Y Y^T from the body (the X Y^T terms cancel
//     over the two sides) plus E E^T = 4 I from the border, i.e. 4 [same class]: 4q I. On
//     opposite sides: 2 X X^T - 2 Y Y^T + 4 [same class] = 0.
//   - Summing D[x][y] over the y of one class gives 1 for x's own class and 0 for the other
//     (cyclotomic numbers of order 2), so a border row against a body row gives
//     (A E^T + 2 E)[i][j] = (4 I - 2 A) + (2 A - 4 I) = 0, the Y terms again cancelling.
//   - Border rows among themselves: A A^T + N E E^T = 4 I + 4 N I = 4q I (N body columns per
//     class over the two sides).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/galois_field.hpp"
#include "rotq/detail/hadamard_constructions.hpp"

namespace rotq {
namespace detail {

/// The q of m = 4q when q is an odd prime power with q = 1 (mod 4), else 0: the orders that
/// Miyamoto's construction reaches, given a Hadamard matrix of order q - 1.
inline std::size_t miyamoto_field_size(std::size_t m) {
  if (m % 4 != 0) return 0;
  const std::size_t q = m / 4;
  return q % 4 == 1 && factor_prime_power(q).prime > 2 ? q : 0;
}

/// Miyamoto's Hadamard matrix of order m = 4q (q as miyamoto_field_size) from a Hadamard matrix
/// k of order q - 1 (row-major +-1 signs), in the layout of the header comment. Returns the m * m
/// signs row-major, or an empty vector when m is not such an order or k does not have
/// (q - 1)^2 entries; k is not checked further.
inline sign_matrix miyamoto(std::size_t m, const sign_matrix& k) {
  const std::size_t q = miyamoto_field_size(m);
  if (q == 0 || k.size() != (q - 1) * (q - 1)) return {};
  const std::size_t n = q - 1, border = 4;
  // A skew-Hadamard matrix of order 4 (the quaternion sign pattern), and E = A - 2I.
  static constexpr int a[4][4] = {{1, 1, 1, 1}, {-1, 1, -1, 1}, {-1, 1, 1, -1}, {-1, -1, 1, 1}};
  auto e = [](std::size_t i, std::size_t j) { return i == j ? -a[i][j] : a[i][j]; };
  // Element x of GF(q) is x = t + 1 for t = 0..n-1 (0 is left out); chi_of[t] = chi(t + 1).
  const galois_field field(q);
  std::vector<int> chi_of(n);
  for (std::size_t t = 0; t < n; ++t) chi_of[t] = field.chi(t + 1);
  // D once: the body repeats it eight times.
  sign_matrix d(n * n);
  for (std::size_t x = 0; x < n; ++x)
    for (std::size_t y = 0; y < n; ++y)
      d[x * n + y] = static_cast<std::int8_t>(-chi_of[y] * field.chi(field.subtract(y + 1, x + 1)));
  // Body index b = side * 2n + pair * n + t.
  auto body_class = [&](std::size_t b) { return 2 * ((b / n) % 2) + (chi_of[b % n] == 1 ? 0 : 1); };
  sign_matrix h(m * m);
  for (std::size_t i = 0; i < border; ++i) {
    for (std::size_t j = 0; j < border; ++j) h[i * m + j] = static_cast<std::int8_t>(a[i][j]);
    for (std::size_t b = 0; b < 4 * n; ++b) {
      h[i * m + border + b] = static_cast<std::int8_t>(e(i, body_class(b)));
      h[(border + b) * m + i] = static_cast<std::int8_t>(e(body_class(b), i));
    }
  }
  for (std::size_t r = 0; r < 4 * n; ++r) {
    const std::size_t side = r / (2 * n), pair = (r / n) % 2, x = r % n;
    std::int8_t* row = h.data() + (border + r) * m + border;
    for (std::size_t block = 0; block < 4; ++block) {  // column side block / 2, pair block % 2
      const int z = side == block / 2 ? 1 : -1;  // X + Y on the diagonal sides, X - Y off them
      std::int8_t* out = row + block * n;
      if (block % 2 == pair) {
        for (std::size_t y = 0; y < n; ++y) out[y] = d[x * n + y];
        out[x] = static_cast<std::int8_t>(z);  // D's zero diagonal holds Y's identity
      } else if (pair == 0) {
        for (std::size_t y = 0; y < n; ++y) out[y] = static_cast<std::int8_t>(z * k[x * n + y]);
      } else {
        for (std::size_t y = 0; y < n; ++y) out[y] = static_cast<std::int8_t>(-z * k[y * n + x]);
      }
    }
  }
  return h;
}

}  // namespace detail
}  // namespace rotq
