#pragma once
// The bordered circulant kernel (bordered_circulant.hpp) on a back end's registers, lanes over
// consecutive elements of the q chunks: a shift by s chunks is a load s p floats further on, so
// every step and every term is one unaligned load and one addition a register. The outputs go
// bordered_output_tile registers at a time, each term's loads feeding that many independent sums,
// and get S_p inside the register before they are stored (p <= the width, so each register holds
// whole chunks): no second pass over the row.

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "rotq/config.hpp"
#include "rotq/detail/bordered_circulant.hpp"
#include "rotq/detail/fwht_simd.hpp"

namespace rotq {
namespace detail {

/// Output registers per pass over the terms: eight sums hide the addition's latency (3-4 cycles,
/// two a cycle) and leave AVX2 room for the base, the scale and a loaded term.
constexpr std::size_t bordered_output_tile = 8;

/// What every output register of one transform shares: the bases and the scale in every lane, and
/// the lane signs of S_p's stages inside a register (distances 1 and 2).
template <class Reg>
struct bordered_output_constants {
  Reg base, scale, signs[2];
  std::size_t log2p;
};

/// Output registers r0 .. r0 + R - 1 of the q p elements after the first chunk (register r from
/// min(r width, q p - width): the last one overlaps the one before, which it writes again with the
/// same bits): each term's sequence added in order, scale (base + kappa (t + t) plus the pair
/// term), then S_p.
template <class Simd, std::size_t R>
ROTQ_FORCEINLINE void bordered_outputs_tile(const bordered_circulant_plan& plan, const float* set,
                                            std::size_t qp, std::size_t p, std::size_t r0,
                                            const bordered_output_constants<typename Simd::reg>& c,
                                            bordered_output_kind kind,
                                            const bordered_pair_sources& pair, float* y) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  std::size_t start[R];
  ROTQ_UNROLL
  for (std::size_t k = 0; k < R; ++k) start[k] = std::min((r0 + k) * width, qp - width);
  // Offsets, not sequence and shift: the two multiplications and their loads took 132 * 1's
  // outputs from 136 to 254 ns.
  const std::vector<std::size_t>& offsets = plan.term_offsets();
  reg sums[R];
  const float* first = set + offsets[0] * p;
  ROTQ_UNROLL
  for (std::size_t k = 0; k < R; ++k) simd_load(sums[k], first + start[k]);
  for (std::size_t i = 1; i < offsets.size(); ++i) {
    const float* from = set + offsets[i] * p;
    ROTQ_UNROLL
    for (std::size_t k = 0; k < R; ++k) {
      reg term;
      simd_load(term, from + start[k]);
      sums[k] += term;
    }
  }
  const bool add = plan.kappa() > 0;
  ROTQ_UNROLL
  for (std::size_t k = 0; k < R; ++k) {
    const reg twice = sums[k] + sums[k];
    reg out = add ? c.base + twice : c.base - twice;
    if (kind != bordered_output_kind::whole) {
      reg u, v;
      simd_load(u, pair.u + start[k]);
      simd_load(v, pair.v + start[k]);
      if (kind == bordered_output_kind::paired_first)
        out += v - u;
      else
        out -= u + v;
    }
    out *= c.scale;
    if (c.log2p >= 1) butterflies_within_stage<Simd, 1>(out, c.signs[0]);
    if (c.log2p >= 2) butterflies_within_stage<Simd, 2>(out, c.signs[1]);
    simd_store(y + start[k], out);
  }
}

/// Sequence 0 of each of the Sets sets, twice over, from the registers produce(f, v) gives for the
/// elements f .. f + width - 1 of every set, and as they are written each set's partial sums of S
/// over the first q p rounded down to 16 elements (bordered_sum_lanes at partial + s *
/// bordered_sum_lanes for set s), in the order of apply_bordered_set_portable: no second pass
/// over the sequences for S.
template <class Simd, std::size_t Sets, class Produce>
ROTQ_FORCEINLINE void bordered_fill_sets_simd(float* const (&sets)[Sets], std::size_t qp,
                                              float* partial, Produce&& produce) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>, sum_registers = bordered_sum_lanes / width;
  static_assert(bordered_sum_lanes % width == 0, "S's partial sums fill whole registers");
  auto fill = [&](std::size_t f, reg(&v)[Sets]) {
    produce(f, v);
    ROTQ_UNROLL
    for (std::size_t s = 0; s < Sets; ++s) {
      simd_store(sets[s] + f, v[s]);
      simd_store(sets[s] + qp + f, v[s]);
    }
  };
  reg sums[Sets][sum_registers];
  ROTQ_UNROLL
  for (std::size_t k = 0; k < sum_registers; ++k) {
    reg v[Sets];
    fill(k * width, v);
    ROTQ_UNROLL
    for (std::size_t s = 0; s < Sets; ++s) sums[s][k] = v[s];
  }
  const std::size_t qp16 = qp / bordered_sum_lanes * bordered_sum_lanes;
  for (std::size_t f = bordered_sum_lanes; f < qp16; f += bordered_sum_lanes) {
    ROTQ_UNROLL
    for (std::size_t k = 0; k < sum_registers; ++k) {
      reg v[Sets];
      fill(f + k * width, v);
      ROTQ_UNROLL
      for (std::size_t s = 0; s < Sets; ++s) sums[s][k] += v[s];
    }
  }
  ROTQ_UNROLL
  for (std::size_t s = 0; s < Sets; ++s) ROTQ_UNROLL
  for (std::size_t k = 0; k < sum_registers; ++k)
    simd_store(partial + s * bordered_sum_lanes + k * width, sums[s][k]);
  if (qp16 < qp)
    for_each_overlapping_register(qp16, qp, width, [&](std::size_t f) {
      reg v[Sets];
      fill(f, v);
    });
}

