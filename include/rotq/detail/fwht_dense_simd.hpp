#pragma once
// The dense product of small float transforms (dense_hadamard.hpp) on a back end's registers:
// each output row held in R registers, K partial sums of it (dense_partial_sums), and per column
// one broadcast element and R multiply-adds with the column's registers. R and K are compile-time
// constants, so the R * K accumulators stay in registers. A paired product (H_m of the paired
// form, chunks of p <= 4) keeps two outputs per row, y0 and y1, broadcasts a group of p elements
// per column instead of one, and feeds both outputs from each column's registers.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "rotq/config.hpp"
#include "rotq/detail/dense_hadamard.hpp"
#include "rotq/detail/fwht_simd.hpp"
#include "rotq/detail/simd_alignment.hpp"

namespace rotq {
namespace detail {

/// The largest n that keeps 4 and 2 partial sums (dense_partial_sums).
constexpr std::size_t dense_four_sums_limit = 16;
constexpr std::size_t dense_two_sums_limit = 48;
static_assert(dense_partial_sums(dense_four_sums_limit) == 4 &&
                  dense_partial_sums(dense_four_sums_limit + 1) == 2 &&
                  dense_partial_sums(dense_two_sums_limit) == 2 &&
                  dense_partial_sums(dense_two_sums_limit + 1) == 1,
              "the kernels below are instantiated for these ranges of n");

/// Every lane of r <- *from. With GCC the x86 back ends broadcast from memory as written: GCC
/// built the register lane by lane (simd_broadcast's loop, or a shuffle of lane 0: four inserts a
/// half), these kernels being compiled before they are inlined into a target that has the
/// broadcast. Clang emits the broadcast itself (and rejects the asm outside an AVX function).
template <class Simd, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void broadcast_element(Reg& r, const float* from) {
#if !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
  if constexpr (Simd::inline_assembly) {
    asm("vbroadcastss {%1, %0|%0, %1}" : "=v"(r) : "m"(*from));
    return;
  }
#endif
  simd_broadcast(r, *from);
}

/// Every run of P lanes of r <- the P floats at `from` (P at most dense_paired_chunk_limit): the
/// paired product's group of z for one column of A. On x86 with GCC one broadcast from memory, as
/// broadcast_element's.
template <class Simd, std::size_t P, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void broadcast_group(Reg& r, const float* from) {
  constexpr std::size_t width = simd_width<Reg>;
  static_assert(P <= dense_paired_chunk_limit && width % P == 0, "whole groups in a register");
  if constexpr (P == 1) {
    broadcast_element<Simd>(r, from);
  } else if constexpr (P == width) {
    simd_load(r, from);
  } else {
#if !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
    using group = const float[P];  // the memory operand: P floats
    if constexpr (Simd::inline_assembly && P == 2) {
      asm("vbroadcastsd {%1, %0|%0, %1}" : "=v"(r) : "m"(*reinterpret_cast<group*>(from)));
      return;
    } else if constexpr (Simd::inline_assembly && P == 4 && width == 8) {
      asm("vbroadcastf128 {%1, %0|%0, %1}" : "=v"(r) : "m"(*reinterpret_cast<group*>(from)));
      return;
    } else if constexpr (Simd::inline_assembly && P == 4) {
      asm("vbroadcastf32x4 {%1, %0|%0, %1}" : "=v"(r) : "m"(*reinterpret_cast<group*>(from)));
      return;
    }
#endif
    ROTQ_UNROLL
    for (std::size_t i = 0; i < width; ++i) r[i] = from[i % P];
  }
}

/// r <- the `count` floats at `from` (fewer than a register's lanes, an even number) and zeros:
/// a register of the row that would cross its end. Pieces of four floats and of two (a copy of
/// a length known only at run time became `rep movsq`, a third of the time for n = 12).
template <class Reg>
ROTQ_FORCEINLINE void load_partial(Reg& r, const float* from, std::size_t count) {
  float lanes[simd_width<Reg>];
  simd_store(lanes, Reg{});  // not `= {}`, which became `rep stosd`
  const std::size_t end = std::min(count, simd_width<Reg>);  // bounds the copies for GCC too
  std::size_t i = 0;
  for (; i + 4 <= end; i += 4) std::memcpy(lanes + i, from + i, 16);
  if (i + 2 <= end) std::memcpy(lanes + i, from + i, 8);
  simd_load(r, lanes);
}

/// The first `count` lanes of r to `to` (fewer than a register's, an even number).
template <class Reg>
ROTQ_FORCEINLINE void store_partial(float* to, const Reg& r, std::size_t count) {
  float lanes[simd_width<Reg>];
  simd_store(lanes, r);
  const std::size_t end = std::min(count, simd_width<Reg>);
  std::size_t i = 0;
  for (; i + 4 <= end; i += 4) std::memcpy(to + i, lanes + i, 16);
  if (i + 2 <= end) std::memcpy(to + i, lanes + i, 8);
}

template <class Simd, std::size_t R, std::size_t K>
ROTQ_FORCEINLINE void apply_dense_registers(const dense_sign_columns& h, float* x, float scale) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t n = h.order(), stride = h.stride(), span = n / K;  // n: a multiple of 4
  const float* columns = h.columns();
  reg sums[K][R];
  reg element, column;
  // The first column of each sum: a product by +-1, exact.
  ROTQ_UNROLL
  for (std::size_t k = 0; k < K; ++k) {
    broadcast_element<Simd>(element, x + k * span);
    ROTQ_UNROLL
    for (std::size_t r = 0; r < R; ++r) {
      simd_load(column, columns + k * span * stride + r * width);
      sums[k][r] = column * element;
    }
  }
  for (std::size_t j = 1; j < span; ++j) {
    ROTQ_UNROLL
    for (std::size_t k = 0; k < K; ++k) {
      broadcast_element<Simd>(element, x + k * span + j);
      ROTQ_UNROLL
      for (std::size_t r = 0; r < R; ++r) {
        simd_load(column, columns + (k * span + j) * stride + r * width);
        // Through a copy: an asm operand bound to the array element itself kept the whole array
        // in memory (GCC does not split an array whose element an asm writes).
        reg sum = sums[k][r];
        multiply_add<Simd>(sum, column, element);
        sums[k][r] = sum;
      }
    }
  }
  // Every element of x was read above, so the row can be written over: whole registers where
  // they fit, the last one's lanes below n apart.
  reg factor;
  simd_broadcast(factor, scale);
  ROTQ_UNROLL
  for (std::size_t r = 0; r < R; ++r) {
    reg total = sums[0][r];
    ROTQ_UNROLL
    for (std::size_t k = 1; k < K; ++k) total = total + sums[k][r];
    total = total * factor;
    if (r + 1 < R || n == R * width)
      simd_store(x + r * width, total);
    else
      store_partial(x + r * width, total, n - r * width);
  }
}

/// Where a paired product writes its outputs: y0 at y, y1 at y + second, `capacity` floats in all.
/// A register that crosses the end of its half is stored whole where it stays inside y: y0's
/// runs into y1's place, which is written after it.
struct dense_paired_output {
  float* y;
  std::size_t second;
  std::size_t capacity;
};

/// apply_dense_paired_portable's contract with groups of P elements (p), K partial sums, for the
/// R registers of each half's outputs from register `first` on, reading the 2n floats at z: per
/// column of A the two broadcast groups, their sum and their difference, and 2R multiply-adds
/// with the column's R registers, loaded once for both halves. The outputs may be z itself where
/// these R registers are all of a half's (every read comes before the first store).
template <class Simd, std::size_t P, std::size_t R, std::size_t K>
ROTQ_FORCEINLINE void apply_dense_paired_registers(const dense_sign_columns& a, const float* z,
                                                   std::size_t first, dense_paired_output out,
                                                   float scale) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t n = a.order(), stride = a.stride(), span = a.column_count() / K;
  const float* columns = a.columns() + first * width;
  reg sums[2][K][R];  // y0, y1 before S_p
  reg group0, group1, sum, difference, column;
  // The first column of each partial sum: a product by +-1, exact.
  ROTQ_UNROLL
  for (std::size_t k = 0; k < K; ++k) {
    broadcast_group<Simd, P>(group0, z + k * span * P);
    broadcast_group<Simd, P>(group1, z + n + k * span * P);
    sum = group0 + group1;
    difference = group0 - group1;
    ROTQ_UNROLL
    for (std::size_t r = 0; r < R; ++r) {
      simd_load(column, columns + k * span * stride + r * width);
      sums[0][k][r] = column * sum;
      sums[1][k][r] = column * difference;
    }
  }
  for (std::size_t j = 1; j < span; ++j) {
    ROTQ_UNROLL
    for (std::size_t k = 0; k < K; ++k) {
      broadcast_group<Simd, P>(group0, z + (k * span + j) * P);
      broadcast_group<Simd, P>(group1, z + n + (k * span + j) * P);
      sum = group0 + group1;
      difference = group0 - group1;
      ROTQ_UNROLL
      for (std::size_t r = 0; r < R; ++r) {
        simd_load(column, columns + (k * span + j) * stride + r * width);
        reg y0 = sums[0][k][r], y1 = sums[1][k][r];  // copies: see apply_dense_registers
        multiply_add<Simd>(y0, column, sum);
        multiply_add<Simd>(y1, column, difference);
        sums[0][k][r] = y0;
        sums[1][k][r] = y1;
      }
    }
  }
  // y0 = S_p (A' (z0 + z1) - 2 z1) and y1 = S_p (A' (z0 - z1) - 2 z0); the registers of z that
  // would cross the row's end are read through load_partial. The chunks of p lie inside
  // registers, whose butterflies go in sylvester_portable's order.
  reg pair_signs, quad_signs, factor, minus_two, other;
  lane_signs(pair_signs, 0);
  lane_signs(quad_signs, 1);
  simd_broadcast(factor, scale);
  simd_broadcast(minus_two, -2.0f);
  ROTQ_UNROLL
  for (std::size_t r = 0; r < R; ++r) {
    const std::size_t at = (first + r) * width;
    ROTQ_UNROLL
    for (std::size_t half = 0; half < 2; ++half) {
      reg total = sums[half][0][r];
      ROTQ_UNROLL
      for (std::size_t k = 1; k < K; ++k) total = total + sums[half][k][r];
      const float* from = z + (half == 0 ? n : 0) + at;
      if (at + width <= (half == 0 ? n : 2 * n))
        simd_load(other, from);
      else
        load_partial(other, from, n - at);
      multiply_add<Simd>(total, other, minus_two);  // exact product: rounds as total - 2 z
      if constexpr (P >= 2) butterflies_within_stage<Simd, 1>(total, pair_signs);
      if constexpr (P >= 4) butterflies_within_stage<Simd, 2>(total, quad_signs);
      sums[half][0][r] = total * factor;
    }
  }
  ROTQ_UNROLL
  for (std::size_t r = 0; r < R; ++r) {
    const std::size_t at = (first + r) * width;
    if (at + width <= out.capacity)
      simd_store(out.y + at, sums[0][0][r]);
    else
      store_partial(out.y + at, sums[0][0][r], n - at);
  }
  ROTQ_UNROLL
  for (std::size_t r = 0; r < R; ++r) {
    const std::size_t at = (first + r) * width;
    if (out.second + at + width <= out.capacity)
      simd_store(out.y + out.second + at, sums[1][0][r]);
    else
      store_partial(out.y + out.second + at, sums[1][0][r], n - at);
  }
}

