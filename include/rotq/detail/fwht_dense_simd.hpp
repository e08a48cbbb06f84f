#pragma once
// The dense product of small float transforms (dense_hadamard.hpp) on a back end's registers:
// each output row held in R registers, K partial sums of it (dense_partial_sums), and per column
// of H_m one broadcast group of p elements and R multiply-adds with the column's registers, then
// S_p's butterflies inside each register. R, K and p are compile-time constants, so the R * K
// accumulators stay in registers. A paired product (H_m of the paired form) keeps two outputs per
// row, y0 and y1, and feeds both from each column's registers.

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

/// Every run of P lanes of r <- the P floats at `from` (P at most dense_chunk_limit): the
/// paired product's group of z for one column of A. On x86 with GCC one broadcast from memory, as
/// broadcast_element's.
template <class Simd, std::size_t P, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void broadcast_group(Reg& r, const float* from) {
  constexpr std::size_t width = simd_width<Reg>;
  static_assert(P <= dense_chunk_limit && width % P == 0, "whole groups in a register");
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

/// The first `count` floats (fewer than Width, an even number) from `from` to `to`, in pieces of
/// four and of two over a loop of Width / 4 steps: a copy of a length known only at run time
/// became `rep movsq` (a third of the time for n = 12), and GCC 12 took a loop bounded by `count`
/// alone to reach past the register (-Warray-bounds).
template <std::size_t Width>
ROTQ_FORCEINLINE void copy_partial(float* to, const float* from, std::size_t count) {
  ROTQ_UNROLL
  for (std::size_t i = 0; i < Width; i += 4) {
    if (i + 4 > count) {
      if (i + 2 <= count) std::memcpy(to + i, from + i, 8);
      return;
    }
    std::memcpy(to + i, from + i, 16);
  }
}

/// r <- the `count` floats at `from` (fewer than a register's lanes, an even number) and zeros:
/// a register of the row that would cross its end.
template <class Reg>
ROTQ_FORCEINLINE void load_partial(Reg& r, const float* from, std::size_t count) {
  float lanes[simd_width<Reg>];
  simd_store(lanes, Reg{});  // not `= {}`, which became `rep stosd`
  copy_partial<simd_width<Reg>>(lanes, from, count);
  simd_load(r, lanes);
}

/// The first `count` lanes of r to `to` (fewer than a register's, an even number).
template <class Reg>
ROTQ_FORCEINLINE void store_partial(float* to, const Reg& r, std::size_t count) {
  float lanes[simd_width<Reg>];
  simd_store(lanes, r);
  copy_partial<simd_width<Reg>>(to, lanes, count);
}

/// Where a dense product writes its outputs: the row (or y0) at y, a paired product's y1 at
/// y + second, `capacity` floats in all. A register that crosses the end of its output is stored
/// whole where it stays inside y: y0's runs into y1's place, which is written after it.
struct dense_output {
  float* y;
  std::size_t second;
  std::size_t capacity;
};

/// The inputs that the columns at b multiply, into `first`: the broadcast group of P elements at
/// z + b * P; for a paired product (Halves = 2) the sum of that group and z1's, n floats on, and
/// their difference into `second`. (Two registers, not an array of Halves: GCC kept such an array
/// in memory and saw its lanes read before they were written.)
template <class Simd, std::size_t Halves, std::size_t P, class Reg>
ROTQ_FORCEINLINE void dense_column_inputs(Reg& first, Reg& second, const float* z, std::size_t n,
                                          std::size_t b) {
  broadcast_group<Simd, P>(first, z + b * P);
  if constexpr (Halves == 2) {
    broadcast_group<Simd, P>(second, z + n + b * P);
    const Reg group0 = first, group1 = second;  // their registers become the sum and difference
    first = group0 + group1;
    second = group0 - group1;
  }
}

/// apply_dense_portable's contract with groups of P elements (p) and K partial sums, for the R
/// registers of each output (both halves' where paired: Halves = 2) from register `first` on,
/// reading the Halves * n floats at z: per column the inputs (dense_column_inputs) and Halves * R
/// multiply-adds with the column's R registers, loaded once for both halves. The outputs may be z
/// itself where these R registers are all of the row's (every read comes before the first store).
template <class Simd, std::size_t Halves, std::size_t P, std::size_t R, std::size_t K>
ROTQ_FORCEINLINE void apply_dense_registers(const dense_sign_columns& a, const float* z,
                                            std::size_t first, dense_output out, float scale) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t n = a.order(), stride = a.stride(), span = a.column_count() / K;
  const float* columns = a.columns() + first * width;
  reg sums[Halves][K][R];  // the outputs before S_p
  reg input0, input1, column;
  // The first column of each partial sum: a product by +-1, exact.
  ROTQ_UNROLL
  for (std::size_t k = 0; k < K; ++k) {
    dense_column_inputs<Simd, Halves, P>(input0, input1, z, n, k * span);
    ROTQ_UNROLL
    for (std::size_t r = 0; r < R; ++r) {
      simd_load(column, columns + k * span * stride + r * width);
      ROTQ_UNROLL
      for (std::size_t half = 0; half < Halves; ++half)
        sums[half][k][r] = column * (half == 0 ? input0 : input1);
    }
  }
  for (std::size_t j = 1; j < span; ++j) {
    ROTQ_UNROLL
    for (std::size_t k = 0; k < K; ++k) {
      dense_column_inputs<Simd, Halves, P>(input0, input1, z, n, k * span + j);
      ROTQ_UNROLL
      for (std::size_t r = 0; r < R; ++r) {
        simd_load(column, columns + (k * span + j) * stride + r * width);
        ROTQ_UNROLL
        for (std::size_t half = 0; half < Halves; ++half) {
          // Through a copy: an asm operand bound to the array element itself kept the whole
          // array in memory (GCC does not split an array whose element an asm writes).
          reg sum = sums[half][k][r];
          multiply_add<Simd>(sum, column, half == 0 ? input0 : input1);
          sums[half][k][r] = sum;
        }
      }
    }
  }
  // Paired: y0 = S_p (A' (z0 + z1) - 2 z1) and y1 = S_p (A' (z0 - z1) - 2 z0), the registers of z
  // that would cross the row's end read through load_partial; unpaired: y = S_p (H_m' z). The
  // chunks of p lie inside registers, whose butterflies go in sylvester_portable's order.
  reg pair_signs, quad_signs, factor, minus_two, other;
  lane_signs(pair_signs, 0);
  lane_signs(quad_signs, 1);
  simd_broadcast(factor, scale);
  simd_broadcast(minus_two, -2.0f);
  ROTQ_UNROLL
  for (std::size_t r = 0; r < R; ++r) {
    const std::size_t at = (first + r) * width;
    ROTQ_UNROLL
    for (std::size_t half = 0; half < Halves; ++half) {
      reg total = sums[half][0][r];
      ROTQ_UNROLL
      for (std::size_t k = 1; k < K; ++k) total = total + sums[half][k][r];
      if constexpr (Halves == 2) {
        const float* from = z + (half == 0 ? n : 0) + at;
        if (at + width <= (half == 0 ? n : 2 * n))
          simd_load(other, from);
        else
          load_partial(other, from, n - at);
        multiply_add<Simd>(total, other, minus_two);  // exact product: rounds as total - 2 z
      }
      if constexpr (P >= 2) butterflies_within_stage<Simd, 1>(total, pair_signs);
      if constexpr (P >= 4) butterflies_within_stage<Simd, 2>(total, quad_signs);
      sums[half][0][r] = total * factor;
    }
  }
  ROTQ_UNROLL
  for (std::size_t half = 0; half < Halves; ++half) {
    ROTQ_UNROLL
    for (std::size_t r = 0; r < R; ++r) {
      const std::size_t at = (first + r) * width, to = half * out.second + at;
      if (to + width <= out.capacity)
        simd_store(out.y + to, sums[half][0][r]);
      else
        store_partial(out.y + to, sums[half][0][r], n - at);
    }
  }
}

