#pragma once
// H_m on float chunks of one or two elements with AVX2: output rows in the lanes of a register.
//
// apply_base_strips (fwht_simd.hpp) puts the p elements of a chunk in the lanes of a register and
// looks up one table entry per output row and column group; with p = 1 or 2 each lookup moves one
// or two floats, and the 172-float transform took 6020 of them. Here a register holds one chunk
// element of eight output rows instead. A group of lane_group = 3 columns has 4 signed sums; they
// and their negations are the 8 floats of one register, and vpermps hands each of eight rows the
// entry that its code names: one shuffle and one addition per eight rows and three columns.
//
// The sums are formed and added in apply_base_portable's order, with its roundings, from the plan
// of lane_group columns that hadamard_base::plan picks for these chunks on every instruction set;
// the results are bitwise those of the portable kernel. Written with intrinsics rather than on
// GNU vectors as fwht_simd.hpp is: a variable lane shuffle has no portable spelling (clang 14
// turns neither a lane loop nor a vector built from lanes into vpermps).

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "rotq/config.hpp"

#if ROTQ_HAS_X86_DISPATCH
#include <immintrin.h>

#include "rotq/detail/fwht_simd.hpp"
#include "rotq/detail/hadamard_base.hpp"

namespace rotq {
namespace detail {

struct lane_tables;  // simd_scratch purpose: the tables of every group and chunk lane

/// Column b (at `at`, one chunk lane) in every lane; for a paired half its sum or difference with
/// its twin, as paired_split_portable forms them.
ROTQ_FORCEINLINE __attribute__((target("avx2,fma"))) __m256 lanes_column(
    const float* at, const base_input<float>& input) {
  const __m256 column = _mm256_broadcast_ss(at);
  if (input.twin == 0) return column;
  const __m256 twin = _mm256_broadcast_ss(at + input.twin);
  return input.differences ? _mm256_sub_ps(column, twin) : _mm256_add_ps(column, twin);
}

/// The table of the Width columns from b0 for chunk lane `lane`: entries 0-3 the signed sums as
/// apply_base_portable forms them (sum t flips the columns of the bits of t, each one derived from
/// the sum without its top bit), 4-7 their negations. Entries past 2^(Width-1) are never named.
template <std::size_t Width>
ROTQ_FORCEINLINE __attribute__((target("avx2,fma"))) __m256 lanes_table(
    const float* z, std::size_t p, std::size_t b0, std::size_t lane,
    const base_input<float>& input) {
  const float* at = z + b0 * p + lane;
  __m256 sums = lanes_column(at, input), first{}, second{};
  if constexpr (Width > 1) {
    first = lanes_column(at + p, input);
    sums = _mm256_add_ps(sums, first);
  }
  if constexpr (Width > 2) {
    second = lanes_column(at + 2 * p, input);
    sums = _mm256_add_ps(sums, second);
  }
  // Sum 1 = sum 0 - 2 z_(b0+1) into the odd lanes; then sums 2 and 3 = sums 0 and 1 - 2 z_(b0+2)
  // into lanes 2 and 3 of each four.
  if constexpr (Width > 1)
    sums = _mm256_blend_ps(sums, _mm256_sub_ps(sums, _mm256_add_ps(first, first)), 0xaa);
  if constexpr (Width > 2)
    sums = _mm256_blend_ps(sums, _mm256_sub_ps(sums, _mm256_add_ps(second, second)), 0xcc);
  return _mm256_xor_ps(sums, _mm256_setr_ps(0, 0, 0, 0, -0.f, -0.f, -0.f, -0.f));
}

/// acc[l][r] (rows a0 + 8 r .. + 7, chunk lane l) gets the entries of one group's tables that the
/// rows' codes name: assigned for the first group, added after it, as apply_base_portable does.
template <std::size_t P, std::size_t R, bool First>
ROTQ_FORCEINLINE __attribute__((target("avx2,fma"))) void lanes_lookup(const std::uint8_t* codes,
                                                                       const __m256* tables,
                                                                       __m256 (&acc)[P][R]) {
  __m256 table[P];
  ROTQ_UNROLL
  for (std::size_t l = 0; l < P; ++l)
    table[l] = _mm256_load_ps(reinterpret_cast<const float*>(tables + l));
  // Each register of codes serves its rows' P lanes at once: held no longer, so that the 8
  // accumulators, the tables and the terms fit in 16 registers (all codes first spilled one).
  ROTQ_UNROLL
  for (std::size_t r = 0; r < R; ++r) {
    const __m256i entry =
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + 8 * r)));
    ROTQ_UNROLL
    for (std::size_t l = 0; l < P; ++l) {
      const __m256 term = _mm256_permutevar8x32_ps(table[l], entry);
      acc[l][r] = First ? term : _mm256_add_ps(acc[l][r], term);
    }
  }
}

