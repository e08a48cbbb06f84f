#pragma once
// The SIMD FWHT kernels, written once for every vector width. A back end (fwht_avx2.hpp,
// fwht_avx512.hpp) names a register type and instantiates them inside functions that carry its
// target attribute; nothing here depends on the instruction set.
//
// Registers are GNU vector types (`float __attribute__((vector_size(32)))`): +, -, * and lane
// shuffles need no intrinsics, so this code compiles without target flags and becomes AVX2 or
// AVX-512 instructions once inlined into a back end's entry point. That shapes three rules: every
// function that touches a register is force-inlined (no lambdas: they would not be), registers are
// passed by reference (clang rejects 32- and 64-byte vectors passed by value into a function
// compiled without AVX, as these are), and the FMAs are spelled per compiler (multiply_add).
//
// Every back end performs the butterflies of sylvester_portable and the additions of
// apply_base_portable in the same order with the same roundings (an FMA by +-1 rounds as the
// addition does), so all instruction sets give bitwise identical results.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "rotq/config.hpp"
#include "rotq/detail/fwht_portable_chunks.hpp"
#include "rotq/detail/hadamard_base.hpp"
#include "rotq/detail/simd_alignment.hpp"

namespace rotq {
namespace detail {

/// The scalar type held in each lane of the GNU vector type Reg.
template <class Reg>
using simd_lane = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<Reg&>()[0])>>;

template <class Reg>
constexpr std::size_t simd_width = sizeof(Reg) / sizeof(simd_lane<Reg>);

constexpr std::size_t log2_of(std::size_t power_of_two) {
  std::size_t log2 = 0;
  while ((std::size_t{1} << log2) < power_of_two) ++log2;
  return log2;
}

/// Transforms up to this many bytes run every pass inside L1 (32 KiB on the targeted cores, half
/// left for everything else); larger ones are cut into blocks of this size first.
constexpr std::size_t fwht_l1_block_bytes = 16384;
/// Sizes up to 2^16 get a compile-time schedule of passes; larger ones repeat the 2^16 one.
constexpr std::size_t fwht_largest_fixed_log2 = 16;
/// The tables of apply_base_strips for one batch of column groups stay within this many bytes.
constexpr std::size_t base_table_bytes = 16384;

// Loads and stores go through Reg with the alignment of one lane and leave to alias the scalars,
// as the intrinsics headers define their unaligned loads: typed as floating point, so that they
// stay in that domain (a memcpy becomes an integer-domain move with GCC).
template <class Reg>
ROTQ_FORCEINLINE void simd_load(Reg& r, const simd_lane<Reg>* from) {
  typedef simd_lane<Reg> unaligned
      __attribute__((vector_size(sizeof(Reg)), aligned(alignof(simd_lane<Reg>)), may_alias));
  r = *reinterpret_cast<const unaligned*>(from);
}

template <class Reg>
ROTQ_FORCEINLINE void simd_store(simd_lane<Reg>* to, const Reg& r) {
  typedef simd_lane<Reg> unaligned
      __attribute__((vector_size(sizeof(Reg)), aligned(alignof(simd_lane<Reg>)), may_alias));
  *reinterpret_cast<unaligned*>(to) = r;
}

template <class Reg>
ROTQ_FORCEINLINE void simd_broadcast(Reg& r, simd_lane<Reg> value) {
  ROTQ_UNROLL
  for (std::size_t i = 0; i < simd_width<Reg>; ++i) r[i] = value;
}

/// v[i] <- v[i ^ Distance]: swaps neighbouring runs of Distance lanes.
template <std::size_t Distance, class Reg, std::size_t... Lane>
ROTQ_FORCEINLINE void swap_lanes(Reg& v, std::index_sequence<Lane...>) {
#if defined(__clang__)
  v = __builtin_shufflevector(v, v, (Lane ^ Distance)...);
#else
  using index = std::conditional_t<sizeof(simd_lane<Reg>) == 4, std::int32_t, std::int64_t>;
  typedef index index_vector __attribute__((vector_size(sizeof(Reg))));
  v = __builtin_shuffle(v, index_vector{static_cast<index>(Lane ^ Distance)...});
#endif
}

// acc += a * b and acc -= a * b with one rounding, as FMA instructions. Compilers otherwise split
// them (GCC in ISO mode does not contract) or fold a multiplication by a known 1 away; both undo
// the point, which is to use the multiply pipes for additions.
template <class Reg>
ROTQ_FORCEINLINE void multiply_add(Reg& acc, const Reg& a, const Reg& b) {
#if defined(__clang__)
#pragma clang fp contract(fast)
  acc = a * b + acc;
#else
  if constexpr (sizeof(simd_lane<Reg>) == 4)
    asm("vfmadd231ps {%2, %1, %0|%0, %1, %2}" : "+v"(acc) : "v"(a), "v"(b));
  else
    asm("vfmadd231pd {%2, %1, %0|%0, %1, %2}" : "+v"(acc) : "v"(a), "v"(b));
#endif
}

template <class Reg>
ROTQ_FORCEINLINE void multiply_subtract(Reg& acc, const Reg& a, const Reg& b) {
#if defined(__clang__)
#pragma clang fp contract(fast)
  acc = acc - a * b;
#else
  if constexpr (sizeof(simd_lane<Reg>) == 4)
    asm("vfnmadd231ps {%2, %1, %0|%0, %1, %2}" : "+v"(acc) : "v"(a), "v"(b));
  else
    asm("vfnmadd231pd {%2, %1, %0|%0, %1, %2}" : "+v"(acc) : "v"(a), "v"(b));
#endif
}

/// What the butterflies of one transform share: 1 (kept opaque), the lane signs of the in-register
/// stages and the normalisation.
template <class Reg>
struct butterfly_constants {
  static constexpr std::size_t lane_stages = log2_of(simd_width<Reg>);
  Reg one;
  /// signs[s][i] = -1 where bit s of lane i is set: that lane receives a - b, the others a + b.
  Reg signs[lane_stages];
  Reg scale;