/// apply_dense_registers<Simd, R, K> for the R of this order, among First + 0, First + 1, ...
template <class Simd, std::size_t K, std::size_t First, std::size_t... Offset>
ROTQ_FORCEINLINE void apply_dense_of_registers(const dense_sign_columns& h, float* x, float scale,
                                               std::index_sequence<Offset...>) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  const std::size_t registers = (h.order() + width - 1) / width;
  (void)((registers == First + Offset &&
          (apply_dense_registers<Simd, First + Offset, K>(h, x, scale), true)) ||
         ...);
}

/// The registers of the orders from Lo to Hi (those that keep K partial sums).
template <class Simd, std::size_t K, std::size_t Lo, std::size_t Hi>
ROTQ_FORCEINLINE void apply_dense_with_sums(const dense_sign_columns& h, float* x, float scale) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  constexpr std::size_t first = (Lo + width - 1) / width, last = (Hi + width - 1) / width;
  apply_dense_of_registers<Simd, K, first>(h, x, scale,
                                           std::make_index_sequence<last - first + 1>());
}

/// The largest paired half that keeps two partial sums (dense_paired_partial_sums).
constexpr std::size_t dense_paired_two_sums_limit = 16;
static_assert(dense_paired_partial_sums(dense_paired_two_sums_limit) == 2 &&
                  dense_paired_partial_sums(dense_paired_two_sums_limit + 1) == 1,
              "the paired kernels below are instantiated for these ranges of n");

