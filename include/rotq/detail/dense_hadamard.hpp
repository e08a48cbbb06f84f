#pragma once
// Small float transforms of an m * 2^k size as one dense product. With chunks of p <= 4,
// H_n = H_m (x) S_p = (I (x) S_p)(H_m (x) I_p): per column of H_m one broadcast group of p
// elements times a column of H_m (x) 1_p (each sign repeated p times down its n rows), n * m
// multiply-adds and no table, then S_p's butterflies inside each output register. On short rows
// H_m by column groups followed by S_p spends more than that on building its tables and on two
// passes over the row: on Zen 3 with AVX2, 12 floats in 23 ns against 65 ns, 48 in 77 against
// 116 ns (docs/performance.md). Every n up to dense_fwht_limit takes it, and unpaired bases while
// n * m stays within dense_unpaired_limit. Where H_m has the paired form (hadamard_pairs.hpp), so
// does H_n, and with A' = A (x) I_p and the halves z0, z1 (n / 2 each),
//   y0 = (I (x) S_p) (A' (z0 + z1) - 2 z1),   y1 = (I (x) S_p) (A' (z0 - z1) - 2 z0):
// m / 2 columns of n / 2 rows for both halves, n * m / 2 multiply-adds and half the column loads.
// Those beat the lookups of H_m up to dense_paired_limit: 76 * 1 in 0.48 of their time, 164 * 2
// in 0.85.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/fwht_portable.hpp"
#include "rotq/detail/hadamard_constructions.hpp"
#include "rotq/detail/hadamard_pairs.hpp"
#include "rotq/detail/simd_alignment.hpp"