/// The most registers of each output that one pass over the columns computes: 2 * 6 accumulators
/// (two sums of a row, or one of each paired half), the inputs (a group, or the groups' sum and
/// difference) and a column take at most 15 of AVX2's 16 registers, with no spill in GCC's loop.
/// In one run, 6 rather than 5 registers a half took 84 * 1 (two passes of three registers, bound
/// by the FMAs' latency) from 145 to 113 ns, 164 * 1 from 420 to 365. More registers a pass
/// would spare broadcasts, not multiply-adds, and doubled the kernels' compile time.
constexpr std::size_t dense_pass_registers = 6;

/// apply_dense_registers<Simd, Halves, P, R, K> for R = `registers`, among Fewest + 0, + 1, ...
template <class Simd, std::size_t Halves, std::size_t P, std::size_t K, std::size_t Fewest,
          std::size_t... More>
ROTQ_FORCEINLINE void apply_dense_pass(std::size_t registers, const dense_sign_columns& a,
                                       const float* z, std::size_t first, dense_output out,
                                       float scale, std::index_sequence<More...>) {
  (void)((registers == Fewest + More &&
          (apply_dense_registers<Simd, Halves, P, Fewest + More, K>(a, z, first, out, scale),
           true)) ||
         ...);
}

/// The same for the whole row in place, among the registers of outputs from Lo to Hi elements.
template <class Simd, std::size_t Halves, std::size_t P, std::size_t K, std::size_t Lo,
          std::size_t Hi>