  ROTQ_FORCEINLINE explicit butterfly_constants(simd_lane<Reg> normalization) {
    // Read through volatile so that no compiler sees a multiplication by 1 it could remove.
    volatile simd_lane<Reg> unit = 1;
    simd_broadcast(one, unit);
    for (std::size_t s = 0; s < lane_stages; ++s)
      for (std::size_t i = 0; i < simd_width<Reg>; ++i) signs[s][i] = (i >> s) & 1 ? -1 : 1;
    simd_broadcast(scale, normalization);
  }
};

/// (a, b) <- (a + b, a - b), on the add pipes or, as a + b = fma(b, 1, a) and a - b = fnma(b, 1, a)
/// with the same roundings, on the multiply pipes: Zen cores have two of each kind.
template <class Reg>
ROTQ_FORCEINLINE void butterfly(Reg& a, Reg& b, const Reg& one, bool on_multiply_pipes) {
  if (on_multiply_pipes) {
    Reg sum = a, difference = a;
    multiply_add(sum, b, one);
    multiply_subtract(difference, b, one);
    a = sum;
    b = difference;
  } else {
    const Reg sum = a + b;
    b = a - b;
    a = sum;
  }
}

/// Whether sending butterflies to the multiply pipes pays with this compiler. On Zen 3, one
/// butterfly in four so placed made transforms of 2^12 to 2^16 floats 4-8% faster with GCC 12 (its
/// FMAs are inline assembly) and 2% slower with clang 14 (FMAs by contraction); one in two was
/// slower with both (docs/performance.md).
#if defined(__clang__)
constexpr bool multiply_pipe_butterflies_pay = false;
#else
constexpr bool multiply_pipe_butterflies_pay = true;
#endif

/// The stages of S_R across R registers (lane i of register j is element j * width + i of a
/// block, or element j * stride + i of a strided one); one butterfly in four goes to the multiply
/// pipes where the core has separate ones (Simd::split_butterflies) and that pays.
template <class Simd, std::size_t R>
ROTQ_FORCEINLINE void butterflies_across(typename Simd::reg (&r)[R],
                                         const butterfly_constants<typename Simd::reg>& c) {
  ROTQ_UNROLL
  for (std::size_t h = 1; h < R; h <<= 1) {
    std::size_t k = 0;
    ROTQ_UNROLL
    for (std::size_t i = 0; i < R; i += 2 * h) {
      ROTQ_UNROLL
      for (std::size_t j = i; j < i + h; ++j, ++k)
        butterfly(r[j], r[j + h], c.one,
                  Simd::split_butterflies && multiply_pipe_butterflies_pay && k % 4 == 3);
    }
  }
}

/// Stage h = Distance inside one register: swap the partner lanes, then one FMA with the lane
/// signs gives a + b in the lower lane of each pair and a - b in the upper one.
template <std::size_t Distance, class Reg>
ROTQ_FORCEINLINE void butterflies_within_stage(Reg& v, const Reg& signs) {
  Reg partner = v;
  swap_lanes<Distance>(partner, std::make_index_sequence<simd_width<Reg>>());
  multiply_add(partner, v, signs);
  v = partner;
}

/// Stage h = Distance in each of R registers.
template <std::size_t Distance, class Reg, std::size_t R>
ROTQ_FORCEINLINE void butterflies_within_stage_of_each(Reg (&r)[R], const Reg& signs) {
  ROTQ_UNROLL
  for (std::size_t k = 0; k < R; ++k) butterflies_within_stage<Distance>(r[k], signs);
}

/// Stages h = 1, 2, ..., width / 2, the ones inside each register, stage by stage over R
/// registers (independent work between dependent shuffles and FMAs).
template <class Reg, std::size_t R, std::size_t... Stage>
ROTQ_FORCEINLINE void butterflies_within(Reg (&r)[R], const butterfly_constants<Reg>& c,
                                         std::index_sequence<Stage...>) {
  (butterflies_within_stage_of_each<std::size_t{1} << Stage>(r, c.signs[Stage]), ...);
}

/// First pass: each block of R registers (R * width contiguous elements) gets every stage that
/// lies inside it, reading `in` and writing `out`.
template <class Simd, std::size_t R, bool Scaled>
ROTQ_FORCEINLINE void leaf_pass(const typename Simd::scalar* in, typename Simd::scalar* out,
                                std::size_t n, const butterfly_constants<typename Simd::reg>& c) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  for (std::size_t b = 0; b < n; b += R * width) {
    reg r[R];
    ROTQ_UNROLL
    for (std::size_t k = 0; k < R; ++k) simd_load(r[k], in + b + k * width);
    butterflies_within(r, c, std::make_index_sequence<butterfly_constants<reg>::lane_stages>());
    butterflies_across<Simd>(r, c);
    ROTQ_UNROLL
    for (std::size_t k = 0; k < R; ++k) {
      if constexpr (Scaled) r[k] *= c.scale;
      simd_store(out + b + k * width, r[k]);
    }
  }
}

