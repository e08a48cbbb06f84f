#pragma once
// The circulant kernel (circulant_blocks.hpp) on a back end's registers, lanes over frequencies:
// a product takes the four blocks at once, up to circulant_tile_registers registers of each, so
// that every register of a table row feeds four multiply-adds and each broadcast input as many
// as the tile has registers. With the four blocks' chains side by side, 12 accumulators hide
// the multiply-add's latency: a prototype took 880 ns for 172 * 1 one block at a time, 364 ns so.

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "rotq/config.hpp"
#include "rotq/detail/circulant_blocks.hpp"
#include "rotq/detail/fwht_dense_simd.hpp"
#include "rotq/detail/fwht_simd.hpp"

namespace rotq {
namespace detail {

/// Registers of each block that a product keeps: 4 * 3 accumulators, the tile's table registers
/// and a broadcast input within AVX2's sixteen.
constexpr std::size_t circulant_tile_registers = 3;

/// acc <- a * b + acc, each lane rounded once, as std::fma does. Back ends with inline assembly
/// take multiply_add's FMA instruction (GCC as written; Clang contracts it inside their FMA
/// targets); the others, whose registers the compiler may emulate without FMA instructions (the
/// tests' AVX-512 and NEON on x86), std::fma lane by lane. GCC left that loop as scalar FMAs and
/// shuffles in the AVX2 kernel (92 * 1 in 1.4 us instead of 0.21).
template <class Simd, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void fused_multiply_add(Reg& acc, const Reg& a, const Reg& b) {
  if constexpr (Simd::inline_assembly) {
    multiply_add<Simd>(acc, a, b);
  } else {
    ROTQ_UNROLL
    for (std::size_t i = 0; i < simd_width<Reg>; ++i) acc[i] = std::fma(a[i], b[i], acc[i]);
  }
}

/// One step j of circulant_products_tile: the R registers of table row j times in_c(j) for the
/// four blocks, the first step's products rounded (First), the others added by fused multiply-adds.
template <class Simd, std::size_t R, bool First, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void circulant_products_step(Reg (&sums)[4][R], const float* row, const float* in,
                                              std::size_t lanes) {
  constexpr std::size_t width = simd_width<Reg>;
  Reg entries[R], input;
  ROTQ_UNROLL
  for (std::size_t q = 0; q < R; ++q) simd_load(entries[q], row + q * width);
  ROTQ_UNROLL
  for (std::size_t c = 0; c < 4; ++c) {
    broadcast_element<Simd>(input, in + c * lanes);
    ROTQ_UNROLL
    for (std::size_t q = 0; q < R; ++q) {
      if constexpr (First) {
        sums[c][q] = input * entries[q];
      } else {
        // Through a copy: an asm operand bound to the array element kept the array in memory.
        Reg sum = sums[c][q];
        fused_multiply_add<Simd>(sum, input, entries[q]);
        sums[c][q] = sum;
      }
    }
  }
}

/// circulant_products_portable for the R registers from lane `lane0` on: the four blocks' sums,
/// stored to out.
template <class Simd, std::size_t R>
ROTQ_FORCEINLINE void circulant_products_tile(const circulant_plan& plan, const float* table,
                                              const float* in, std::size_t first, std::size_t lane0,
                                              float* out) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t h = plan.half(), lanes = plan.lanes();
  reg sums[4][R];
  circulant_products_step<Simd, R, true>(sums, table + first * lanes + lane0, in + first, lanes);
  for (std::size_t j = first + 1; j <= h; ++j)
    circulant_products_step<Simd, R, false>(sums, table + j * lanes + lane0, in + j, lanes);
  ROTQ_UNROLL
  for (std::size_t c = 0; c < 4; ++c) ROTQ_UNROLL
  for (std::size_t q = 0; q < R; ++q) simd_store(out + c * lanes + lane0 + q * width, sums[c][q]);
}

/// circulant_products_portable on the back end Simd, over lanes 0..h in tiles.
template <class Simd>
ROTQ_FORCEINLINE void circulant_products_simd(const circulant_plan& plan, const float* table,
                                              const float* in, std::size_t first, float* out) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  constexpr std::size_t most = circulant_tile_registers;
  static_assert(most == 3, "the tiles below are of 1, 2 and 3 registers");
  static_assert(circulant_lane_padding % width == 0, "the tables hold whole registers");
  const std::size_t registers = (plan.half() + width) / width;  // lanes 0..h
  for (std::size_t q = 0; q < registers; q += most) {
    switch (registers - q < most ? registers - q : most) {
      case 1: circulant_products_tile<Simd, 1>(plan, table, in, first, q * width, out); break;
      case 2: circulant_products_tile<Simd, 2>(plan, table, in, first, q * width, out); break;
      default: circulant_products_tile<Simd, 3>(plan, table, in, first, q * width, out);
    }
  }
}

