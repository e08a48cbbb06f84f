#pragma once
// Small float transforms of an m * 2^k size as one dense product. For n up to dense_fwht_limit,
// y = H_n x as n columns of +-1 each times one broadcast element takes n * n / lanes
// multiply-adds and no table: H_m by column groups followed by S_p spends more than that on
// building its tables and on two passes over so short a row (on Zen 3 with AVX2, 12 floats in
// 23 ns against 65 ns, 48 in 77 against 116 ns; docs/performance.md).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/hadamard_constructions.hpp"
#include "rotq/detail/simd_alignment.hpp"

namespace rotq {
namespace detail {

/// Float transforms of an m * 2^k size up to this n multiply by the dense H_n: its columns take
/// n * dense_column_stride(n) floats, 16 KiB at 64, which stay in L1 beside the row.
constexpr std::size_t dense_fwht_limit = 64;

/// The length of a column in memory: n rounded up to 16 floats, a whole number of registers of
/// every back end (AVX-512's hold 16); the rows past n are zeros.
constexpr std::size_t dense_column_stride(std::size_t n) { return (n + 15) / 16 * 16; }

/// How many partial sums each output keeps, K of them over n / K consecutive columns each, which
/// are added in order at the end: enough independent chains of multiply-adds to hide their latency
/// where a row fills few registers (12 floats: two AVX2 registers, four cycles an FMA), few enough
/// that every accumulator stays in a register (n = 48 on AVX2: 6 registers, 2 sums; on NEON 12 and
/// 2). It depends on n alone, so that every back end adds in the same order.
constexpr std::size_t dense_partial_sums(std::size_t n) { return n <= 16 ? 4 : n <= 48 ? 2 : 1; }

/// H_n (or H_n^T) of n = m * p as columns of +-1 floats: entry i of column j, the sign at row i
/// and column j, at columns()[j * stride + i], the columns starting on a cache line.
class dense_sign_columns {
public:
  /// From the m x m base signs (row-major) and the Sylvester factor S_p (kronecker_with_sylvester).
  dense_sign_columns(const sign_matrix& base, std::size_t m, std::size_t p, bool transpose)
      : n_(m * p),
        stride_(dense_column_stride(n_)),
        storage_(n_ * stride_ + cache_line_slack<float>) {
    offset_ = static_cast<std::size_t>(cache_line_aligned(storage_.data()) - storage_.data());
    const sign_matrix h = kronecker_with_sylvester(base, m, p);
    float* out = storage_.data() + offset_;
    for (std::size_t col = 0; col < n_; ++col)
      for (std::size_t row = 0; row < n_; ++row)
        out[col * stride_ + row] = transpose ? h[col * n_ + row] : h[row * n_ + col];
  }

  std::size_t order() const { return n_; }
  std::size_t stride() const { return stride_; }
  const float* columns() const { return storage_.data() + offset_; }

private:
  std::size_t n_, stride_;
  std::vector<float> storage_;
  std::size_t offset_ = 0;
};

/// x <- scale * M x for the n floats at x and the dense matrix M: per output, dense_partial_sums
/// sums over consecutive columns in order (each starting with its first product, which is exact),
/// added in order, then scaled. The SIMD back ends (fwht_dense_simd.hpp) add in this
/// order; every product is +-x_j, exact, so an FMA rounds as the addition does.
inline void apply_dense_portable(const dense_sign_columns& h, float* x, float scale) {
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

}  // namespace detail
}  // namespace rotq