/// Stages h = stride, 2 stride, ..., R / 2 * stride: R registers at distance `stride`, read from
/// `in` and written to the same places in `out` (which may be `in`).
template <class Simd, std::size_t R, bool Scaled>
ROTQ_FORCEINLINE void stride_pass(const typename Simd::scalar* in, typename Simd::scalar* out,
                                  std::size_t n, std::size_t stride,
                                  const butterfly_constants<typename Simd::reg>& c) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  for (std::size_t b = 0; b < n; b += R * stride)
    for (std::size_t j = b; j < b + stride; j += width) {
      reg r[R];
      ROTQ_UNROLL
      for (std::size_t k = 0; k < R; ++k) simd_load(r[k], in + j + k * stride);
      butterflies_across<Simd>(r, c);
      ROTQ_UNROLL
      for (std::size_t k = 0; k < R; ++k) {
        if constexpr (Scaled) r[k] *= c.scale;
        simd_store(out + j + k * stride, r[k]);
      }
    }
}

/// The largest radix of a stride pass at this stride: rows 4 KiB or more apart share an L1 set,
/// and more of them than the cache has ways evict each other, so those passes take 4 rows.
template <class Simd>
constexpr std::size_t stride_pass_log2_radix(std::size_t stride) {
  return stride * sizeof(typename Simd::scalar) >= 4096 ? 2 : log2_of(Simd::pass_registers);
}

