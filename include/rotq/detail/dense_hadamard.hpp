#pragma once
// Small float transforms of an m * 2^k size as one dense product. For n up to dense_fwht_limit,
// y = H_n x as n columns of +-1 each times one broadcast element takes n * n / lanes
// multiply-adds and no table: H_m by column groups followed by S_p spends more than that on
// building its tables and on two passes over so short a row (on Zen 3 with AVX2, 12 floats in
// 23 ns against 65 ns, 48 in 77 against 116 ns; docs/performance.md). Where H_m has the paired
// form (hadamard_pairs.hpp) and p is at most dense_paired_chunk_limit, so is H_n = H_m (x) S_p,
// and with A' = A (x) I_p and the halves z0, z1 (n / 2 each),
//   y0 = (I (x) S_p) (A' (z0 + z1) - 2 z1),   y1 = (I (x) S_p) (A' (z0 - z1) - 2 z0):
// A' takes one broadcast group of p elements per column of A, m / 2 columns of n / 2 rows for
// both halves: 2p times fewer multiply-adds than H_n's n columns and 4p times fewer column loads.
// S_p is butterflies inside each output register. Those n * m / 2 multiply-adds also beat the
// lookups of H_m (hadamard_base.hpp) on chunks of p <= 4 well past 64 elements, up to
// dense_paired_limit: 76 * 1 in 0.48 of their time, 164 * 2 in 0.85.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/fwht_portable.hpp"
#include "rotq/detail/hadamard_constructions.hpp"
#include "rotq/detail/hadamard_pairs.hpp"
#include "rotq/detail/simd_alignment.hpp"

namespace rotq {
namespace detail {

/// Float transforms of an m * 2^k size up to this n multiply by the dense H_n: its columns take
/// n * dense_column_stride(n) floats, 16 KiB at 64, which stay in L1 beside the row.
constexpr std::size_t dense_fwht_limit = 64;

/// The length of a column in memory: n rounded up to an odd number of cache lines of 16 floats, a
/// whole number of registers of every back end (AVX-512's hold 16); the rows past n are zeros.
/// Odd, because a pass over a few registers of every column (apply_dense_paired_simd) would
/// otherwise find its lines in a few sets of L1: columns of 256 floats (124 * 4) put every
/// fourth column's in the same sets.
constexpr std::size_t dense_column_stride(std::size_t n) { return ((n + 15) / 16 | 1) * 16; }

/// The longest chunk (p) of a paired product: every back end's register (NEON's: 4 floats) holds
/// whole chunks, so that a group broadcast and the butterflies of S_p stay inside registers.
constexpr std::size_t dense_paired_chunk_limit = 4;

/// A paired base takes the dense product for every chunk p up to dense_paired_chunk_limit while
/// n stays within this: its (m / 2)^2 p multiply-adds a half beat the lookups of H_m on chunks that
/// short up to 124 * 4 (0.95 of their time), and tie with them above (148 * 4, 164 * 4), where A's
/// columns, each sign repeated p times, would take 110 KiB.
constexpr std::size_t dense_paired_limit = 512;

/// The longest half of a paired product: the rows of its columns.
constexpr std::size_t dense_paired_half_limit = dense_paired_limit / 2;

/// Whether the float transform of m * 2^log2p (a base of the paired form or not) is one dense
/// product: every n up to dense_fwht_limit, and short chunks of a paired base up to
/// dense_paired_limit. Holds for every log2p below one that it holds for.
constexpr bool dense_product_applies(std::size_t m, std::size_t log2p, bool paired) {
  if (paired && (std::size_t{1} << log2p) <= dense_paired_chunk_limit)
    return (m << log2p) <= dense_paired_limit;
  return (m << log2p) <= dense_fwht_limit;
}

/// How many partial sums each output keeps, K of them over n / K consecutive columns each, which
/// are added in order at the end: enough independent chains of multiply-adds to hide their latency
/// where a row fills few registers (12 floats: two AVX2 registers, four cycles an FMA), few enough
/// that every accumulator stays in a register (n = 48 on AVX2: 6 registers, 2 sums; on NEON 12 and
/// 2). It depends on n alone, so that every back end adds in the same order.
constexpr std::size_t dense_partial_sums(std::size_t n) { return n <= 16 ? 4 : n <= 48 ? 2 : 1; }

/// The same for a paired product whose halves have n elements, which keeps two outputs per row:
/// for halves of 6, 10, 12 and 14, two sums (over A's 6, 10, 6 and 14 columns); above, one, which
/// gives AVX2 8 accumulators for 28.
constexpr std::size_t dense_paired_partial_sums(std::size_t n) { return n <= 16 ? 2 : 1; }

/// H_n (or H_n^T) of n = m * p as columns of +-1 floats: entry i of column j, the sign at row i
/// and column j, at columns()[j * stride + i], the columns starting on a cache line. Where H_m has
/// the paired form and p <= dense_paired_chunk_limit, the m / 2 columns of A (x) 1_p (or
/// A^T (x) 1_p): column b holds A[a][b] at the rows a * p ... a * p + p - 1, of the n / 2 rows of a
/// half.
class dense_sign_columns {
public:
  /// From the m x m base signs of H_m (row-major), whether they have the paired form
  /// (has_paired_form, which the caller has already checked) and the chunk length p = 2^log2p.
  dense_sign_columns(const sign_matrix& base, std::size_t m, bool base_paired, std::size_t log2p,
                     bool transpose)
      : paired_(base_paired && (std::size_t{1} << log2p) <= dense_paired_chunk_limit),
        n_(paired_ ? (m << log2p) / 2 : m << log2p),
        count_(paired_ ? m / 2 : n_),
        log2p_(paired_ ? log2p : 0),
        stride_(dense_column_stride(n_)),
        storage_(count_ * stride_ + cache_line_slack<float>) {
    offset_ = static_cast<std::size_t>(cache_line_aligned(storage_.data()) - storage_.data());
    const sign_matrix h = paired_ ? paired_quarter(base, m)
                                  : kronecker_with_sylvester(base, m, std::size_t{1} << log2p);
    const std::size_t order = paired_ ? m / 2 : n_, repeat = std::size_t{1} << log2p_;
    float* out = storage_.data() + offset_;
    for (std::size_t col = 0; col < count_; ++col)
      for (std::size_t row = 0; row < n_; ++row) {
        const std::size_t a = row / repeat;
        out[col * stride_ + row] = transpose ? h[col * order + a] : h[a * order + col];
      }
  }