/// apply_bordered_set_portable on the back end Simd, S_p included (on the first chunk too), with
/// sequence 0 and S's partial sums over the first q p rounded down to 16 elements in place
/// (bordered_fill_sets_simd).
template <class Simd>
ROTQ_FORCEINLINE void apply_bordered_set_simd(const bordered_circulant_plan& plan, float* set,
                                              const float* x0, float* partial, std::size_t p,
                                              float scale, bordered_output_kind kind,
                                              const bordered_pair_sources& pair, float* y) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t q = plan.order(), qp = q * p;
  auto sequence = [&](std::size_t k) { return set + k * 2 * qp; };

  bordered_sums_finish(set, qp, partial, p);
  float base[bordered_sum_lanes], pattern[width];
  bordered_corner(plan, x0, partial, p, scale, kind, pair, y, base);
  sylvester_portable(y, y, log2_of(p), 1.0f);
  for (std::size_t i = 0; i < width; ++i) pattern[i] = base[i & (p - 1)];  // p: a power of two

  for (std::size_t k = 0; k < plan.steps().size(); ++k) {
    const auto& step = plan.steps()[k];
    const float* a = sequence(step.first);
    const float* b = sequence(step.second) + step.shift * p;
    float* to = sequence(k + 1);
    for_each_overlapping_register(0, qp, width, [&](std::size_t f) {
      reg u, v;
      simd_load(u, a + f);
      simd_load(v, b + f);
      u += v;
      simd_store(to + f, u);
      simd_store(to + qp + f, u);
    });
  }

  bordered_output_constants<reg> c;
  simd_load(c.base, pattern);
  simd_broadcast(c.scale, scale);
  lane_signs(c.signs[0], 0);
  lane_signs(c.signs[1], 1);
  c.log2p = log2_of(p);
  const std::size_t registers = (qp + width - 1) / width;
  std::size_t r0 = 0;
  for (; r0 + bordered_output_tile <= registers; r0 += bordered_output_tile)
    bordered_outputs_tile<Simd, bordered_output_tile>(plan, set, qp, p, r0, c, kind, pair, y + p);
  for (; r0 + 2 <= registers; r0 += 2)
    bordered_outputs_tile<Simd, 2>(plan, set, qp, p, r0, c, kind, pair, y + p);
  if (r0 < registers) bordered_outputs_tile<Simd, 1>(plan, set, qp, p, r0, c, kind, pair, y + p);
}

/// apply_bordered_circulant_portable's contract on the back end Simd (float registers, p <= their
/// width and p <= 4): the same additions element by element, so the same bits.
template <class Simd>
ROTQ_FORCEINLINE void apply_bordered_circulant_simd(const bordered_circulant_plan& plan,
                                                    const float* z, float* y, std::size_t p,
                                                    float scale, float* work) {
  static_assert(std::is_same_v<typename Simd::scalar, float>, "the bordered kernel is for float");
  using reg = typename Simd::reg;
  const std::size_t qp = plan.order() * p, hp = qp + p;
  const bordered_work w = bordered_work_layout(plan, work, p);
  if (!plan.paired()) {
    float* const set[1] = {w.sets[0]};
    bordered_fill_sets_simd<Simd>(set, qp, w.partial[0],
                                  [&](std::size_t f, reg(&v)[1]) { simd_load(v[0], z + p + f); });
    apply_bordered_set_simd<Simd>(plan, w.sets[0], z, w.partial[0], p, scale,
                                  bordered_output_kind::whole, {}, y);
    return;
  }
  float *u = w.sets[0], *v = w.sets[1];
  bordered_pair_first_chunks(z, hp, p, w.x0[0], w.x0[1]);
  bordered_fill_sets_simd<Simd>(w.sets, qp, w.partial[0], [&](std::size_t f, reg(&uv)[2]) {
    reg a, b;
    simd_load(a, z + p + f);
    simd_load(b, z + hp + p + f);
    uv[0] = a + b;
    uv[1] = a - b;
  });
  const bordered_pair_sources pair{u, v, w.x0[0], w.x0[1]};
  apply_bordered_set_simd<Simd>(plan, u, w.x0[0], w.partial[0], p, scale,
                                bordered_output_kind::paired_first, pair, y);
  apply_bordered_set_simd<Simd>(plan, v, w.x0[1], w.partial[1], p, scale,
                                bordered_output_kind::paired_second, pair, y + hp);
}

}  // namespace detail
}  // namespace rotq