namespace rotq {
namespace detail {

/// Float transforms of an m * 2^k size up to this n multiply by the dense H_n, whatever the base:
/// its columns take at most m * dense_column_stride(n) floats, 19 KiB for an unpaired 60 * 1,
/// which stay in L1 beside the row.
constexpr std::size_t dense_fwht_limit = 64;

/// The length of a column in memory: n rounded up to an odd number of cache lines of 16 floats, a
/// whole number of registers of every back end (AVX-512's hold 16); the rows past n are zeros.
/// Odd, because a pass over a few registers of every column (apply_dense_grouped_simd) would
/// otherwise find its lines in a few sets of L1: columns of 256 floats (124 * 4) put every
/// fourth column's in the same sets.
constexpr std::size_t dense_column_stride(std::size_t n) { return ((n + 15) / 16 | 1) * 16; }

/// The longest chunk (p) of a dense product: every back end's register (NEON's: 4 floats) holds
/// whole chunks, so that a group broadcast and the butterflies of S_p stay inside registers.
constexpr std::size_t dense_chunk_limit = 4;

/// A paired base takes the dense product for every chunk p up to dense_chunk_limit while n stays
/// within this: its (m / 2)^2 p multiply-adds a half beat the lookups of H_m on chunks that
/// short up to 124 * 4 (0.95 of their time), and tie with them above (148 * 4, 164 * 4), where A's
/// columns, each sign repeated p times, would take 110 KiB.
constexpr std::size_t dense_paired_limit = 512;

/// The longest half of a paired product: the rows of its columns.
constexpr std::size_t dense_paired_half_limit = dense_paired_limit / 2;

/// An unpaired base takes the dense product for every chunk p up to dense_chunk_limit while its
/// n * m multiply-adds stay within this: 44 * 2 and 68 * 1 past 64 elements, in 0.73 and 0.84 of
/// the lookups' time; 44 * 4 (7744) only tied with them, 92 * 1 and 68 * 2 were slower.
constexpr std::size_t dense_unpaired_limit = 4624;  // 68 * 1: 68 rows times 68 columns

/// A paired base whose quarter has a bordered circulant plan (bordered_circulant.hpp) keeps the
/// dense product only while n * m stays within this, and takes that plan past it. On Zen 3
/// (AVX2), the bordered kernel against the dense product in two runs: 76 * 4 (n * m = 23104)
/// 1.17-1.21 times its time, 108 * 2 1.10-1.11, 84 * 4 1.12-1.15; 124 * 2 (30752) 0.95-0.99,
/// 148 * 2 0.87-0.90, 196 * 1 0.79-0.81, 108 * 4 0.84-0.87, 124 * 4 0.77-0.79
/// (docs/performance.md). Its fixed costs lose at p = 1 below (148 * 1: 1.13).
constexpr std::size_t dense_paired_bordered_limit = 28224;  // 84 * 4: 336 rows times 84 columns

/// The longest row of an unpaired dense product (p <= 4, so n^2 <= 4 n m).
constexpr std::size_t dense_unpaired_row_limit = 136;
static_assert(dense_unpaired_row_limit * dense_unpaired_row_limit >=
                  dense_chunk_limit * dense_unpaired_limit,
              "every row that dense_unpaired_limit admits");

/// The most floats a dense product writes: two halves of a paired one, or one unpaired row.
constexpr std::size_t dense_output_limit =
    dense_paired_limit > dense_unpaired_row_limit ? dense_paired_limit : dense_unpaired_row_limit;

/// Whether the float transform of m * 2^log2p (a base of the paired form or not, m >= 12; for a
/// paired one, whether its quarter has a bordered circulant plan) is one dense product: every n
/// up to dense_fwht_limit, and short chunks of a base up to dense_paired_limit (paired; also
/// dense_paired_bordered_limit where bordered) or dense_unpaired_limit (not). Holds for every
/// log2p below one that it holds for.
constexpr bool dense_product_applies(std::size_t m, std::size_t log2p, bool paired, bool bordered) {
  const std::size_t n = m << log2p;
  if ((std::size_t{1} << log2p) > dense_chunk_limit) return false;
  if (n <= dense_fwht_limit) return true;
  if (!paired) return n * m <= dense_unpaired_limit;
  return n <= dense_paired_limit && !(bordered && n * m > dense_paired_bordered_limit);
}

/// The longest row, or paired half, that keeps more partial sums (dense_partial_sums): such
/// rows fill few registers.
constexpr std::size_t dense_short_row_limit = 16;

/// How many partial sums each output of a product keeps, K of them over the columns / K
/// consecutive columns each, which are added in order at the end: enough independent chains of
/// multiply-adds to hide their latency where a row fills few registers (12 floats: two AVX2
/// registers, four cycles an FMA) or a pass takes a few of them (dense_pass_registers), few
/// enough that every accumulator stays in a register. An unpaired row of n elements keeps 4 up
/// to dense_short_row_limit, 2 above. A paired product whose halves have n elements keeps two
/// outputs per row and half the sums: for halves of 6, 10, 12 and 14, two (over A's 6, 10, 6 and
/// 14 columns); above, one, which gives AVX2 8 accumulators for 28. It depends on n and the form
/// alone, so that every back end adds in the same order.
constexpr std::size_t dense_partial_sums(std::size_t n, bool paired) {
  const std::size_t sums = n <= dense_short_row_limit ? 4 : 2;
  return paired ? sums / 2 : sums;
}

/// H_m (x) 1_p (or H_m^T (x) 1_p) for an n = m * p transform, p = 2^log2p <= dense_chunk_limit,
/// as columns of +-1 floats: column b holds H_m[a][b] at the rows a * p ... a * p + p - 1, entry i
/// of column b at columns()[b * stride + i], the columns starting on a cache line. Where H_m has
/// the paired form, the m / 2 columns of A (x) 1_p (or A^T (x) 1_p), of the n / 2 rows of a half.
class dense_sign_columns {
public:
  /// From the m x m base signs of H_m (row-major), whether they have the paired form
  /// (has_paired_form, which the caller has already checked) and the chunk length p = 2^log2p.
  dense_sign_columns(const sign_matrix& base, std::size_t m, bool base_paired, std::size_t log2p,
                     bool transpose)
      : paired_(base_paired),
        count_(paired_ ? m / 2 : m),
        n_(count_ << log2p),
        log2p_(log2p),
        stride_(dense_column_stride(n_)),
        storage_(count_ * stride_ + cache_line_slack<float>) {
    offset_ = static_cast<std::size_t>(cache_line_aligned(storage_.data()) - storage_.data());
    const sign_matrix h = paired_ ? paired_quarter(base, m) : base;
    float* out = storage_.data() + offset_;
    for (std::size_t col = 0; col < count_; ++col)
      for (std::size_t row = 0; row < n_; ++row) {
        const std::size_t a = row >> log2p;
        out[col * stride_ + row] = transpose ? h[col * count_ + a] : h[a * count_ + col];
      }
  }