/// circulant_mix_portable on the back end Simd, a register of every block at a time.
template <class Simd>
ROTQ_FORCEINLINE void circulant_mix_simd(const circulant_plan& plan, const float* in,
                                         float* mixed) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t lanes = plan.lanes(), registers = (plan.half() + width) / width;
  for (std::size_t q = 0; q < registers * width; q += width) {
    reg blocks[4], weight, sum;
    ROTQ_UNROLL
    for (std::size_t c = 0; c < 4; ++c) simd_load(blocks[c], in + c * lanes + q);
    ROTQ_UNROLL
    for (std::size_t r = 0; r < 4; ++r) {
      simd_load(weight, plan.weights(r, 0) + q);
      sum = weight * blocks[0];
      ROTQ_UNROLL
      for (std::size_t c = 1; c < 4; ++c) {
        simd_load(weight, plan.weights(r, c) + q);
        fused_multiply_add<Simd>(sum, weight, blocks[c]);
      }
      simd_store(mixed + r * lanes + q, sum);
    }
  }
}

/// From the sums and differences (w.e, w.o) to the output halves (w.u, w.v): the forward
/// products, the mix and the inverse products, as apply_circulant_portable takes them.
template <class Simd>
ROTQ_FORCEINLINE void circulant_coefficients_simd(const circulant_plan& plan,
                                                  const circulant_work& w) {
  circulant_products_simd<Simd>(plan, plan.cosines(0), w.e, 0, w.a);
  circulant_products_simd<Simd>(plan, plan.sines(0), w.o, 1, w.b);
  circulant_mix_simd<Simd>(plan, w.a, w.mixed_a);
  circulant_mix_simd<Simd>(plan, w.b, w.mixed_b);
  circulant_products_simd<Simd>(plan, plan.cosines(0), w.mixed_a, 0, w.u);
  circulant_products_simd<Simd>(plan, plan.sines(0), w.mixed_b, 1, w.v);
}

/// Where the registers of the pairs j, t - j (j = 1..h) of a block start: lane l of the register
/// from j0 holds pair j0 + l. Needs h >= the width.
template <class F>
ROTQ_FORCEINLINE void for_each_pair_register(std::size_t h, std::size_t width, F&& f) {
  for_each_overlapping_register(1, h + 1, width, f);
}

/// circulant_presums for one element of every chunk, contiguous at z (chunks of one element, or
/// an element kept apart: see apply_circulant_simd), whole registers: x_j from j0 as they lie,
/// x_(t-j) from t - j0 - width + 1 with the lanes reversed. The same additions, lane by lane, so
/// the same bits; the scalar loops took a seventh of 172 * 1. Needs h >= the register's width.
template <class Simd>
ROTQ_FORCEINLINE void circulant_presums_contiguous(const circulant_plan& plan, const float* z,
                                                   const circulant_work& w) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t t = plan.order(), h = plan.half(), lanes = plan.lanes();
  for (std::size_t c = 0; c < 4; ++c) {
    const float* x = z + c * t;
    float* e = w.e + c * lanes;
    float* o = w.o + c * lanes;
    e[0] = x[0];
    o[0] = 0.0f;
    for_each_pair_register(h, width, [&](std::size_t j0) {
      reg forward, backward;
      simd_load(forward, x + j0);
      simd_load(backward, x + t - j0 - width + 1);
      swap_lanes<width - 1>(backward, std::make_index_sequence<width>());  // reversed
      simd_store(e + j0, forward + backward);
      simd_store(o + j0, forward - backward);
    });
  }
}