/// The most registers of each half that one pass over A's columns computes: 2 * 6 accumulators,
/// the groups' sum and difference (which the groups' registers become) and a column take 15 of
/// AVX2's 16 registers, with no spill in GCC's loop. In one run, 6 rather than 5 took 84 * 1 (two
/// passes of three registers, bound by the FMAs' latency) from 145 to 113 ns, 164 * 1 from 420 to
/// 365.
constexpr std::size_t dense_paired_pass_registers = 6;

/// apply_dense_paired_registers<Simd, P, R, K> for R = `registers`, among Fewest + 0, + 1, ...
template <class Simd, std::size_t P, std::size_t K, std::size_t Fewest, std::size_t... More>
ROTQ_FORCEINLINE void apply_dense_paired_pass(std::size_t registers, const dense_sign_columns& a,
                                              const float* z, std::size_t first,
                                              dense_paired_output out, float scale,
                                              std::index_sequence<More...>) {
  (void)((registers == Fewest + More &&
          (apply_dense_paired_registers<Simd, P, Fewest + More, K>(a, z, first, out, scale),
           true)) ||
         ...);
}

/// The same among the registers of halves from Lo to Hi elements.
template <class Simd, std::size_t P, std::size_t K, std::size_t Lo, std::size_t Hi>
ROTQ_FORCEINLINE void apply_dense_paired_in_place(std::size_t registers,
                                                  const dense_sign_columns& a, float* x,
                                                  float scale) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  constexpr std::size_t fewest = (Lo + width - 1) / width, most = (Hi + width - 1) / width;
  const std::size_t n = a.order();
  apply_dense_paired_pass<Simd, P, K, fewest>(registers, a, x, 0, {x, n, 2 * n}, scale,
                                              std::make_index_sequence<most - fewest + 1>());
}

