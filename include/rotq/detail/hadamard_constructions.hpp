#pragma once
// Constructions of Hadamard base matrices H_m (m = 4 * odd): Paley I, Paley II over GF(p^k), and
// the stored block-circulant generators. Each returns the m x m signs row-major, or an empty
// vector when the construction does not reach m.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/galois_field.hpp"
#include "rotq/detail/hadamard_designs.hpp"

namespace rotq {
namespace detail {

using sign_matrix = std::vector<std::int8_t>;  // m * m entries of +1 / -1, row-major

/// True when x has an odd number of set bits: S_p[i][j] = (-1)^parity(i & j).
constexpr bool parity(std::size_t x) {
  bool odd = false;
  for (; x != 0; x &= x - 1) odd = !odd;
  return odd;
}

/// H_m (x) S_p in the K-major layout of an m * p transform, as (m p)^2 signs, row-major:
/// entry [a p + i][b p + j] = H_m[a][b] (-1)^parity(i & j).
inline sign_matrix kronecker_with_sylvester(const sign_matrix& base, std::size_t m, std::size_t p) {
  const std::size_t n = m * p;
  sign_matrix h(n * n);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < n; ++c) {
      const int sylvester = parity((r % p) & (c % p)) ? -1 : 1;
      h[r * n + c] = static_cast<std::int8_t>(base[(r / p) * m + c / p] * sylvester);
    }
  return h;
}

/// Paley I: q = m - 1 a prime power with q = 3 (mod 4). Core entries chi(i - j), a +1 diagonal,
/// first row -1 except its first entry, first column +1 (algorithms.md 1.2).
inline bool paley1_reaches(std::size_t m) {
  if (m < 4) return false;
  const std::size_t q = m - 1;
  return q % 4 == 3 && factor_prime_power(q).prime > 2;
}

inline sign_matrix paley1(std::size_t m) {
  if (!paley1_reaches(m)) return {};
  const galois_field field(m - 1);
  sign_matrix h(m * m);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < m; ++j) {
      int v;
      if (i == 0)
        v = j == 0 ? 1 : -1;
      else if (j == 0)
        v = 1;
      else if (i == j)
        v = 1;
      else
        v = field.chi(field.subtract(i - 1, j - 1));
      h[i * m + j] = static_cast<std::int8_t>(v);
    }
  }
  return h;
}

/// Paley II: q = m / 2 - 1 a prime power with q = 1 (mod 4). With the symmetric conference matrix
/// C of order q + 1, H = P (x) C + Z (x) I, P = [[1, 1], [1, -1]], Z = [[1, -1], [-1, -1]].
inline bool paley2_reaches(std::size_t m) {
  if (m < 4 || m % 2 != 0) return false;
  const std::size_t q = m / 2 - 1;
  return q % 4 == 1 && factor_prime_power(q).prime > 2;
}

inline sign_matrix paley2(std::size_t m) {
  if (!paley2_reaches(m)) return {};
  const std::size_t c = m / 2;
  const galois_field field(c - 1);
  auto conference = [&](std::size_t i, std::size_t j) -> int {
    if (i == j) return 0;
    if (i == 0 || j == 0) return 1;
    return field.chi(field.subtract(j - 1, i - 1));
  };
  static constexpr int p[2][2] = {{1, 1}, {1, -1}};
  static constexpr int z[2][2] = {{1, -1}, {-1, -1}};
  sign_matrix h(m * m);
  for (std::size_t bi = 0; bi < 2; ++bi)
    for (std::size_t bj = 0; bj < 2; ++bj)
      for (std::size_t i = 0; i < c; ++i)
        for (std::size_t j = 0; j < c; ++j) {
          const int v = p[bi][bj] * conference(i, j) + (i == j ? z[bi][bj] : 0);
          h[(bi * c + i) * m + bj * c + j] = static_cast<std::int8_t>(v);
        }
  return h;
}

inline const block_circulant_design* find_block_circulant_design(std::size_t m) {
  for (const auto& design : block_circulant_designs)
    if (design.order == m) return &design;
  return nullptr;
}

/// Builds the matrix a block_circulant_design describes (see hadamard_designs.hpp).
inline sign_matrix block_circulant(const block_circulant_design& design) {
  const std::size_t a = design.blocks, b = design.block_size, m = design.order;
  // Decode the generator rows.
  std::vector<std::vector<std::int8_t>> rows;
  for (const char* s = design.generators; *s != '\0';) {
    if (*s == ' ') {
      ++s;
      continue;
    }
    std::vector<std::int8_t> row;
    for (; *s != '\0' && *s != ' '; ++s) {
      const int digit = *s <= '9' ? *s - '0' : *s - 'a' + 10;
      for (int bit = 3; bit >= 0; --bit)
        if (row.size() < b) row.push_back(static_cast<std::int8_t>(((digit >> bit) & 1) ? -1 : 1));
    }
    rows.push_back(std::move(row));
  }
  sign_matrix h(m * m);
  const char* token = design.layout;
  for (std::size_t bi = 0; bi < a; ++bi) {
    for (std::size_t bj = 0; bj < a; ++bj) {
      while (*token == ' ') ++token;
      const int sign = token[0] == '-' ? -1 : 1;
      const auto& row = rows[static_cast<std::size_t>(token[1] - 'A')];
      const bool back = token[2] == 'b';
      token += 3;
      for (std::size_t i = 0; i < b; ++i)
        for (std::size_t j = 0; j < b; ++j) {
          const std::size_t k = back ? (i + j) % b : (j + b - i) % b;
          h[(bi * b + i) * m + bj * b + j] = static_cast<std::int8_t>(sign * row[k]);
        }
    }
  }
  return h;
}

/// True when H H^T = m I exactly.
inline bool is_hadamard(const sign_matrix& h, std::size_t m) {
  if (h.size() != m * m) return false;
  for (std::int8_t v : h)
    if (v != 1 && v != -1) return false;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = i + 1; j < m; ++j) {
      long dot = 0;
      const std::int8_t* ri = h.data() + i * m;
      const std::int8_t* rj = h.data() + j * m;
      for (std::size_t k = 0; k < m; ++k) dot += ri[k] * rj[k];
      if (dot != 0) return false;
    }
  return true;
}

}  // namespace detail
}  // namespace rotq