/// circulant_outputs for one element of every chunk, contiguous at y, whole registers:
/// y_i = (u_i + v_i) scale from i0 as they lie, y_(t-i) = (u_i - v_i) scale with the lanes
/// reversed into t - i0 - width + 1. Same operations lane by lane as the scalar loop. Needs
/// h >= the width.
template <class Simd>
ROTQ_FORCEINLINE void circulant_outputs_contiguous(const circulant_plan& plan,
                                                   const circulant_work& w, float* y, float scale) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t t = plan.order(), h = plan.half(), lanes = plan.lanes();
  reg scale_lanes;
  simd_broadcast(scale_lanes, scale);
  for (std::size_t r = 0; r < 4; ++r) {
    float* out = y + r * t;
    const float* u = w.u + r * lanes;
    const float* v = w.v + r * lanes;
    out[0] = u[0] * scale;
    for_each_pair_register(h, width, [&](std::size_t i0) {
      reg sum, difference;
      simd_load(sum, u + i0);
      simd_load(difference, v + i0);
      const reg plus = (sum + difference) * scale_lanes;
      reg minus = (sum - difference) * scale_lanes;
      swap_lanes<width - 1>(minus, std::make_index_sequence<width>());  // reversed
      simd_store(out + i0, plus);
      simd_store(out + t - i0 - width + 1, minus);
    });
  }
}

/// (a, b) <- the even and the odd lanes of the sequence a:b.
template <class Reg, std::size_t... Lane>
ROTQ_FORCEINLINE void unzip_lanes(Reg& a, Reg& b, std::index_sequence<Lane...>) {
  Reg even;
  select_lanes_of_two<(2 * Lane)...>(even, a, b);
  select_lanes_of_two<(2 * Lane + 1)...>(b, a, b);
  a = even;
}

/// The inverse of unzip_lanes: a:b <- a_0 b_0 a_1 b_1 ...
template <class Reg, std::size_t... Lane>
ROTQ_FORCEINLINE void zip_lanes(Reg& a, Reg& b, std::index_sequence<Lane...>) {
  constexpr std::size_t width = sizeof...(Lane);
  Reg low;
  select_lanes_of_two<(Lane / 2 + Lane % 2 * width)...>(low, a, b);
  select_lanes_of_two<(width / 2 + Lane / 2 + Lane % 2 * width)...>(b, a, b);
  a = low;
}

/// Apart (Together false): from P registers of chunks of P elements as they lie in memory
/// (element e of chunk i at lane i * P + e of the sequence r[0]:r[1]:...) to r[e] = element e of
/// those chunks, by even and odd elements apart, then each half the same way. Together: the
/// inverse.
template <bool Together, std::size_t P, class Reg>
ROTQ_FORCEINLINE void regroup_chunk_elements(Reg (&r)[P]) {
  if constexpr (P > 1) {
    Reg even[P / 2], odd[P / 2];
    ROTQ_UNROLL
    for (std::size_t i = 0; i < P / 2; ++i) {
      even[i] = r[2 * i];
      odd[i] = r[2 * i + 1];
      if constexpr (!Together)
        unzip_lanes(even[i], odd[i], std::make_index_sequence<simd_width<Reg>>());
    }
    regroup_chunk_elements<Together>(even);
    regroup_chunk_elements<Together>(odd);
    ROTQ_UNROLL
    for (std::size_t i = 0; i < P / 2; ++i) {
      if constexpr (Together)
        zip_lanes(even[i], odd[i], std::make_index_sequence<simd_width<Reg>>());
      r[2 * i] = even[i];
      r[2 * i + 1] = odd[i];
    }
  }
}