/// A paired product with groups of P elements. Halves of more than dense_paired_pass_registers
/// registers take several passes over A's columns, of nearly equal numbers of registers (so at
/// least three: six chains of multiply-adds or more, where eight hide an FMA's four cycles at two
/// a cycle), into a buffer, since each pass reads every element of the row.
template <class Simd, std::size_t P>
ROTQ_FORCEINLINE void apply_dense_paired_simd(const dense_sign_columns& a, float* x, float scale) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  constexpr std::size_t most = dense_paired_pass_registers, one_pass = most * width;
  const std::size_t n = a.order(), registers = (n + width - 1) / width;
  if (dense_paired_partial_sums(n) == 2) {
    apply_dense_paired_in_place<Simd, P, 2, 1, dense_paired_two_sums_limit>(registers, a, x,
                                                                             scale);
    return;
  }
  if (registers <= most) {
    apply_dense_paired_in_place<Simd, P, 1, dense_paired_two_sums_limit + 1, one_pass>(
        registers, a, x, scale);
    return;
  }
  constexpr std::size_t fewest = (most + 1) / 2;  // of 2 passes over most + 1 registers
  float buffer[2 * ((dense_paired_half_limit + width - 1) / width * width)];
  const dense_paired_output out{buffer, registers * width, 2 * registers * width};
  const std::size_t passes = (registers + most - 1) / most;
  for (std::size_t pass = 0, first = 0; pass < passes; ++pass) {
    const std::size_t count = registers / passes + (pass < registers % passes ? 1 : 0);
    apply_dense_paired_pass<Simd, P, 1, fewest>(count, a, x, first, out, scale,
                                                std::make_index_sequence<most - fewest + 1>());
    first += count;
  }
  std::memcpy(x, buffer, n * sizeof(float));
  std::memcpy(x + n, buffer + out.second, n * sizeof(float));
}

/// apply_dense_portable's contract on the back end Simd (float registers).
template <class Simd>
ROTQ_FORCEINLINE void apply_dense_simd(const dense_sign_columns& h, float* x, float scale) {
  static_assert(std::is_same_v<typename Simd::scalar, float>, "the dense product is for float");
  static_assert(dense_paired_chunk_limit == 4, "the groups below are 1, 2 and 4 elements");
  if (h.paired()) {
    switch (h.log2_group()) {
      case 0: apply_dense_paired_simd<Simd, 1>(h, x, scale); break;
      case 1: apply_dense_paired_simd<Simd, 2>(h, x, scale); break;
      default: apply_dense_paired_simd<Simd, 4>(h, x, scale);
    }
    return;
  }
  switch (dense_partial_sums(h.order())) {
    case 4: apply_dense_with_sums<Simd, 4, 1, dense_four_sums_limit>(h, x, scale); break;
    case 2:
      apply_dense_with_sums<Simd, 2, dense_four_sums_limit + 1, dense_two_sums_limit>(
          h, x, scale);
      break;
    default:
      apply_dense_with_sums<Simd, 1, dense_two_sums_limit + 1, dense_fwht_limit>(h, x, scale);
  }
}

}  // namespace detail
}  // namespace rotq
