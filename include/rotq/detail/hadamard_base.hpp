#pragma once
// A Hadamard base matrix H_m with the tables that apply it quickly to m vectors at once.
//
// Applying H_m to the m chunks z_0..z_{m-1} of a row (y_a = sum_b H[a][b] z_b) costs m^2 vector
// additions done naively. rotq groups the columns g at a time ("four Russians"): for each group
// it forms the 2^(g-1) signed sums z_b0 +- z_b1 +- ... once, after which every output row takes a
// single precomputed sum per group. That is ceil(m/g) * (2^(g-1) + m) additions instead of m^2:
// for m = 172 (g = 5), 6580 instead of 29584.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "rotq/detail/bordered_circulant.hpp"
#include "rotq/detail/circulant_blocks.hpp"
#include "rotq/detail/dense_hadamard.hpp"
#include "rotq/detail/hadamard_constructions.hpp"
#include "rotq/detail/hadamard_pairs.hpp"

namespace rotq {
namespace detail {

/// How to apply one orientation (H_m or H_m^T) of a base matrix by column groups.
struct base_group_plan {
  std::size_t order = 0;   ///< m
  std::size_t group = 1;   ///< g: columns per group (1..max_base_group)
  std::size_t groups = 0;  ///< ceil(m / g)
  /// codes[G * m + a] for output row a and group G: bits 0..6 select the signed sum (bit j-1 set
  /// when column b0 + j has the opposite sign of column b0 in row a), bit 7 negates it.
  std::vector<std::uint8_t> codes;
  /// For plans of lane_group columns: each code as the entry of a table that holds the 4 sums
  /// in entries 0-3 and their negations in 4-7 (code & 3, plus 4 when negated), at
  /// lane_codes[G * lane_rows + a] with the rows padded to a multiple of 8 by zeros
  /// (fwht_lanes_avx2.hpp reads eight rows at a time). Empty for other group sizes.
  std::vector<std::uint8_t> lane_codes;
  std::size_t lane_rows = 0;
};

/// The largest column group: its 2^(g-1) signed sums and their negations fill 32 registers, which
/// the SIMD kernels address with a one-byte code (fwht_simd.hpp). Larger groups save lookups but
/// cost more table stores than they save: 6 was 3-11% slower for m = 108, 148 and 172.
constexpr std::size_t max_base_group = 5;

/// The group size of the plans for float chunks of at most lane_chunk_limit elements, whose
/// AVX2 kernel puts output rows in the lanes of a register (fwht_lanes_avx2.hpp): the 2^(3-1)
/// signed sums of 3 columns and their negations are the 8 floats of one register.
constexpr std::size_t lane_group = 3;
constexpr std::size_t lane_chunk_limit = 2;

/// Column groups per batch in the SIMD kernels (apply_base_strips), at most: a row's table codes
/// for one batch then fill one 64-bit word (two for 16-bit codes).
constexpr std::size_t base_batch_limit = 8;

/// The cheapest group size for order m as the SIMD kernels spend time, in fifths of a table
/// store. Each of the ceil(m/g) groups stores 2^g registers, its sums and their negations (5
/// each), and pays 10 for loading its columns and its loop; each output row loads one entry of
/// it (3: two loads a cycle against one store, plus a share of reading the codes); each batch
/// of base_batch_limit groups after the first loads and stores every row's running sums (8 a
/// row). Fitted on Zen 3 (AVX2): against ceil(m/g) * (2^g + m), which counted a load as a store
/// and no batches, it takes g = 4 rather than 5 for m = 92 and the paired halves 50, 54, 62 and
/// 82 (0.95-1.00 of the time at p >= 16, 1.00-1.04 at p = 4 and 8) and 5 rather than 4 for 38
/// (76 * 8: 0.92), and keeps 5 for 74 and 116 ... 172, where 4 would add a batch.
inline std::size_t best_group_size(std::size_t m) {
  std::size_t best = 1, best_cost = 0;
  for (std::size_t g = 1; g <= max_base_group && g <= m; ++g) {
    const std::size_t groups = (m + g - 1) / g,
                      batches = (groups + base_batch_limit - 1) / base_batch_limit;
    const std::size_t cost =
        groups * (5 * (std::size_t{1} << g) + 3 * m + 10) + (batches - 1) * 8 * m;
    if (g == 1 || cost < best_cost) {
      best = g;
      best_cost = cost;
    }
  }
  return best;
}

/// Plans y = M z by groups of `group` columns for the m x m sign matrix M given row-major
/// (`transpose` reads it as M^T).
inline base_group_plan make_base_group_plan(const sign_matrix& h, std::size_t m, bool transpose,
                                            std::size_t group) {
  auto at = [&](std::size_t r, std::size_t c) { return transpose ? h[c * m + r] : h[r * m + c]; };
  base_group_plan plan;
  plan.order = m;
  plan.group = std::min(group, m);
  plan.groups = (m + plan.group - 1) / plan.group;
  plan.codes.resize(plan.groups * m);
  for (std::size_t grp = 0; grp < plan.groups; ++grp) {
    const std::size_t b0 = grp * plan.group;
    const std::size_t width = std::min(plan.group, m - b0);
    for (std::size_t a = 0; a < m; ++a) {
      const std::int8_t lead = at(a, b0);
      std::uint8_t code = lead < 0 ? 0x80 : 0;
      for (std::size_t j = 1; j < width; ++j)
        if (at(a, b0 + j) != lead) code = static_cast<std::uint8_t>(code | (1u << (j - 1)));
      plan.codes[grp * m + a] = code;
    }
  }
  if (plan.group == lane_group) {
    plan.lane_rows = (m + 7) / 8 * 8;
    plan.lane_codes.assign(plan.groups * plan.lane_rows, 0);
    for (std::size_t grp = 0; grp < plan.groups; ++grp)
      for (std::size_t a = 0; a < m; ++a) {
        const std::uint8_t code = plan.codes[grp * m + a];
        plan.lane_codes[grp * plan.lane_rows + a] =
            static_cast<std::uint8_t>((code & 3) | (code >> 7) << 2);
      }
  }
  return plan;
}

/// H_m, its signs and the plans for both orientations, by the cheapest groups and by lane_group
/// columns. Where H_m has the paired form (hadamard_pairs.hpp) the plans apply its quarter A and
/// A^T, of order m / 2, instead. For the float transforms m * 2^k that dense_product_applies to,
/// the dense H_n and H_n^T (dense_sign_columns: H_m's or, where paired, A's columns, for groups
/// of p elements). Where H_m is a 4 x 4 array of symmetric circulant blocks, the plans that apply
/// it through their Fourier basis (circulant_blocks.hpp); where it, or a paired base's quarter, is
/// bordered circulant, the plans that apply it by shifted sums (bordered_circulant.hpp).
struct hadamard_base {
  std::size_t order = 0;
  sign_matrix signs;                                 ///< m * m, row-major
  bool paired = false;                               ///< H_m = [[A, A - 2I], [A - 2I, -A]]
  base_group_plan forward;                           ///< applies H_m (A when paired)
  base_group_plan transposed;                        ///< applies H_m^T (A^T when paired)
  base_group_plan lane_forward;                      ///< forward by lane_group columns
  base_group_plan lane_transposed;                   ///< transposed by lane_group columns
  std::vector<dense_sign_columns> dense_forward;     ///< H_n of n = m * 2^k at [k]
  std::vector<dense_sign_columns> dense_transposed;  ///< H_n^T of n = m * 2^k at [k]
  circulant_plan circulant_forward;                  ///< H_m, or none (order() == 0)
  circulant_plan circulant_transposed;               ///< H_m^T, or none
  bordered_circulant_plan bordered_forward;          ///< H_m (A when paired), or none
  bordered_circulant_plan bordered_transposed;       ///< H_m^T (A^T when paired), or none