/// Apart (Together false): to[e * m + i] <- element e of chunk i at `from`, for m chunks of P
/// elements; together: the inverse, element e of chunk i at `to` <- from[e * m + i]. P registers
/// at a time, the last ones overlapping. Needs m >= the register width.
template <class Simd, std::size_t P, bool Together>
ROTQ_FORCEINLINE void regroup_chunks(const float* from, std::size_t m, float* to) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  for_each_overlapping_register(0, m, width, [&](std::size_t i0) {
    // Register q of the chunks as they lie, and of the elements apart.
    auto chunks = [&](std::size_t q) { return i0 * P + q * width; };
    auto elements = [&](std::size_t q) { return q * m + i0; };
    reg r[P];
    ROTQ_UNROLL
    for (std::size_t q = 0; q < P; ++q)
      simd_load(r[q], from + (Together ? elements(q) : chunks(q)));
    regroup_chunk_elements<Together>(r);
    ROTQ_UNROLL
    for (std::size_t q = 0; q < P; ++q) simd_store(to + (Together ? chunks(q) : elements(q)), r[q]);
  });
}

/// The kernel on one element of every chunk in whole registers: the m elements contiguous at
/// `in` (chunks of one element, or one element of each chunk kept apart), the results to `out`,
/// which may be `in`. Needs h >= the register width.
template <class Simd>
ROTQ_FORCEINLINE void apply_circulant_contiguous(const circulant_plan& plan, const float* in,
                                                 float* out, float scale, const circulant_work& w) {
  // Read from memory only after the products. Held in a register across them (as GCC did with a
  // first form of this code), it takes one of the sixteen they need on AVX2, and the tables are
  // loaded again for every block instead (172 * 1: 250 -> 310 ns).
  const volatile float scale_in_memory = scale;
  circulant_presums_contiguous<Simd>(plan, in, w);
  circulant_coefficients_simd<Simd>(plan, w);
  circulant_outputs_contiguous<Simd>(plan, w, out, scale_in_memory);
}

/// apply_circulant_portable's contract on the back end Simd (float registers). Where h >= the
/// register width all of it runs in whole registers: chunks of 2 or 4 elements are copied apart
/// first, element e of the m chunks to its own vector at apart + e * m (a few shuffles a
/// register), each vector goes through the one-element path in place, and they come back
/// together to y. The same operations on every element as the scalar sums and outputs at a
/// stride of p below, so the same bits; those took about a fifth of 92 * 2 (docs/performance.md).
template <class Simd>
ROTQ_FORCEINLINE void apply_circulant_simd(const circulant_plan& plan, const float* z, float* y,
                                           std::size_t p, float scale, float* work) {
  static_assert(std::is_same_v<typename Simd::scalar, float>, "the circulant kernel is for float");
  const circulant_work w(plan, work);
  const bool whole_registers = plan.half() >= simd_width<typename Simd::reg>;
  if (whole_registers && p == 1) {
    apply_circulant_contiguous<Simd>(plan, z, y, scale, w);
    return;
  }
  if (whole_registers && (p == 2 || p == 4)) {
    const std::size_t m = 4 * plan.order();
    float* apart = work + plan.work_size(1);
    if (p == 2)
      regroup_chunks<Simd, 2, false>(z, m, apart);
    else
      regroup_chunks<Simd, 4, false>(z, m, apart);
    for (std::size_t e = 0; e < p; ++e)
      apply_circulant_contiguous<Simd>(plan, apart + e * m, apart + e * m, scale, w);
    if (p == 2)
      regroup_chunks<Simd, 2, true>(apart, m, y);
    else
      regroup_chunks<Simd, 4, true>(apart, m, y);
    return;
  }
  for (std::size_t lane = 0; lane < p; ++lane) {
    circulant_presums(plan, z, p, lane, w);
    circulant_coefficients_simd<Simd>(plan, w);
    circulant_outputs(plan, w, y, p, lane, scale);
  }
}

}  // namespace detail
}  // namespace rotq