/// `Stages` stages from h = Stride upwards in `work`, in as few passes as the register budget
/// allows, of balanced radix; the last pass writes `out` (and scales when `Scaled`).
template <class Simd, std::size_t Stages, std::size_t Stride, bool Scaled>
ROTQ_FORCEINLINE void stride_passes(typename Simd::scalar* work, typename Simd::scalar* out,
                                    std::size_t n,
                                    const butterfly_constants<typename Simd::reg>& c) {
  if constexpr (Stages > 0) {
    constexpr std::size_t most = stride_pass_log2_radix<Simd>(Stride);
    constexpr std::size_t passes = (Stages + most - 1) / most;
    constexpr std::size_t here = (Stages + passes - 1) / passes;
    if constexpr (here == Stages) {
      stride_pass<Simd, std::size_t{1} << here, Scaled>(work, out, n, Stride, c);
    } else {
      stride_pass<Simd, std::size_t{1} << here, false>(work, work, n, Stride, c);
      stride_passes<Simd, Stages - here, (Stride << here), Scaled>(work, out, n, c);
    }
  }
}

/// out = S_n in (times the scale when `Scaled`) for n = 2^Log2n >= width, on a schedule fixed at
/// compile time: one leaf pass, then stride passes; above the L1 block size, each block first,
/// then the stages across blocks. The first pass reads `in`, the last writes `out` and the others
/// work in `work` (which may be `out`).
template <class Simd, std::size_t Log2n, bool Scaled>
ROTQ_FORCEINLINE void sylvester_fixed(const typename Simd::scalar* in, typename Simd::scalar* work,
                                      typename Simd::scalar* out,
                                      const butterfly_constants<typename Simd::reg>& c) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  constexpr std::size_t log2_width = log2_of(width);
  constexpr std::size_t log2_block = log2_of(fwht_l1_block_bytes / sizeof(typename Simd::scalar));
  constexpr std::size_t n = std::size_t{1} << Log2n;
  static_assert(Log2n >= log2_width, "sylvester_fixed needs at least one full register");
  if constexpr (Log2n <= log2_block) {
    constexpr std::size_t leaf = std::min(Log2n - log2_width, log2_of(Simd::leaf_registers));
    constexpr std::size_t rest = Log2n - log2_width - leaf;
    leaf_pass<Simd, std::size_t{1} << leaf, Scaled && rest == 0>(in, rest == 0 ? out : work, n, c);
    stride_passes<Simd, rest, (width << leaf), Scaled>(work, out, n, c);
  } else {
    constexpr std::size_t block = std::size_t{1} << log2_block;
    for (std::size_t b = 0; b < n; b += block)
      sylvester_fixed<Simd, log2_block, false>(in + b, work + b, work + b, c);
    stride_passes<Simd, Log2n - log2_block, block, Scaled>(work, out, n, c);
  }
}

/// stride_pass with the radix 2^log2_radix chosen at run time.
template <class Simd, bool Scaled, std::size_t... Log2Radix>
ROTQ_FORCEINLINE void stride_pass_of_radix(std::size_t log2_radix, const typename Simd::scalar* in,
                                           typename Simd::scalar* out, std::size_t n,
                                           std::size_t stride,
                                           const butterfly_constants<typename Simd::reg>& c,
                                           std::index_sequence<Log2Radix...>) {
  (void)((log2_radix == Log2Radix + 1 &&
          (stride_pass<Simd, std::size_t{2} << Log2Radix, Scaled>(in, out, n, stride, c), true)) ||
         ...);
}