/// The chunks of rows a .. a + 7 from their P chunk lanes: out[k] holds elements 8k .. 8k + 7.
template <std::size_t P>
ROTQ_FORCEINLINE __attribute__((target("avx2,fma"))) void lanes_interleave(const __m256 (&lanes)[P],
                                                                           __m256 (&out)[P]) {
  static_assert(P == 1 || P == 2, "chunks of one or two elements");
  if constexpr (P == 1) {
    out[0] = lanes[0];
  } else {
    const __m256 low = _mm256_unpacklo_ps(lanes[0], lanes[1]);   // rows 0 1 | 4 5
    const __m256 high = _mm256_unpackhi_ps(lanes[0], lanes[1]);  // rows 2 3 | 6 7
    out[0] = _mm256_permute2f128_ps(low, high, 0x20);
    out[1] = _mm256_permute2f128_ps(low, high, 0x31);
  }
}

/// Rows a0 .. a0 + 8R - 1 of y (those below the plan's order): every group looked up, the chunks
/// put back together, for a paired half twice the chunk at input.subtract taken away (as
/// paired_join_portable does), scaled.
template <std::size_t P, std::size_t R>
ROTQ_FORCEINLINE __attribute__((target("avx2,fma"))) bool lanes_rows(
    const base_group_plan& plan, const __m256* tables, std::size_t a0, float* y, float scale,
    const base_input<float>& input) {
  __m256 acc[P][R];
  const std::uint8_t* codes = plan.lane_codes.data() + a0;
  lanes_lookup<P, R, true>(codes, tables, acc);
  for (std::size_t grp = 1; grp < plan.groups; ++grp)
    lanes_lookup<P, R, false>(codes + grp * plan.lane_rows, tables + grp * P, acc);

  const __m256 scale_lanes = _mm256_set1_ps(scale);
  for (std::size_t r = 0; r < R; ++r) {
    const std::size_t a = a0 + 8 * r;
    __m256 lanes[P], chunks[P];
    for (std::size_t l = 0; l < P; ++l) lanes[l] = acc[l][r];
    lanes_interleave<P>(lanes, chunks);
    if (a + 8 <= plan.order) {
      for (std::size_t k = 0; k < P; ++k) {
        __m256 v = chunks[k];
        if (input.subtract != nullptr) {
          const __m256 t = _mm256_loadu_ps(input.subtract + a * P + 8 * k);
          v = _mm256_sub_ps(v, _mm256_add_ps(t, t));
        }
        _mm256_storeu_ps(y + a * P + 8 * k, _mm256_mul_ps(v, scale_lanes));
      }
    } else {
      // The rows past the order are padding: finish the others one element at a time.
      alignas(32) float row[8 * P];
      for (std::size_t k = 0; k < P; ++k) _mm256_store_ps(row + 8 * k, chunks[k]);
      for (std::size_t i = 0; i < (plan.order - a) * P; ++i) {
        float v = row[i];
        if (input.subtract != nullptr) v -= input.subtract[a * P + i] + input.subtract[a * P + i];
        y[a * P + i] = v * scale;
      }
    }
  }
  return true;
}