  /// The rows: the transform's size, or a half's where paired.
  std::size_t order() const { return n_; }
  /// The columns: m, or m / 2 where paired.
  std::size_t column_count() const { return count_; }
  bool paired() const { return paired_; }
  /// log2 p: each column multiplies a broadcast group of p elements, and S_p's butterflies finish
  /// each chunk of p outputs.
  std::size_t log2_group() const { return log2p_; }
  std::size_t stride() const { return stride_; }
  const float* columns() const { return storage_.data() + offset_; }

private:
  bool paired_;
  std::size_t count_, n_, log2p_, stride_;
  std::vector<float> storage_;
  std::size_t offset_ = 0;
};

/// Output i of the product of the columns with the elements at z, before S_p: for the row
/// i = a * p + j, the sum over the columns b of sign(b, i) times z[b * p + j], `sums` partial
/// sums over consecutive columns in order (each starting with its first product, which is
/// exact), added in order. The SIMD back ends (fwht_dense_simd.hpp) add in this order; every
/// product is +-z, exact, so an FMA rounds as the addition does.
inline float dense_column_sum(const dense_sign_columns& h, const float* z, std::size_t i,
                              std::size_t sums) {
  const std::size_t stride = h.stride(), span = h.column_count() / sums,
                    p = std::size_t{1} << h.log2_group();
  const std::size_t j = i % p;
  float total = 0;
  for (std::size_t first = 0; first < h.column_count(); first += span) {
    float partial = h.columns()[first * stride + i] * z[first * p + j];
    for (std::size_t b = first + 1; b < first + span; ++b)
      partial += h.columns()[b * stride + i] * z[b * p + j];
    total = first == 0 ? partial : total + partial;
  }
  return total;
}

/// x <- scale * H x for the n floats at x, an unpaired base: dense_partial_sums(n, false) sums a
/// row (dense_column_sum), then S_p's butterflies in each chunk of p (sylvester_portable's order)
/// and the scale.
inline void apply_dense_unpaired_portable(const dense_sign_columns& h, float* x, float scale) {
  const std::size_t n = h.order(), sums = dense_partial_sums(n, false);
  float u[dense_output_limit];
  for (std::size_t i = 0; i < n; ++i) u[i] = dense_column_sum(h, x, i, sums);
  const std::size_t p = std::size_t{1} << h.log2_group();
  for (std::size_t chunk = 0; chunk < n; chunk += p)
    sylvester_portable(u + chunk, x + chunk, h.log2_group(), scale);
}

/// The paired form on the 2n floats at x, halves z0 and z1: the products of A (x) 1_p with
/// z0 + z1 and z0 - z1, dense_partial_sums(n, true) sums a row (dense_column_sum); then -2 z1
/// and -2 z0 added (exact products), S_p's butterflies in each chunk of p (sylvester_portable's
/// order) and the scale.
inline void apply_dense_paired_portable(const dense_sign_columns& a, float* x, float scale) {
  const std::size_t n = a.order(), sums = dense_partial_sums(n, true);
  float w[dense_output_limit], u[dense_output_limit];
  paired_split_portable(x, w, n);  // z0 + z1, z0 - z1
  for (std::size_t i = 0; i < n; ++i) {
    u[i] = dense_column_sum(a, w, i, sums) + -2 * x[n + i];
    u[n + i] = dense_column_sum(a, w + n, i, sums) + -2 * x[i];
  }
  const std::size_t p = std::size_t{1} << a.log2_group();
  for (std::size_t chunk = 0; chunk < 2 * n; chunk += p)
    sylvester_portable(u + chunk, x + chunk, a.log2_group(), scale);
}

/// x <- scale * H x for the transform whose dense matrix is h.
inline void apply_dense_portable(const dense_sign_columns& h, float* x, float scale) {
  if (h.paired())
    apply_dense_paired_portable(h, x, scale);
  else
    apply_dense_unpaired_portable(h, x, scale);
}

}  // namespace detail
}  // namespace rotq