/// Above 2^16: blocks of 2^16 with the fixed schedule, then passes across the blocks.
template <class Simd>
ROTQ_FORCEINLINE void sylvester_large(const typename Simd::scalar* in, typename Simd::scalar* work,
                                      typename Simd::scalar* out, std::size_t log2n,
                                      const butterfly_constants<typename Simd::reg>& c) {
  constexpr std::size_t block = std::size_t{1} << fwht_largest_fixed_log2;
  constexpr std::size_t most = stride_pass_log2_radix<Simd>(block);
  const std::size_t n = std::size_t{1} << log2n;
  for (std::size_t b = 0; b < n; b += block)
    sylvester_fixed<Simd, fwht_largest_fixed_log2, false>(in + b, work + b, work + b, c);
  std::size_t rest = log2n - fwht_largest_fixed_log2, stride = block;
  while (rest > 0) {
    const std::size_t passes = (rest + most - 1) / most;
    const std::size_t here = (rest + passes - 1) / passes;
    rest -= here;
    if (rest == 0)
      stride_pass_of_radix<Simd, true>(here, work, out, n, stride, c,
                                       std::make_index_sequence<most>());
    else
      stride_pass_of_radix<Simd, false>(here, work, work, n, stride, c,
                                        std::make_index_sequence<most>());
    stride <<= here;
  }
}

/// sylvester_fixed for each of `count` consecutive chunks of 2^Log2n; `work` is scratch for one
/// chunk unless `work_is_out`.
template <class Simd, std::size_t Log2n>
ROTQ_FORCEINLINE bool sylvester_fixed_chunks(std::size_t count, const typename Simd::scalar* in,
                                             typename Simd::scalar* work,
                                             typename Simd::scalar* out, bool work_is_out,
                                             const butterfly_constants<typename Simd::reg>& c) {
  constexpr std::size_t n = std::size_t{1} << Log2n;
  for (std::size_t k = 0; k < count; ++k)
    sylvester_fixed<Simd, Log2n, true>(in + k * n, work_is_out ? out + k * n : work, out + k * n,
                                       c);
  return true;
}

/// sylvester_fixed_chunks with the size chosen at run time.
template <class Simd, std::size_t... Log2n>
ROTQ_FORCEINLINE void sylvester_fixed_of_size(std::size_t log2n, std::size_t count,
                                              const typename Simd::scalar* in,
                                              typename Simd::scalar* work,
                                              typename Simd::scalar* out, bool work_is_out,
                                              const butterfly_constants<typename Simd::reg>& c,
                                              std::index_sequence<Log2n...>) {
  constexpr std::size_t log2_width = log2_of(simd_width<typename Simd::reg>);
  (void)((log2n == Log2n + log2_width &&
          sylvester_fixed_chunks<Simd, Log2n + log2_width>(count, in, work, out, work_is_out, c)) ||
         ...);
}

/// Per-thread memory for the SIMD kernels, one buffer per Purpose, at least `count` elements
/// aligned to a cache line; grown on demand, so repeated transforms allocate nothing.
template <class T, class Purpose>
T* simd_scratch(std::size_t count) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < count + cache_line_slack<T>) buffer.resize(count + cache_line_slack<T>);
  return cache_line_aligned(buffer.data());
}

struct sylvester_work;  // simd_scratch purpose: the passes of a transform whose output is unaligned

