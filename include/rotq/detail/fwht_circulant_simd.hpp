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

/// Where the pairs j, t - j (j = 1..h) of a block start their registers: from 1 on, a register
/// at a time, the last one ending at h and overlapping the one before it (h >= the width, so
/// every access stays inside the block). Lane l of the register from j0 holds pair j0 + l.
template <class F>
ROTQ_FORCEINLINE void for_each_pair_register(std::size_t h, std::size_t width, F&& f) {
  for (std::size_t j0 = 1;; j0 += width) {
    const std::size_t start = j0 + width - 1 <= h ? j0 : h - width + 1;
    f(start);
    if (start + width - 1 == h) return;
  }
}

/// circulant_presums for chunks of one element (p = 1), whole registers: x_j from j0 as they lie,
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

/// circulant_outputs for chunks of one element (p = 1), whole registers: y_i = (u_i + v_i) scale
/// from i0 as they lie, y_(t-i) = (u_i - v_i) scale with the lanes reversed into
/// t - i0 - width + 1. Same operations lane by lane as the scalar loop. Needs h >= the width.
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

/// apply_circulant_portable's contract on the back end Simd (float registers).
template <class Simd>
ROTQ_FORCEINLINE void apply_circulant_simd(const circulant_plan& plan, const float* z, float* y,
                                           std::size_t p, float scale, float* work) {
  static_assert(std::is_same_v<typename Simd::scalar, float>, "the circulant kernel is for float");
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  const circulant_work w(plan, work);
  if (p == 1 && plan.half() >= width) {
    circulant_presums_contiguous<Simd>(plan, z, w);
    circulant_coefficients_simd<Simd>(plan, w);
    circulant_outputs_contiguous<Simd>(plan, w, y, scale);
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