ROTQ_FORCEINLINE void apply_dense_in_place(std::size_t registers, const dense_sign_columns& a,
                                           float* x, float scale) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  constexpr std::size_t fewest = (Lo + width - 1) / width, most = (Hi + width - 1) / width;
  const std::size_t n = a.order();
  apply_dense_pass<Simd, Halves, P, K, fewest>(registers, a, x, 0, {x, n, Halves * n}, scale,
                                               std::make_index_sequence<most - fewest + 1>());
}

/// A dense product with groups of P elements, paired (Halves = 2) or not. Outputs of more than
/// dense_pass_registers registers take several passes over the columns, of nearly equal numbers
/// of registers (so at least three: six chains of multiply-adds or more, where eight hide an
/// FMA's four cycles at two a cycle), into a buffer, since each pass reads every element of the
/// row. Rows of up to 16 (four sums, or a paired half's two) are one pass: bases have m >= 12, so
/// such rows have p = 1, and such halves p <= 2 (the others are not instantiated).
template <class Simd, std::size_t Halves, std::size_t P>
ROTQ_FORCEINLINE void apply_dense_grouped_simd(const dense_sign_columns& a, float* x, float scale) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  constexpr std::size_t most = dense_pass_registers, one_pass = most * width;
  constexpr std::size_t short_row = dense_short_row_limit;
  static_assert(short_row < one_pass, "short rows take one pass");
  // K on each side of short_row, where dense_partial_sums steps.
  constexpr std::size_t short_sums = dense_partial_sums(short_row, Halves == 2),
                        sums = dense_partial_sums(short_row + 1, Halves == 2);
  const std::size_t n = a.order(), registers = (n + width - 1) / width;
  if (n <= short_row) {
    if constexpr (Halves == 2 ? P <= 2 : P == 1)
      apply_dense_in_place<Simd, Halves, P, short_sums, 1, short_row>(registers, a, x, scale);
    return;
  }
  if (registers <= most) {
    apply_dense_in_place<Simd, Halves, P, sums, short_row + 1, one_pass>(registers, a, x, scale);
    return;
  }
  constexpr std::size_t fewest = (most + 1) / 2;  // of 2 passes over most + 1 registers
  constexpr std::size_t longest = Halves == 2 ? dense_paired_half_limit : dense_unpaired_row_limit;
  float buffer[Halves * ((longest + width - 1) / width * width)];
  const dense_output out{buffer, registers * width, Halves * registers * width};
  const std::size_t passes = (registers + most - 1) / most;
  for (std::size_t pass = 0, first = 0; pass < passes; ++pass) {
    const std::size_t count = registers / passes + (pass < registers % passes ? 1 : 0);
    apply_dense_pass<Simd, Halves, P, sums, fewest>(count, a, x, first, out, scale,
                                                    std::make_index_sequence<most - fewest + 1>());
    first += count;
  }
  for (std::size_t half = 0; half < Halves; ++half)
    std::memcpy(x + half * n, buffer + half * out.second, n * sizeof(float));
}

/// The same, Halves of the columns' form.
template <class Simd, std::size_t P>
ROTQ_FORCEINLINE void apply_dense_of_group(const dense_sign_columns& h, float* x, float scale) {
  if (h.paired())
    apply_dense_grouped_simd<Simd, 2, P>(h, x, scale);
  else
    apply_dense_grouped_simd<Simd, 1, P>(h, x, scale);
}

/// apply_dense_portable's contract on the back end Simd (float registers).
template <class Simd>
ROTQ_FORCEINLINE void apply_dense_simd(const dense_sign_columns& h, float* x, float scale) {
  static_assert(std::is_same_v<typename Simd::scalar, float>, "the dense product is for float");
  static_assert(dense_chunk_limit == 4, "the groups below are 1, 2 and 4 elements");
  switch (h.log2_group()) {
    case 0: apply_dense_of_group<Simd, 1>(h, x, scale); break;
    case 1: apply_dense_of_group<Simd, 2>(h, x, scale); break;
    default: apply_dense_of_group<Simd, 4>(h, x, scale);
  }
}

}  // namespace detail
}  // namespace rotq