/// The contract of sylvester_chunks_portable: out = scale * S_n in for each of `count`
/// consecutive chunks of n = 2^log2n, in == out allowed. Sizes below one register fall back to the
/// portable loop. Stores of registers that straddle cache lines made a stride pass up to 1.8 times
/// slower, so when `out` is not aligned to the register size, the passes between a chunk's first
/// and last run in aligned scratch memory.
template <class Simd>
ROTQ_FORCEINLINE void sylvester_simd(const typename Simd::scalar* in, typename Simd::scalar* out,
                                     std::size_t log2n, std::size_t count,
                                     typename Simd::scalar scale) {
  using T = typename Simd::scalar;
  using reg = typename Simd::reg;
  constexpr std::size_t log2_width = log2_of(simd_width<reg>);
  const std::size_t n = std::size_t{1} << log2n;
  if (log2n < log2_width) {
    sylvester_chunks_portable(in, out, log2n, count, scale);
    return;
  }
  const bool aligned = reinterpret_cast<std::uintptr_t>(out) % sizeof(reg) == 0;
  T* work = aligned ? out : simd_scratch<T, sylvester_work>(n);
  const butterfly_constants<reg> c(scale);
  if (log2n > fwht_largest_fixed_log2) {
    for (std::size_t k = 0; k < count; ++k)
      sylvester_large<Simd>(in + k * n, aligned ? out + k * n : work, out + k * n, log2n, c);
  } else {
    sylvester_fixed_of_size<Simd>(
        log2n, count, in, work, out, aligned, c,
        std::make_index_sequence<fwht_largest_fixed_log2 - log2_width + 1>());
  }
}

/// Column groups per batch in apply_base_strips, at most.
constexpr std::size_t base_batch_limit = 8;

/// One strip of the table of group columns [b0, b0 + columns): entry t (t < 2^(columns-1)) is
/// z_b0 + sum_j (+-) z_(b0+j) with column b0 + j negated where bit j-1 of t is set, and entry
/// half + t is its negation; formed exactly as apply_base_portable forms its sums.
template <class Simd>
ROTQ_FORCEINLINE void build_signed_sums(typename Simd::scalar* entries,
                                        const typename Simd::scalar* zs, std::size_t p,
                                        std::size_t b0, std::size_t columns, std::size_t half) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  reg sum, column;
  simd_load(sum, zs + b0 * p);
  for (std::size_t j = 1; j < columns; ++j) {
    simd_load(column, zs + (b0 + j) * p);
    sum += column;
  }
  simd_store(entries, sum);
  simd_store(entries + half * width, -sum);
  // Entries [2^bit, 2^(bit+1)) flip column b0 + bit + 1 of entries [0, 2^bit).
  for (std::size_t bit = 0; bit + 1 < columns; ++bit) {
    reg twice;
    simd_load(twice, zs + (b0 + bit + 1) * p);
    twice += twice;
    const std::size_t low = std::size_t{1} << bit;
    for (std::size_t t = low; t < 2 * low; ++t) {
      reg from;
      simd_load(from, entries + (t - low) * width);
      const reg to = from - twice;
      simd_store(entries + t * width, to);
      simd_store(entries + (half + t) * width, -to);
    }
  }
}

/// 16-bit table offsets per output row and batch: Count of them, padded to whole 64-bit words so
/// that a row reads them with one or two loads.
constexpr std::size_t padded_offsets(std::size_t count) { return (count + 3) / 4 * 4; }

/// One strip of every output row: y_a += the `Count` table entries that `offsets` names for row a;
/// the first batch starts from its first entry, the last one scales.
template <class Simd, std::size_t Count, bool First, bool Last>
ROTQ_FORCEINLINE void accumulate_rows(typename Simd::scalar* ys, std::size_t m, std::size_t p,
                                      const typename Simd::scalar* tables,
                                      const std::uint16_t* offsets,
                                      const typename Simd::reg& scale) {
  using reg = typename Simd::reg;
  constexpr std::size_t words = padded_offsets(Count) / 4;
  for (std::size_t a = 0; a < m; ++a, offsets += 4 * words) {
    typename Simd::scalar* ya = ys + a * p;
    std::uint64_t packed[words];
    __builtin_memcpy(packed, offsets, sizeof packed);
    const auto offset = [&](std::size_t k) { return (packed[k / 4] >> (16 * (k % 4))) & 0xffff; };
    reg acc, entry;
    if constexpr (First)
      simd_load(acc, tables + offset(0));
    else
      simd_load(acc, ya);
    ROTQ_UNROLL
    for (std::size_t k = First ? 1 : 0; k < Count; ++k) {
      simd_load(entry, tables + offset(k));
      acc += entry;
    }
    if constexpr (Last) acc *= scale;
    simd_store(ya, acc);
  }
}