  /// The plan for one orientation: by lane_group columns for float chunks of at most
  /// lane_chunk_limit elements, whatever the instruction set, so that every back end adds in the
  /// same order.
  template <class T>
  const base_group_plan& plan(bool transpose, std::size_t p) const {
    if (std::is_same_v<T, float> && p <= lane_chunk_limit)
      return transpose ? lane_transposed : lane_forward;
    return transpose ? transposed : forward;
  }

  /// The dense H_n (or H_n^T) of n = m * 2^log2p where the transform of n elements of T is one
  /// dense product (float, where dense_product_applies); null otherwise.
  template <class T>
  const dense_sign_columns* dense(bool transpose, std::size_t log2p) const {
    const std::vector<dense_sign_columns>& columns = transpose ? dense_transposed : dense_forward;
    return std::is_same_v<T, float> && log2p < columns.size() ? &columns[log2p] : nullptr;
  }

  /// The circulant plan where a float transform with chunks of p elements takes it (a base of
  /// that form where circulant_kernel_applies, and no dense product); null otherwise.
  template <class T>
  const circulant_plan* circulant(bool transpose, std::size_t p) const {
    const circulant_plan& plan = transpose ? circulant_transposed : circulant_forward;
    const bool applies = plan.order() != 0 && circulant_kernel_applies(p);
    return std::is_same_v<T, float> && applies ? &plan : nullptr;
  }

  /// The bordered circulant plan where a float transform with chunks of p elements may take it (a
  /// base of that form where bordered_kernel_applies, and q p >= bordered_sum_lanes, which every
  /// size past dense_fwht_limit has); null otherwise.
  template <class T>
  const bordered_circulant_plan* bordered(bool transpose, std::size_t p) const {
    const bordered_circulant_plan& plan = transpose ? bordered_transposed : bordered_forward;
    const bool applies =
        plan.order() != 0 && bordered_kernel_applies(p) && plan.order() * p >= bordered_sum_lanes;
    return std::is_same_v<T, float> && applies ? &plan : nullptr;
  }