  /// The rows: the transform's size, or a half's where paired.
  std::size_t order() const { return n_; }
  /// The columns: order(), or m / 2 where paired.
  std::size_t column_count() const { return count_; }
  bool paired() const { return paired_; }
  /// log2 p where paired: each column multiplies a broadcast group of p elements, and S_p's
  /// butterflies finish each chunk of p outputs; 0 otherwise.
  std::size_t log2_group() const { return log2p_; }
  std::size_t stride() const { return stride_; }
  const float* columns() const { return storage_.data() + offset_; }

private:
  bool paired_;
  std::size_t n_, count_, log2p_, stride_;
  std::vector<float> storage_;
  std::size_t offset_ = 0;
};

/// x <- scale * M x for the n floats at x and the dense matrix M (not paired): per output,
/// dense_partial_sums sums over consecutive columns in order (each starting with its first
/// product, which is exact), added in order, then scaled. The SIMD back ends
/// (fwht_dense_simd.hpp) add in this order; every product is +-x_j, exact, so an FMA rounds as the
/// addition does.
inline void apply_dense_unpaired_portable(const dense_sign_columns& h, float* x, float scale) {
  const std::size_t n = h.order(), stride = h.stride(), span = n / dense_partial_sums(n);
  float y[dense_fwht_limit];
  for (std::size_t i = 0; i < n; ++i) {
    float total = 0;
    for (std::size_t first = 0; first < n; first += span) {
      float partial = h.columns()[first * stride + i] * x[first];
      for (std::size_t j = first + 1; j < first + span; ++j)
        partial += h.columns()[j * stride + i] * x[j];
      total = first == 0 ? partial : total + partial;
    }
    y[i] = total * scale;
  }
  for (std::size_t i = 0; i < n; ++i) x[i] = y[i];
}

/// The paired form on the 2n floats at x, halves z0 and z1, with the columns of A (x) 1_p: for
/// the row i = a * p + j of a half, the sums over A's columns b of A[a][b] times the elements
/// b * p + j of z0 + z1 and of z0 - z1, dense_paired_partial_sums of them added in order as above;
/// then -2 z1 and -2 z0 added (exact products), S_p's butterflies in each chunk of p
/// (sylvester_portable's order) and the scale.
inline void apply_dense_paired_portable(const dense_sign_columns& a, float* x, float scale) {
  const std::size_t n = a.order(), stride = a.stride(), log2p = a.log2_group();
  const std::size_t p = std::size_t{1} << log2p;
  const std::size_t span = a.column_count() / dense_paired_partial_sums(n);
  float w[2 * dense_paired_half_limit], u[2 * dense_paired_half_limit];
  paired_split_portable(x, w, n);  // z0 + z1, z0 - z1
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = i % p;
    float total[2] = {0, 0};  // y0, y1 before S_p
    for (std::size_t first = 0; first < a.column_count(); first += span) {
      float partial[2] = {0, 0};
      for (std::size_t b = first; b < first + span; ++b) {
        const float sign = a.columns()[b * stride + i];
        const float sum = w[b * p + j], difference = w[n + b * p + j];
        partial[0] = b == first ? sign * sum : partial[0] + sign * sum;
        partial[1] = b == first ? sign * difference : partial[1] + sign * difference;
      }
      for (int half = 0; half < 2; ++half)
        total[half] = first == 0 ? partial[half] : total[half] + partial[half];
    }
    u[i] = total[0] + -2 * x[n + i];
    u[n + i] = total[1] + -2 * x[i];
  }
  for (std::size_t chunk = 0; chunk < 2 * n; chunk += p)
    sylvester_portable(u + chunk, x + chunk, log2p, scale);
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