template <class Simd, std::size_t Count>
ROTQ_FORCEINLINE bool accumulate_rows_of(bool first, bool last, typename Simd::scalar* ys,
                                         std::size_t m, std::size_t p,
                                         const typename Simd::scalar* tables,
                                         const std::uint16_t* offsets,
                                         const typename Simd::reg& scale) {
  if (first && last)
    accumulate_rows<Simd, Count, true, true>(ys, m, p, tables, offsets, scale);
  else if (first)
    accumulate_rows<Simd, Count, true, false>(ys, m, p, tables, offsets, scale);
  else if (last)
    accumulate_rows<Simd, Count, false, true>(ys, m, p, tables, offsets, scale);
  else
    accumulate_rows<Simd, Count, false, false>(ys, m, p, tables, offsets, scale);
  return true;
}

/// accumulate_rows with the batch size chosen at run time (1 to sizeof...(Count)).
template <class Simd, std::size_t... Count>
ROTQ_FORCEINLINE void accumulate_rows_of_count(std::size_t count, bool first, bool last,
                                               typename Simd::scalar* ys, std::size_t m,
                                               std::size_t p, const typename Simd::scalar* tables,
                                               const std::uint16_t* offsets,
                                               const typename Simd::reg& scale,
                                               std::index_sequence<Count...>) {
  (void)((count == Count + 1 &&
          accumulate_rows_of<Simd, Count + 1>(first, last, ys, m, p, tables, offsets, scale)) ||
         ...);
}

/// Where each output row finds its table entries, for one plan, batch size and register width:
/// offsets[padded_offsets(batch) * first * m + a * padded_offsets(count) + k] is the element
/// offset, within the tables of the batch that starts at group `first`, of the entry that row a
/// takes from group first + k (bit 7 of a code, negate, selects the upper half of a table). Kept
/// per thread for the last plan seen, so that a run of transforms of one size computes them once;
/// a plan is recognised by its codes, compared in full.
struct base_offsets {
  std::vector<std::uint8_t> codes;
  std::size_t order = 0, group = 0, batch = 0, table = 0, width = 0;
  std::vector<std::uint16_t> offsets;

  const std::uint16_t* update(const base_group_plan& plan, std::size_t batch_size,
                              std::size_t table_size, std::size_t register_width) {
    if (plan.codes == codes && plan.order == order && plan.group == group && batch_size == batch &&
        table_size == table && register_width == width)
      return offsets.data();
    codes = plan.codes;
    order = plan.order;
    group = plan.group;
    batch = batch_size;
    table = table_size;
    width = register_width;
    const std::size_t m = order, groups = plan.groups;
    offsets.assign(padded_offsets(batch) * groups * m, 0);
    for (std::size_t first = 0; first < groups; first += batch) {
      const std::size_t count = std::min(batch, groups - first);
      for (std::size_t a = 0; a < m; ++a)
        for (std::size_t k = 0; k < count; ++k) {
          const std::size_t code = codes[(first + k) * m + a];
          const std::size_t entry = (code & 0x7f) + ((code >> 7) << (group - 1));
          offsets[padded_offsets(batch) * first * m + a * padded_offsets(count) + k] =
              static_cast<std::uint16_t>(k * table + entry * width);
        }
    }
    return offsets.data();
  }
};

struct base_tables;  // simd_scratch purpose: the signed sums of one batch of column groups

