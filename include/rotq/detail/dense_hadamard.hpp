#pragma once
// Small float transforms of an m * 2^k size as one dense product. For n up to dense_fwht_limit,
// y = H_n x as n columns of +-1 each times one broadcast element takes n * n / lanes
// multiply-adds and no table: H_m by column groups followed by S_p spends more than that on
// building its tables and on two passes over so short a row (on Zen 3 with AVX2, 12 floats in
// 23 ns against 65 ns, 48 in 77 against 116 ns; docs/performance.md). Where n = m and H_m has
// the paired form (hadamard_pairs.hpp), the product is A's, of order n / 2, on the sums and on the
// differences of the halves: half the multiply-adds and a quarter of the column loads.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/hadamard_constructions.hpp"
#include "rotq/detail/hadamard_pairs.hpp"
#include "rotq/detail/simd_alignment.hpp"

namespace rotq {
namespace detail {

/// Float transforms of an m * 2^k size up to this n multiply by the dense H_n: its columns take
/// n * dense_column_stride(n) floats, 16 KiB at 64, which stay in L1 beside the row.
constexpr std::size_t dense_fwht_limit = 64;

/// The largest order of a paired product's columns, A of order n / 2.
constexpr std::size_t dense_half_limit = dense_fwht_limit / 2;

/// The length of a column in memory: n rounded up to 16 floats, a whole number of registers of
/// every back end (AVX-512's hold 16); the rows past n are zeros.
constexpr std::size_t dense_column_stride(std::size_t n) { return (n + 15) / 16 * 16; }

/// How many partial sums each output keeps, K of them over n / K consecutive columns each, which
/// are added in order at the end: enough independent chains of multiply-adds to hide their latency
/// where a row fills few registers (12 floats: two AVX2 registers, four cycles an FMA), few enough
/// that every accumulator stays in a register (n = 48 on AVX2: 6 registers, 2 sums; on NEON 12 and
/// 2). It depends on n alone, so that every back end adds in the same order.
constexpr std::size_t dense_partial_sums(std::size_t n) { return n <= 16 ? 4 : n <= 48 ? 2 : 1; }

/// The same for a paired product of order n (the half), which keeps two outputs per row: for the
/// orders 6, 10 and 14, two sums (even n); above, one, which gives AVX2 8 accumulators for 30.
constexpr std::size_t dense_paired_partial_sums(std::size_t n) { return n <= 16 ? 2 : 1; }

/// H_n (or H_n^T) of n = m * p as columns of +-1 floats: entry i of column j, the sign at row i
/// and column j, at columns()[j * stride + i], the columns starting on a cache line. Where p = 1
/// and H_m has the paired form, the columns are those of A (or A^T), of order m / 2.
class dense_sign_columns {
public:
  /// From the m x m base signs of H_m (row-major) and the chunk length p.
  dense_sign_columns(const sign_matrix& base, std::size_t m, std::size_t p, bool transpose)
      : paired_(p == 1 && has_paired_form(base, m)),
        n_(paired_ ? m / 2 : m * p),
        stride_(dense_column_stride(n_)),
        storage_(n_ * stride_ + cache_line_slack<float>) {
    offset_ = static_cast<std::size_t>(cache_line_aligned(storage_.data()) - storage_.data());
    const sign_matrix h = paired_ ? paired_quarter(base, m) : kronecker_with_sylvester(base, m, p);
    float* out = storage_.data() + offset_;
    for (std::size_t col = 0; col < n_; ++col)
      for (std::size_t row = 0; row < n_; ++row)
        out[col * stride_ + row] = transpose ? h[col * n_ + row] : h[row * n_ + col];
  }

  /// The order of the columns: the transform's size, or half of it where paired.
  std::size_t order() const { return n_; }
  bool paired() const { return paired_; }
  std::size_t stride() const { return stride_; }
  const float* columns() const { return storage_.data() + offset_; }

private:
  bool paired_;
  std::size_t n_, stride_;
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

/// The paired form on the 2n floats at x, halves z0 and z1, with A's columns (order n):
///   y0 = scale * (A (z0 + z1) - 2 z1),   y1 = scale * (A (z0 - z1) - 2 z0).
/// Each product sums dense_paired_partial_sums partial sums as above; then the term -2 z, exact,
/// is added, and the result scaled.
inline void apply_dense_paired_portable(const dense_sign_columns& a, float* x, float scale) {
  const std::size_t n = a.order(), stride = a.stride(), span = n / dense_paired_partial_sums(n);
  float y[dense_fwht_limit];
  for (std::size_t i = 0; i < n; ++i) {
    float total[2] = {0, 0};  // y0, y1
    for (std::size_t first = 0; first < n; first += span) {
      float partial[2] = {0, 0};
      for (std::size_t j = first; j < first + span; ++j) {
        const float sign = a.columns()[j * stride + i];
        const float sum = x[j] + x[n + j], difference = x[j] - x[n + j];
        partial[0] = j == first ? sign * sum : partial[0] + sign * sum;
        partial[1] = j == first ? sign * difference : partial[1] + sign * difference;
      }
      for (int half = 0; half < 2; ++half)
        total[half] = first == 0 ? partial[half] : total[half] + partial[half];
    }
    y[i] = (total[0] + -2 * x[n + i]) * scale;
    y[n + i] = (total[1] + -2 * x[i]) * scale;
  }
  for (std::size_t i = 0; i < 2 * n; ++i) x[i] = y[i];
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