/// lanes_rows for the last R < 8 / P row registers, R chosen at run time.
template <std::size_t P, std::size_t... R>
ROTQ_FORCEINLINE __attribute__((target("avx2,fma"))) void lanes_rows_of(
    std::size_t registers, const base_group_plan& plan, const __m256* tables, std::size_t a0,
    float* y, float scale, const base_input<float>& input, std::index_sequence<R...>) {
  (void)((registers == R + 1 && lanes_rows<P, R + 1>(plan, tables, a0, y, scale, input)) || ...);
}

template <std::size_t P>
ROTQ_FORCEINLINE __attribute__((target("avx2,fma"))) void apply_base_lanes(
    const base_group_plan& plan, const float* z, float* y, float scale,
    const base_input<float>& input) {
  const std::size_t m = plan.order, groups = plan.groups;
  __m256* tables = reinterpret_cast<__m256*>(simd_scratch<float, lane_tables>(groups * P * 8));
  for (std::size_t grp = 0; grp < groups; ++grp) {
    const std::size_t b0 = grp * lane_group, width = m - b0;
    for (std::size_t l = 0; l < P; ++l)
      tables[grp * P + l] = width >= 3   ? lanes_table<3>(z, P, b0, l, input)
                            : width == 2 ? lanes_table<2>(z, P, b0, l, input)
                                         : lanes_table<1>(z, P, b0, l, input);
  }
  // 8 accumulators per block of rows: with the table, the codes and a term, 11 of 16 registers.
  constexpr std::size_t block = 8 / P;
  std::size_t a0 = 0;
  for (; a0 + 8 * block <= plan.lane_rows; a0 += 8 * block)
    lanes_rows<P, block>(plan, tables, a0, y, scale, input);
  if (a0 < plan.lane_rows)
    lanes_rows_of<P>((plan.lane_rows - a0) / 8, plan, tables, a0, y, scale, input,
                     std::make_index_sequence<block - 1>());
}

/// Whether apply_base_lanes_avx2 applies `plan` to chunks of p elements.
inline bool lanes_apply(const base_group_plan& plan, std::size_t p) {
  return p <= lane_chunk_limit && plan.group == lane_group;
}

/// apply_base_portable's contract without `sums` for float chunks of p elements where
/// lanes_apply(plan, p), with `input` as apply_base_strips takes it; call only where
/// isa_available(isa::avx2).
inline __attribute__((target("avx2,fma"))) void apply_base_lanes_avx2(
    const base_group_plan& plan, const float* z, float* y, std::size_t p, float scale,
    const base_input<float>& input) {
  if (p == 1)
    apply_base_lanes<1>(plan, z, y, scale, input);
  else
    apply_base_lanes<2>(plan, z, y, scale, input);
}

/// What the x86 back ends (fwht_avx2.hpp, fwht_avx512.hpp) derive from: apply_base_simd and
/// apply_paired_base_simd hand float chunks of one or two elements to apply_base_lanes_avx2. The
/// AVX-512 back end uses the AVX2 kernel too: a 512-bit one is not written, as no machine at hand
/// could measure it.
template <class T>
struct lane_lookups_avx2 {
  static constexpr bool lane_lookups = std::is_same_v<T, float>;
  /// Applies the plan and returns true where lanes_apply(plan, p); otherwise false.
  static bool apply_base_by_lanes(const base_group_plan& plan, const T* z, T* y, std::size_t p,
                                  T scale, const base_input<T>& input) {
    if (!lanes_apply(plan, p)) return false;
    apply_base_lanes_avx2(plan, z, y, p, scale, input);
    return true;
  }
};

}  // namespace detail
}  // namespace rotq

#endif  // ROTQ_HAS_X86_DISPATCH