/// A register of `Lanes` scalars for chunks shorter than the back end's registers (p < width):
/// apply_base needs only loads, stores and arithmetic, which any width has.
template <class T, std::size_t Lanes>
struct simd_lanes {
  using scalar = T;
  typedef T reg __attribute__((vector_size(Lanes * sizeof(T))));
};

/// apply_base for chunks of p = a multiple of the register width: the contract of
/// apply_base_portable without `sums`.
///
/// For one strip of `width` lanes and a batch of column groups, each group's signed sums form a
/// table of 2 * 2^(g-1) registers, the negated sums in the upper half, so that every (row, group)
/// pair costs one load and one addition and no branch on the sign. A batch is as many groups as
/// fit in half of L1; each output row is read and written once per batch. The tables live in
/// aligned scratch memory.
template <class Simd>
ROTQ_FORCEINLINE void apply_base_strips(const base_group_plan& plan, const typename Simd::scalar* z,
                                        typename Simd::scalar* y, std::size_t p,
                                        typename Simd::scalar scale) {
  using T = typename Simd::scalar;
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t m = plan.order, g = plan.group, groups = plan.groups;
  const std::size_t half = std::size_t{1} << (g - 1);  // sums per group, before negation
  const std::size_t table = 2 * half * width;          // elements per group and strip
  const std::size_t batch = std::max<std::size_t>(
      1, std::min({groups, base_batch_limit, base_table_bytes / (table * sizeof(T))}));
  thread_local base_offsets cache;
  const std::uint16_t* offsets = cache.update(plan, batch, table, width);
  T* tables = simd_scratch<T, base_tables>(batch * table);

  reg scale_lanes;
  simd_broadcast(scale_lanes, scale);
  for (std::size_t s = 0; s < p; s += width)
    for (std::size_t first = 0; first < groups; first += batch) {
      const std::size_t count = std::min(batch, groups - first);
      for (std::size_t k = 0; k < count; ++k) {
        const std::size_t b0 = (first + k) * g;
        build_signed_sums<Simd>(tables + k * table, z + s, p, b0, std::min(g, m - b0), half);
      }
      accumulate_rows_of_count<Simd>(count, first == 0, first + count == groups, y + s, m, p,
                                     tables, offsets + padded_offsets(batch) * first * m,
                                     scale_lanes, std::make_index_sequence<base_batch_limit>());
    }
}

template <class T, std::size_t Log2Lanes>
ROTQ_FORCEINLINE bool apply_base_of_lanes(const base_group_plan& plan, const T* z, T* y,
                                          std::size_t p, T scale) {
  apply_base_strips<simd_lanes<T, std::size_t{1} << Log2Lanes>>(plan, z, y, p, scale);
  return true;
}

/// apply_base_strips on registers of exactly p lanes, for p below the back end's width.
template <class T, std::size_t... Log2Lanes>
ROTQ_FORCEINLINE void apply_base_narrow(const base_group_plan& plan, const T* z, T* y,
                                        std::size_t p, T scale, std::index_sequence<Log2Lanes...>) {
  (void)((p == std::size_t{1} << Log2Lanes &&
          apply_base_of_lanes<T, Log2Lanes>(plan, z, y, p, scale)) ||
         ...);
}

/// The contract of apply_base_portable, vectorised over the p lanes of the chunks; `sums` is not
/// needed (see apply_base_strips). Chunks shorter than a register use registers of p lanes.
template <class Simd>
ROTQ_FORCEINLINE void apply_base_simd(const base_group_plan& plan, const typename Simd::scalar* z,
                                      typename Simd::scalar* y, std::size_t p,
                                      typename Simd::scalar scale) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  if (p >= width)
    apply_base_strips<Simd>(plan, z, y, p, scale);
  else
    apply_base_narrow(plan, z, y, p, scale, std::make_index_sequence<log2_of(width)>());
}

}  // namespace detail
}  // namespace rotq