  hadamard_base(std::size_t m, sign_matrix h)
      : order(m), signs(std::move(h)), paired(has_paired_form(signs, m)) {
    if (paired) {
      const sign_matrix quarter = paired_quarter(signs, m);
      plan_both(quarter, m / 2);
      bordered_forward = bordered_circulant_plan(quarter, m / 2, false, true);
      bordered_transposed = bordered_circulant_plan(quarter, m / 2, true, true);
    } else {
      plan_both(signs, m);
      // The paired form's products are cheaper still.
      circulant_forward = circulant_plan(signs, m, false);
      circulant_transposed = circulant_plan(signs, m, true);
      bordered_forward = bordered_circulant_plan(signs, m, false);
      bordered_transposed = bordered_circulant_plan(signs, m, true);
    }
    const bool bordered_quarter = paired && bordered_forward.order() != 0;
    for (std::size_t log2p = 0; dense_product_applies(m, log2p, paired, bordered_quarter);
         ++log2p) {
      dense_forward.emplace_back(signs, m, paired, log2p, false);
      dense_transposed.emplace_back(signs, m, paired, log2p, true);
    }
  }

private:
  void plan_both(const sign_matrix& planned, std::size_t planned_order) {
    const std::size_t group = best_group_size(planned_order);
    forward = make_base_group_plan(planned, planned_order, false, group);
    transposed = make_base_group_plan(planned, planned_order, true, group);
    lane_forward = make_base_group_plan(planned, planned_order, false, lane_group);
    lane_transposed = make_base_group_plan(planned, planned_order, true, lane_group);
  }
};

/// y_a = scale * sum_b M[a][b] z_b for the chunks z_b = z + b * p (b < m) and y_a = y + a * p,
/// with M as `plan` describes. `sums` needs 2^(g-1) * p elements. z and y must not overlap.
/// Portable reference; the SIMD back ends provide the same contract.
template <class T>
void apply_base_portable(const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale,
                         T* sums) {
  const std::size_t m = plan.order;
  for (std::size_t grp = 0; grp < plan.groups; ++grp) {
    const std::size_t b0 = grp * plan.group;
    const std::size_t width = std::min(plan.group, m - b0);
    const std::size_t count = std::size_t{1} << (width - 1);
    // sums[0] = z_b0 + z_b1 + ... ; sums[t] flips the columns whose bits are set in t, each one
    // derived from a sum with one bit fewer: sums[t] = sums[t - top] - 2 z_(b0 + bit + 1).
    T* s0 = sums;
    const T* zb0 = z + b0 * p;
    for (std::size_t i = 0; i < p; ++i) s0[i] = zb0[i];
    for (std::size_t j = 1; j < width; ++j) {
      const T* zj = z + (b0 + j) * p;
      for (std::size_t i = 0; i < p; ++i) s0[i] += zj[i];
    }
    for (std::size_t t = 1; t < count; ++t) {
      std::size_t bit = 0;
      while ((t >> (bit + 1)) != 0) ++bit;
      const T* from = sums + (t ^ (std::size_t{1} << bit)) * p;
      const T* zj = z + (b0 + bit + 1) * p;
      T* to = sums + t * p;
      for (std::size_t i = 0; i < p; ++i) to[i] = from[i] - T(2) * zj[i];
    }
    const std::uint8_t* codes = plan.codes.data() + grp * m;
    for (std::size_t a = 0; a < m; ++a) {
      const T* s = sums + (codes[a] & 0x7f) * p;
      T* ya = y + a * p;
      const bool negate = (codes[a] & 0x80) != 0;
      if (grp == 0) {
        if (negate)
          for (std::size_t i = 0; i < p; ++i) ya[i] = -s[i];
        else
          for (std::size_t i = 0; i < p; ++i) ya[i] = s[i];
      } else {
        if (negate)
          for (std::size_t i = 0; i < p; ++i) ya[i] -= s[i];
        else
          for (std::size_t i = 0; i < p; ++i) ya[i] += s[i];
      }
    }
  }
  if (scale != T(1))
    for (std::size_t i = 0; i < m * p; ++i) y[i] *= scale;
}

/// y = scale * H z for a paired base H = [[A, A - 2I], [A - 2I, -A]] and the 2 h chunks of p at z
/// (h = plan.order, `plan` applying A or A^T): split, A on each half, join (hadamard_pairs.hpp).
/// `sums` needs 2 h p + 2^(g-1) p elements. z and y must not overlap.
template <class T>
void apply_paired_base_portable(const base_group_plan& plan, const T* z, T* y, std::size_t p,
                                T scale, T* sums) {
  const std::size_t half = plan.order * p;
  T* halves = sums;
  paired_split_portable(z, halves, half);
  apply_base_portable(plan, halves, y, p, T(1), halves + 2 * half);
  apply_base_portable(plan, halves + half, y + half, p, T(1), halves + 2 * half);
  paired_join_portable(y, z, y, half, scale);
}

}  // namespace detail
}  // namespace rotq
