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
//
// The Sylvester kernels also take rows stored as Eigen::half or Eigen::bfloat16 (In, Out): the
// first pass widens them to float as it loads them and the last pass rounds as it stores, with the
// back end's conversions of one register (Simd::widen, Simd::round); the passes between work in
// float. Converting in separate passes over the row made a half row cost 1.6-1.8 times a float row.

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

#if defined(__clang__)
constexpr bool compiler_is_clang = true;
#else
constexpr bool compiler_is_clang = false;
#endif

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
// A register of one lane (apply_base on chunks of one element) moves as its scalar: GCC moves
// a one-lane vector through a general-purpose register and the stack.
template <class Reg>
ROTQ_FORCEINLINE void simd_load(Reg& r, const simd_lane<Reg>* from) {
  typedef simd_lane<Reg> unaligned
      __attribute__((vector_size(sizeof(Reg)), aligned(alignof(simd_lane<Reg>)), may_alias));
  if constexpr (simd_width<Reg> == 1)
    r = Reg{*from};  // all of r: a write to lane 0 alone reads the rest (GCC warns on AArch64)
  else
    r = *reinterpret_cast<const unaligned*>(from);
}

template <class Reg>
ROTQ_FORCEINLINE void simd_store(simd_lane<Reg>* to, const Reg& r) {
  typedef simd_lane<Reg> unaligned
      __attribute__((vector_size(sizeof(Reg)), aligned(alignof(simd_lane<Reg>)), may_alias));
  if constexpr (simd_width<Reg> == 1)
    *to = r[0];
  else
    *reinterpret_cast<unaligned*>(to) = r;
}

template <class Reg>
ROTQ_FORCEINLINE void simd_broadcast(Reg& r, simd_lane<Reg> value) {
  ROTQ_UNROLL
  for (std::size_t i = 0; i < simd_width<Reg>; ++i) r[i] = value;
}

/// Where the registers covering [begin, end) start: from begin on, a register at a time, the last
/// one ending at `end` and overlapping the one before it (end - begin >= the width, so every
/// access stays inside the range).
template <class F>
ROTQ_FORCEINLINE void for_each_overlapping_register(std::size_t begin, std::size_t end,
                                                    std::size_t width, F&& f) {
  for (std::size_t i0 = begin;; i0 += width) {
    const std::size_t start = i0 + width <= end ? i0 : end - width;
    f(start);
    if (start + width == end) return;
  }
}

/// r <- the elements at `from`: as they are, or widened from a storage type by the back end.
template <class Simd, class Element>
ROTQ_FORCEINLINE void load_elements(typename Simd::reg& r, const Element* from) {
  if constexpr (std::is_same_v<Element, typename Simd::scalar>)
    simd_load(r, from);
  else
    Simd::widen(r, from);
}

/// The elements at `to` <- r: as it is, or rounded to a storage type by the back end.
template <class Simd, class Element>
ROTQ_FORCEINLINE void store_elements(Element* to, const typename Simd::reg& r) {
  if constexpr (std::is_same_v<Element, typename Simd::scalar>)
    simd_store(to, r);
  else
    Simd::round(to, r);
}

/// out <- (a:b)[Source_i], the lanes of a followed by those of b as one sequence of 2 * width.
/// (An out parameter: a vector returned from a function not compiled for its instruction set
/// changes the ABI, which GCC warns of.)
template <std::size_t... Source, class Reg>
ROTQ_FORCEINLINE void select_lanes_of_two(Reg& out, const Reg& a, const Reg& b) {
#if defined(__clang__)
  out = __builtin_shufflevector(a, b, Source...);
#else
  using index = std::conditional_t<sizeof(simd_lane<Reg>) == 4, std::int32_t, std::int64_t>;
  typedef index index_vector __attribute__((vector_size(sizeof(Reg))));
  out = __builtin_shuffle(a, b, index_vector{static_cast<index>(Source)...});
#endif
}

/// v[i] <- v[Source_i].
template <std::size_t... Source, class Reg>
ROTQ_FORCEINLINE void select_lanes(Reg& v) {
  select_lanes_of_two<Source...>(v, v, v);
}

/// v[i] <- v[i ^ Distance]: swaps neighbouring runs of Distance lanes.
template <std::size_t Distance, class Reg, std::size_t... Lane>
ROTQ_FORCEINLINE void swap_lanes(Reg& v, std::index_sequence<Lane...>) {
  select_lanes<(Lane ^ Distance)...>(v);
}

/// v[2i] and v[2i + 1] <- v[2i + Odd]: the even (Odd = 0) or odd lanes, each twice.
template <std::size_t Odd, class Reg, std::size_t... Lane>
ROTQ_FORCEINLINE void duplicate_lanes(Reg& v, std::index_sequence<Lane...>) {
  select_lanes<((Lane & ~std::size_t{1}) | Odd)...>(v);
}

// acc += a * b and acc -= a * b with one rounding, as FMA instructions. Compilers otherwise split
// them (GCC in ISO mode does not contract) or fold a multiplication by a known 1 away; both undo
// the point, which is to use the multiply pipes for additions. Every b here is +-1, so a * b is
// exact and a back end without inline assembly (Simd::inline_assembly false: registers the
// compiler emulates, as the tests' do) gets the same result from a multiplication and an addition.
template <class Simd, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void multiply_add(Reg& acc, const Reg& a, const Reg& b) {
#if defined(__clang__)
#pragma clang fp contract(fast)
  acc = a * b + acc;
#else
  if constexpr (!Simd::inline_assembly)
    acc = a * b + acc;
  else if constexpr (sizeof(simd_lane<Reg>) == 4)
    asm("vfmadd231ps {%2, %1, %0|%0, %1, %2}" : "+v"(acc) : "v"(a), "v"(b));
  else
    asm("vfmadd231pd {%2, %1, %0|%0, %1, %2}" : "+v"(acc) : "v"(a), "v"(b));
#endif
}

template <class Simd, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void multiply_subtract(Reg& acc, const Reg& a, const Reg& b) {
#if defined(__clang__)
#pragma clang fp contract(fast)
  acc = acc - a * b;
#else
  if constexpr (!Simd::inline_assembly)
    acc = acc - a * b;
  else if constexpr (sizeof(simd_lane<Reg>) == 4)
    asm("vfnmadd231ps {%2, %1, %0|%0, %1, %2}" : "+v"(acc) : "v"(a), "v"(b));
  else
    asm("vfnmadd231pd {%2, %1, %0|%0, %1, %2}" : "+v"(acc) : "v"(a), "v"(b));
#endif
}

/// The lane signs of the in-register butterfly stage `stage` (distance 2^stage): -1 where that bit
/// of the lane's index is set, the lane that receives a - b; +1 where it receives a + b.
template <class Reg>
ROTQ_FORCEINLINE void lane_signs(Reg& signs, std::size_t stage) {
  for (std::size_t i = 0; i < simd_width<Reg>; ++i) signs[i] = (i >> stage) & 1 ? -1 : 1;
}

/// What the butterflies of one transform share: 1 (kept opaque), the lane signs of the in-register
/// stages and the normalisation.
template <class Reg>
struct butterfly_constants {
  static constexpr std::size_t lane_stages = log2_of(simd_width<Reg>);
  Reg one;
  Reg signs[lane_stages];  ///< stage s's lane_signs at [s]
  Reg scale;

  ROTQ_FORCEINLINE explicit butterfly_constants(simd_lane<Reg> normalization) {
    // Read through volatile so that no compiler sees a multiplication by 1 it could remove.
    volatile simd_lane<Reg> unit = 1;
    simd_broadcast(one, unit);
    for (std::size_t s = 0; s < lane_stages; ++s) lane_signs(signs[s], s);
    simd_broadcast(scale, normalization);
  }
};

/// (a, b) <- (a + b, a - b), on the add pipes or, as a + b = fma(b, 1, a) and a - b = fnma(b, 1, a)
/// with the same roundings, on the multiply pipes: Zen cores have two of each kind.
template <class Simd, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void butterfly(Reg& a, Reg& b, const Reg& one, bool on_multiply_pipes) {
  if (on_multiply_pipes) {
    Reg sum = a, difference = a;
    multiply_add<Simd>(sum, b, one);
    multiply_subtract<Simd>(difference, b, one);
    a = sum;
    b = difference;
  } else {
    const Reg sum = a + b;
    b = a - b;
    a = sum;
  }
}

/// Whether sending butterflies to the multiply pipes pays with this compiler: GCC 12 emits the
/// FMAs as written (inline assembly), clang 14 forms them by contraction and lost 2% with them
/// (docs/performance.md).
constexpr bool multiply_pipe_butterflies_pay = !compiler_is_clang;

/// The stages of S_R across R registers (lane i of register j is element j * width + i of a
/// block, or element j * stride + i of a strided one). Every `MultiplyEvery`-th butterfly of the
/// pass (0: none) goes to the multiply pipes where the core has separate ones
/// (Simd::split_butterflies) and that pays.
template <class Simd, std::size_t MultiplyEvery, std::size_t R>
ROTQ_FORCEINLINE void butterflies_across(typename Simd::reg (&r)[R],
                                         const butterfly_constants<typename Simd::reg>& c) {
  constexpr bool split =
      Simd::split_butterflies && multiply_pipe_butterflies_pay && MultiplyEvery > 0;
  // Shift-free bounds, as ROTQ_UNROLL asks.
  ROTQ_UNROLL
  for (std::size_t stage = 0, h = 1; h < R; ++stage, h *= 2) {
    ROTQ_UNROLL
    for (std::size_t b = 0; b < R / 2; ++b) {
      const std::size_t j = b / h * 2 * h + b % h, k = stage * (R / 2) + b;
      butterfly<Simd>(r[j], r[j + h], c.one, split && (k + 1) % (split ? MultiplyEvery : 1) == 0);
    }
  }
}

/// Stage h = Distance inside one register: swap the partner lanes, then one FMA with the lane
/// signs gives a + b in the lower lane of each pair and a - b in the upper one.
template <class Simd, std::size_t Distance, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void butterflies_within_stage(Reg& v, const Reg& signs) {
  Reg partner = v;
  swap_lanes<Distance>(partner, std::make_index_sequence<simd_width<Reg>>());
  multiply_add<Simd>(partner, v, signs);
  v = partner;
}

/// Stage h = Distance in each of R registers.
template <class Simd, std::size_t Distance, std::size_t R, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void butterflies_within_stage_of_each(Reg (&r)[R], const Reg& signs) {
  ROTQ_UNROLL
  for (std::size_t k = 0; k < R; ++k) butterflies_within_stage<Simd, Distance>(r[k], signs);
}

/// Stages h = 2^Stage inside each register, stage by stage over R registers (independent work
/// between dependent shuffles and FMAs).
template <class Simd, std::size_t R, std::size_t... Stage>
ROTQ_FORCEINLINE void butterflies_within(typename Simd::reg (&r)[R],
                                         const butterfly_constants<typename Simd::reg>& c,
                                         std::index_sequence<Stage...>) {
  (butterflies_within_stage_of_each<Simd, std::size_t{1} << Stage>(r, c.signs[Stage]), ...);
}

/// The in-register stages after the first: 1, 2, ..., Count - 1.
template <std::size_t... Stage>
constexpr std::index_sequence<(Stage + 1)...> later_stages(std::index_sequence<Stage...>) {
  return {};
}

/// v <- stage h = 1 of the `width` elements at `from`, done while loading them; `again` is `from`
/// (see leaf_pass). For float the even and odd lanes come duplicated straight from memory
/// (vmovsldup, vmovshdup: loads, no shuffle), and one FMA with the lane signs makes even + odd
/// and even - odd, rounded as a + b and a - b; this spares the leaf pass one shuffle per register.
/// GCC folds no load into those two shuffles, so it gets them as inline assembly (where the back
/// end has real registers). clang refuses that assembly (it checks an asm operand's size against
/// the template's own target, not the back end's it is inlined into) but folds each shuffle with
/// a load of its own: the odd lanes come through `again`, which it cannot prove equal to `from`
/// (it would merge the two loads, then shuffle in a register). Double, GCC on emulated
/// registers and rows of a storage type (widened first) swap lanes in a register.
template <class Simd, class In, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void load_first_stage(Reg& v, const In* from, const In* again, const Reg& signs) {
  constexpr bool single = std::is_same_v<In, float>;
  Reg even, odd;
  if constexpr (single && compiler_is_clang) {
    simd_load(even, from);
    simd_load(odd, again);
    duplicate_lanes<0>(even, std::make_index_sequence<simd_width<Reg>>());
    duplicate_lanes<1>(odd, std::make_index_sequence<simd_width<Reg>>());
#if ROTQ_HAS_X86_DISPATCH  // clang checks the constraints of discarded branches for the target
  } else if constexpr (single && Simd::inline_assembly) {
    typedef simd_lane<Reg> unaligned
        __attribute__((vector_size(sizeof(Reg)), aligned(alignof(simd_lane<Reg>)), may_alias));
    const unaligned& memory = *reinterpret_cast<const unaligned*>(from);
    asm("vmovsldup %1, %0" : "=v"(even) : "m"(memory));
    asm("vmovshdup %1, %0" : "=v"(odd) : "m"(memory));
#endif
  } else {
    load_elements<Simd>(v, from);
    butterflies_within_stage<Simd, 1>(v, signs);
    return;
  }
  multiply_add<Simd>(even, odd, signs);
  v = even;
}

/// How many butterflies per one on the multiply pipes (0: none; see butterflies_across): none in
/// a leaf pass, whose in-register stages already keep those pipes busy, nor in a pass of 4
/// registers (measured 6% slower with one of its 4); one in four in a stride pass of 8 or more.
constexpr std::size_t leaf_multiply_every = 0;
constexpr std::size_t stride_multiply_every(std::size_t registers) {
  return registers >= 8 ? 4 : 0;
}

/// Asks the cache for the lines of Bytes bytes at `from`.
template <std::size_t Bytes, class Element>
ROTQ_FORCEINLINE void prefetch_bytes(const Element* from) {
  ROTQ_UNROLL
  for (std::size_t at = 0; at < Bytes; at += cache_line_bytes)
    __builtin_prefetch(reinterpret_cast<const char*>(from) + at);
}

/// First pass: each block of R registers (R * width contiguous elements) gets every stage that
/// lies inside it, reading `in` and writing `out`. Unless `next` is null, the n elements there are
/// prefetched along the way, each block the one at its own offset.
template <class Simd, std::size_t R, bool Scaled, class In, class Out>
ROTQ_FORCEINLINE void leaf_pass(const In* in, Out* out, std::size_t n, const In* next,
                                const butterfly_constants<typename Simd::reg>& c) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  constexpr std::size_t lane_stages = butterfly_constants<reg>::lane_stages;
  // `in` once more, opaque to the compiler, for load_first_stage.
  const In* again = in;
  asm("" : "+r"(again));
  for (std::size_t b = 0; b < n; b += R * width) {
    if (next != nullptr) prefetch_bytes<R * width * sizeof(In)>(next + b);
    reg r[R];
    ROTQ_UNROLL
    for (std::size_t k = 0; k < R; ++k)
      load_first_stage<Simd>(r[k], in + b + k * width, again + b + k * width, c.signs[0]);
    butterflies_within<Simd>(r, c, later_stages(std::make_index_sequence<lane_stages - 1>()));
    butterflies_across<Simd, leaf_multiply_every>(r, c);
    ROTQ_UNROLL
    for (std::size_t k = 0; k < R; ++k) {
      if constexpr (Scaled) r[k] *= c.scale;
      store_elements<Simd>(out + b + k * width, r[k]);
    }
  }
}

/// Stages h = stride, 2 stride, ..., R / 2 * stride: R registers at distance `stride`, read from
/// `in` and written to the same places in `out` (which may be `in`).
template <class Simd, std::size_t R, bool Scaled, class Out>
ROTQ_FORCEINLINE void stride_pass(const typename Simd::scalar* in, Out* out, std::size_t n,
                                  std::size_t stride,
                                  const butterfly_constants<typename Simd::reg>& c) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  for (std::size_t b = 0; b < n; b += R * stride)
    for (std::size_t j = b; j < b + stride; j += width) {
      reg r[R];
      ROTQ_UNROLL
      for (std::size_t k = 0; k < R; ++k) simd_load(r[k], in + j + k * stride);
      butterflies_across<Simd, stride_multiply_every(R)>(r, c);
      ROTQ_UNROLL
      for (std::size_t k = 0; k < R; ++k) {
        if constexpr (Scaled) r[k] *= c.scale;
        store_elements<Simd>(out + j + k * stride, r[k]);
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
template <class Simd, std::size_t Stages, std::size_t Stride, bool Scaled, class Out>
ROTQ_FORCEINLINE void stride_passes(typename Simd::scalar* work, Out* out, std::size_t n,
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

/// What the leaf passes of the block at `in + b` (of `block` elements, in a chunk of n) prefetch:
/// the next block, or the chunk's own `next` after the last block; nothing where `next` is null
/// (the chunk is not streamed).
template <class In>
ROTQ_FORCEINLINE const In* following_block(const In* in, std::size_t b, std::size_t block,
                                           std::size_t n, const In* next) {
  if (next == nullptr || b + block == n) return next;
  return in + b + block;
}

/// out = S_n in (times the scale when `Scaled`) for n = 2^Log2n >= width, on a schedule fixed at
/// compile time: one leaf pass, then stride passes; above the L1 block size, each block first,
/// then the stages across blocks. The first pass reads `in`, the last writes `out` and the others
/// work in `work` (which may be `out` when that holds scalars). `next`: the n elements read after
/// these, prefetched during the leaf passes (each block's the block after it), or null.
template <class Simd, std::size_t Log2n, bool Scaled, class In, class Out>
ROTQ_FORCEINLINE void sylvester_fixed(const In* in, typename Simd::scalar* work, Out* out,
                                      const In* next,
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
    if constexpr (rest == 0) {
      leaf_pass<Simd, std::size_t{1} << leaf, Scaled>(in, out, n, next, c);
    } else {
      leaf_pass<Simd, std::size_t{1} << leaf, false>(in, work, n, next, c);
      stride_passes<Simd, rest, (width << leaf), Scaled>(work, out, n, c);
    }
  } else {
    constexpr std::size_t block = std::size_t{1} << log2_block;
    for (std::size_t b = 0; b < n; b += block)
      sylvester_fixed<Simd, log2_block, false>(in + b, work + b, work + b,
                                               following_block(in, b, block, n, next), c);
    stride_passes<Simd, Log2n - log2_block, block, Scaled>(work, out, n, c);
  }
}

/// stride_pass with the radix 2^log2_radix chosen at run time.
template <class Simd, bool Scaled, class Out, std::size_t... Log2Radix>
ROTQ_FORCEINLINE void stride_pass_of_radix(std::size_t log2_radix, const typename Simd::scalar* in,
                                           Out* out, std::size_t n, std::size_t stride,
                                           const butterfly_constants<typename Simd::reg>& c,
                                           std::index_sequence<Log2Radix...>) {
  (void)((log2_radix == Log2Radix + 1 &&
          (stride_pass<Simd, std::size_t{2} << Log2Radix, Scaled>(in, out, n, stride, c), true)) ||
         ...);
}

/// Above 2^16: blocks of 2^16 with the fixed schedule, then passes across the blocks; `next` as
/// sylvester_fixed's.
template <class Simd, class In, class Out>
ROTQ_FORCEINLINE void sylvester_large(const In* in, typename Simd::scalar* work, Out* out,
                                      std::size_t log2n, const In* next,
                                      const butterfly_constants<typename Simd::reg>& c) {
  constexpr std::size_t block = std::size_t{1} << fwht_largest_fixed_log2;
  constexpr std::size_t most = stride_pass_log2_radix<Simd>(block);
  const std::size_t n = std::size_t{1} << log2n;
  for (std::size_t b = 0; b < n; b += block)
    sylvester_fixed<Simd, fwht_largest_fixed_log2, false>(
        in + b, work + b, work + b, following_block(in, b, block, n, next), c);
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

/// The passes between a chunk's first and last work in `out` itself where it holds scalars
/// aligned to the register size, otherwise in `scratch` (one chunk).
template <class Simd, class Out>
ROTQ_FORCEINLINE typename Simd::scalar* chunk_work(Out* out, typename Simd::scalar* scratch) {
  if constexpr (std::is_same_v<Out, typename Simd::scalar>)
    return scratch == nullptr ? out : scratch;
  else
    return scratch;
}

/// The chunk after chunk k of `count` chunks of n at `in` where they are streamed, else null
/// (sylvester_fixed's `next`).
template <class In>
ROTQ_FORCEINLINE const In* next_streamed_chunk(const In* in, std::size_t k, std::size_t count,
                                               std::size_t n, chunk_source source) {
  return source == chunk_source::streamed && k + 1 < count ? in + (k + 1) * n : nullptr;
}

/// sylvester_fixed for each of `count` consecutive chunks of 2^Log2n; `scratch` as chunk_work.
template <class Simd, std::size_t Log2n, class In, class Out>
ROTQ_FORCEINLINE bool sylvester_fixed_chunks(std::size_t count, const In* in, Out* out,
                                             typename Simd::scalar* scratch, chunk_source source,
                                             const butterfly_constants<typename Simd::reg>& c) {
  constexpr std::size_t n = std::size_t{1} << Log2n;
  for (std::size_t k = 0; k < count; ++k)
    sylvester_fixed<Simd, Log2n, true>(in + k * n, chunk_work<Simd>(out + k * n, scratch),
                                       out + k * n, next_streamed_chunk(in, k, count, n, source),
                                       c);
  return true;
}

/// sylvester_fixed_chunks with the size chosen at run time.
template <class Simd, class In, class Out, std::size_t... Log2n>
ROTQ_FORCEINLINE void sylvester_fixed_of_size(std::size_t log2n, std::size_t count, const In* in,
                                              Out* out, typename Simd::scalar* scratch,
                                              chunk_source source,
                                              const butterfly_constants<typename Simd::reg>& c,
                                              std::index_sequence<Log2n...>) {
  constexpr std::size_t log2_width = log2_of(simd_width<typename Simd::reg>);
  (void)((log2n == Log2n + log2_width &&
          sylvester_fixed_chunks<Simd, Log2n + log2_width>(count, in, out, scratch, source, c)) ||
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

/// Registers per step of sylvester_short_chunks: independent shuffles and FMAs between the
/// dependent ones of one register.
constexpr std::size_t short_chunk_registers = 4;

/// R registers at `in` <- the in-register stages below 2^Log2n, scaled, stored at `out`.
template <class Simd, std::size_t Log2n, std::size_t R, class In, class Out>
ROTQ_FORCEINLINE void short_chunk_registers_pass(const In* in, Out* out,
                                                 const butterfly_constants<typename Simd::reg>& c) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  reg r[R];
  ROTQ_UNROLL
  for (std::size_t k = 0; k < R; ++k) load_elements<Simd>(r[k], in + k * width);
  butterflies_within<Simd>(r, c, std::make_index_sequence<Log2n>());
  ROTQ_UNROLL
  for (std::size_t k = 0; k < R; ++k) {
    r[k] *= c.scale;
    store_elements<Simd>(out + k * width, r[k]);
  }
}

/// sylvester_chunks_portable for chunks shorter than a register (n = 2^Log2n < width): every
/// register holds width / n whole chunks, and the in-register stages below n transform them all at
/// once; the chunks after the last whole register take the portable loop. The m * 2^k sizes with
/// chunks of 1, 2 or 4 spent up to a third of their time in that loop, chunk by chunk.
template <class Simd, std::size_t Log2n, class In, class Out>
ROTQ_FORCEINLINE bool sylvester_short_chunks(const In* in, Out* out, std::size_t count,
                                             typename Simd::scalar scale,
                                             const butterfly_constants<typename Simd::reg>& c) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  constexpr std::size_t step = short_chunk_registers * width;
  const std::size_t total = count << Log2n, whole = total / width * width;
  std::size_t at = 0;
  for (; at + step <= whole; at += step)
    short_chunk_registers_pass<Simd, Log2n, short_chunk_registers>(in + at, out + at, c);
  for (; at < whole; at += width) short_chunk_registers_pass<Simd, Log2n, 1>(in + at, out + at, c);
  sylvester_chunks_portable(in + whole, out + whole, Log2n, (total - whole) >> Log2n, scale,
                            chunk_source::cached);
  return true;
}

/// sylvester_short_chunks with the size chosen at run time.
template <class Simd, class In, class Out, std::size_t... Log2n>
ROTQ_FORCEINLINE void sylvester_short_chunks_of_size(
    std::size_t log2n, const In* in, Out* out, std::size_t count, typename Simd::scalar scale,
    const butterfly_constants<typename Simd::reg>& c, std::index_sequence<Log2n...>) {
  (void)((log2n == Log2n && sylvester_short_chunks<Simd, Log2n>(in, out, count, scale, c)) || ...);
}

struct sylvester_work;  // simd_scratch purpose: the passes of a transform not done in `out`

/// The contract of sylvester_chunks_portable: out = scale * S_n in for each of `count`
/// consecutive chunks of n = 2^log2n, in == out allowed; In and Out are the scalar or a storage
/// type. Chunks shorter than one register go through sylvester_short_chunks. Stores of registers
/// that straddle cache lines made a stride pass up to 1.8 times slower, so when `out` is not
/// aligned to the register size (or holds a storage type), the passes between a chunk's first and
/// last run in aligned scratch memory. Streamed chunks of a register or more prefetch the next
/// chunk; shorter ones are read in order, as the hardware prefetchers expect.
template <class Simd, class In, class Out>
ROTQ_FORCEINLINE void sylvester_simd(const In* in, Out* out, std::size_t log2n, std::size_t count,
                                     typename Simd::scalar scale, chunk_source source) {
  using T = typename Simd::scalar;
  using reg = typename Simd::reg;
  constexpr std::size_t log2_width = log2_of(simd_width<reg>);
  const std::size_t n = std::size_t{1} << log2n;
  const butterfly_constants<reg> c(scale);
  if (log2n < log2_width) {
    sylvester_short_chunks_of_size<Simd>(log2n, in, out, count, scale, c,
                                         std::make_index_sequence<log2_width>());
    return;
  }
  const bool work_in_out =
      std::is_same_v<Out, T> && reinterpret_cast<std::uintptr_t>(out) % sizeof(reg) == 0;
  T* scratch = work_in_out ? nullptr : simd_scratch<T, sylvester_work>(n);
  if (log2n > fwht_largest_fixed_log2) {
    for (std::size_t k = 0; k < count; ++k)
      sylvester_large<Simd>(in + k * n, chunk_work<Simd>(out + k * n, scratch), out + k * n, log2n,
                            next_streamed_chunk(in, k, count, n, source), c);
  } else {
    sylvester_fixed_of_size<Simd>(
        log2n, count, in, out, scratch, source, c,
        std::make_index_sequence<fwht_largest_fixed_log2 - log2_width + 1>());
  }
}

/// Registers per strip in apply_base_strips where p allows: one code then serves two loads, and
/// the lookups, bound by instructions as much as by loads, ran 5-10% faster for m = 108 and 172
/// with two than with one; four were slower for m = 172 (a batch then holds half the groups).
constexpr std::size_t base_strip_registers = 2;

/// Where apply_base_strips keeps the tables of one batch, for a register type and strips of
/// `Strip` registers: a slot of 2 * 2^(max_base_group - 1) registers per column group and
/// register of the strip (its signed sums and their negations), slots back to back. A row finds
/// its entry of group k, register r in slot k * Strip + r at code * code_scale bytes: the largest
/// index scale of an x86 address, so that the code needs no shift, in a byte wherever that
/// reaches across a slot. One code serves every register of a strip.
template <class Reg, std::size_t Strip = 1>
struct base_table_layout {
  static constexpr std::size_t slot_entries = std::size_t{2} << (max_base_group - 1);
  static constexpr std::size_t slot_bytes = slot_entries * sizeof(Reg);
  static constexpr std::size_t code_scale = sizeof(Reg) < 8 ? sizeof(Reg) : 8;
  using code = std::conditional_t<(slot_bytes / code_scale <= 256), std::uint8_t, std::uint16_t>;
  static constexpr std::size_t codes_per_word = 8 / sizeof(code);
  static constexpr std::size_t words_per_row = base_batch_limit / codes_per_word;
  /// Groups per batch: as many as have their slots fit in base_table_bytes.
  static constexpr std::size_t batch =
      std::max<std::size_t>(1, std::min(base_batch_limit, base_table_bytes / (Strip * slot_bytes)));
};

/// What apply_base_strips applies its plan to, and how it finishes a row. For the whole base: the
/// chunks at z as they are, y_a = scale * sum. For one half of a paired base (hadamard_pairs.hpp):
/// the sums (or differences) of the chunks z_b and z_b + twin, read straight from z, and
/// y_a = scale * (sum - 2 t_a) with t_a the chunk at `subtract` + a p: the split and the join fused
/// into the kernel, which spares two passes over the row.
template <class T>
struct base_input {
  std::size_t twin = 0;  ///< 0 for the whole base
  bool differences = false;
  const T* subtract = nullptr;

  /// The halves of the paired base whose 2 `half` elements lie at z: y_0 = A (z_0 + z_1) - 2 z_1
  /// and y_1 = A (z_0 - z_1) - 2 z_0, each reading its columns from z.
  ROTQ_FORCEINLINE static base_input sums_of(const T* z, std::size_t half) {
    return {half, false, z + half};
  }
  ROTQ_FORCEINLINE static base_input differences_of(const T* z, std::size_t half) {
    return {half, true, z};
  }
};

/// Where a strip that holds both halves of a paired base (apply_paired_base_simd) writes the rows
/// of its second half and finds their -2 t terms, as steps (elements) from the first half's: the
/// other half of y, and the other half of z (y_0 subtracts z_1, y_1 subtracts z_0: -half).
struct half_steps {
  std::ptrdiff_t output = 0, subtract = 0;
};

/// r <- the chunk strip at `from`, or for a paired half its sum or difference with its twin.
template <class Reg>
ROTQ_FORCEINLINE void load_base_column(Reg& r, const simd_lane<Reg>* from,
                                       const base_input<simd_lane<Reg>>& input) {
  simd_load(r, from);
  if (input.twin != 0) {
    Reg twin;
    simd_load(twin, from + input.twin);
    r = input.differences ? r - twin : r + twin;
  }
}

/// One strip of the table of group columns [b0, b0 + Columns): entry t (t < 2^(Columns-1)) is
/// z_b0 + sum_j (+-) z_(b0+j) with column b0 + j negated where bit j-1 of t is set, and entry
/// half + t is its negation, half being half a slot whatever the group's size (an offset known at
/// compile time, so the stores need no address arithmetic); formed exactly as apply_base_portable
/// forms its sums (entry t from entry t - 2^top, top the highest bit of t). The sums are formed in
/// registers, never read back from the table: the first eight directly, the others eight at a
/// time from those, one addition each. from + (-2 z) rounds as from - 2 z does; negation is
/// exact. The columns come through load_base_column, as `input` says.
template <class Simd, std::size_t Columns>
ROTQ_FORCEINLINE bool build_signed_sums(typename Simd::scalar* entries,
                                        const typename Simd::scalar* zs, std::size_t p,
                                        std::size_t b0,
                                        const base_input<typename Simd::scalar>& input) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  constexpr std::size_t sums = std::size_t{1} << (Columns - 1);
  constexpr std::size_t half = base_table_layout<reg>::slot_entries / 2;
  constexpr std::size_t low_bits = Columns - 1 < 3 ? Columns - 1 : 3;
  constexpr std::size_t low = std::size_t{1} << low_bits;  // sums kept in registers
  reg minus_twice[Columns > 1 ? Columns - 1 : 1];
  reg sum[low];
  load_base_column(sum[0], zs + b0 * p, input);
  ROTQ_UNROLL
  for (std::size_t j = 1; j < Columns; ++j) {
    reg column;
    load_base_column(column, zs + (b0 + j) * p, input);
    sum[0] += column;
    minus_twice[j - 1] = -(column + column);
  }
  // Shift-free bounds, as ROTQ_UNROLL asks.
  ROTQ_UNROLL
  for (std::size_t bit = 0, top = 1; bit < low_bits; ++bit, top *= 2) ROTQ_UNROLL
  for (std::size_t t = top; t < 2 * top; ++t) sum[t] = sum[t - top] + minus_twice[bit];
  ROTQ_UNROLL
  for (std::size_t t = 0; t < low; ++t) {
    simd_store(entries + t * width, sum[t]);
    simd_store(entries + (half + t) * width, -sum[t]);
  }
  // Entries low * c + t (c = 1, 2, 3) flip the columns of the bits of c on top of entry t.
  static_assert(sums / low <= 4, "build_signed_sums forms at most four blocks of eight");
  if constexpr (sums > low) {
    ROTQ_UNROLL
    for (std::size_t t = 0; t < low; ++t) {
      const reg first = sum[t] + minus_twice[low_bits];
      simd_store(entries + (low + t) * width, first);
      simd_store(entries + (half + low + t) * width, -first);
      if constexpr (sums / low == 4) {
        const reg second = sum[t] + minus_twice[low_bits + 1];
        const reg both = first + minus_twice[low_bits + 1];
        simd_store(entries + (2 * low + t) * width, second);
        simd_store(entries + (half + 2 * low + t) * width, -second);
        simd_store(entries + (3 * low + t) * width, both);
        simd_store(entries + (half + 3 * low + t) * width, -both);
      }
    }
  }
  return true;
}

/// build_signed_sums with the number of columns (1 to max_base_group) chosen at run time.
template <class Simd, std::size_t... Columns>
ROTQ_FORCEINLINE void build_signed_sums_of(std::size_t columns, typename Simd::scalar* entries,
                                           const typename Simd::scalar* zs, std::size_t p,
                                           std::size_t b0,
                                           const base_input<typename Simd::scalar>& input,
                                           std::index_sequence<Columns...>) {
  (void)((columns == Columns + 1 &&
          build_signed_sums<Simd, Columns + 1>(entries, zs, p, b0, input)) ||
         ...);
}

template <class Reg>
using base_code = typename base_table_layout<Reg>::code;

/// One strip of `Strip` registers of every output row: y_a += the `Count` table entries that row
/// a's codes name, one per group. The sums so far live in `partial` (m strips, contiguous) between
/// batches: rows of y lie p apart, which for p = 2^k >= 64 maps them onto a few L1 sets that the
/// tables share. The first batch starts from its first entry; the last one subtracts twice the
/// strip at `subtract` (when not null, for a paired half), scales and writes y.
template <class Simd, std::size_t Strip, std::size_t Halves, std::size_t Count, bool First,
          bool Last>
ROTQ_FORCEINLINE void accumulate_rows(typename Simd::scalar* partial, typename Simd::scalar* ys,
                                      std::size_t m, std::size_t p,
                                      const typename Simd::scalar* tables,
                                      const base_code<typename Simd::reg>* codes,
                                      const typename Simd::reg& scale,
                                      const typename Simd::scalar* subtract,
                                      const half_steps& steps) {
  using T = typename Simd::scalar;
  using reg = typename Simd::reg;
  using layout = base_table_layout<reg, Strip>;
  constexpr std::size_t width = simd_width<reg>;
  constexpr std::size_t code_bits = 8 * sizeof(typename layout::code);
  const char* slots = reinterpret_cast<const char*>(tables);
  for (std::size_t a = 0; a < m; ++a, codes += base_batch_limit) {
    std::uint64_t packed[layout::words_per_row];
    __builtin_memcpy(packed, codes, sizeof packed);
    // Codes leave their word from the bottom, two at a time, so that reading one costs a single
    // zero-extending move (of the low byte or the one above it) and each pair a shift; the empty
    // asm keeps the compiler from shifting the original word again for every code.
    const auto offset = [&](std::size_t k) {
      std::uint64_t& word = packed[k / layout::codes_per_word];
      const std::size_t below = k % 2 == 0 ? 0 : code_bits;
      const std::size_t code = (word >> below) & ((std::size_t{1} << code_bits) - 1);
      if (k % 2 == 1) {
        word >>= 2 * code_bits;
        asm("" : "+r"(word));
      }
      return code * layout::code_scale;
    };
    const auto entry = [&](std::size_t k, std::size_t r, std::size_t at) {
      return reinterpret_cast<const T*>(slots + (k * Strip + r) * layout::slot_bytes + at);
    };
    reg acc[Strip], term;
    if constexpr (First) {
      const std::size_t at = offset(0);
      ROTQ_UNROLL
      for (std::size_t r = 0; r < Strip; ++r) simd_load(acc[r], entry(0, r, at));
    } else {
      ROTQ_UNROLL
      for (std::size_t r = 0; r < Strip; ++r) simd_load(acc[r], partial + (a * Strip + r) * width);
    }
    ROTQ_UNROLL
    for (std::size_t k = First ? 1 : 0; k < Count; ++k) {
      const std::size_t at = offset(k);
      ROTQ_UNROLL
      for (std::size_t r = 0; r < Strip; ++r) {
        simd_load(term, entry(k, r, at));
        acc[r] += term;
      }
    }
    ROTQ_UNROLL
    for (std::size_t r = 0; r < Strip; ++r) {
      if constexpr (Last) {
        // Register r: the lanes from (r % lanes) * width on, in half r / lanes (0 or 1).
        constexpr std::size_t lanes = Strip / Halves;
        const std::ptrdiff_t in_half = static_cast<std::ptrdiff_t>((r % lanes) * width);
        const std::ptrdiff_t second = r / lanes;
        if (subtract != nullptr) {
          reg twice;
          simd_load(twice, subtract + a * p + in_half + second * steps.subtract);
          acc[r] -= twice + twice;  // 2 t is exact: rounds as paired_join_portable's w - 2 t
        }
        acc[r] *= scale;
        simd_store(ys + a * p + in_half + second * steps.output, acc[r]);
      } else {
        simd_store(partial + (a * Strip + r) * width, acc[r]);
      }
    }
  }
}

template <class Simd, std::size_t Strip, std::size_t Halves, std::size_t Count>
ROTQ_FORCEINLINE bool accumulate_rows_of(bool first, bool last, typename Simd::scalar* partial,
                                         typename Simd::scalar* ys, std::size_t m, std::size_t p,
                                         const typename Simd::scalar* tables,
                                         const base_code<typename Simd::reg>* codes,
                                         const typename Simd::reg& scale,
                                         const typename Simd::scalar* subtract,
                                         const half_steps& steps) {
  if (first && last)
    accumulate_rows<Simd, Strip, Halves, Count, true, true>(partial, ys, m, p, tables, codes, scale,
                                                            subtract, steps);
  else if (first)
    accumulate_rows<Simd, Strip, Halves, Count, true, false>(partial, ys, m, p, tables, codes,
                                                             scale, subtract, steps);
  else if (last)
    accumulate_rows<Simd, Strip, Halves, Count, false, true>(partial, ys, m, p, tables, codes,
                                                             scale, subtract, steps);
  else
    accumulate_rows<Simd, Strip, Halves, Count, false, false>(partial, ys, m, p, tables, codes,
                                                              scale, subtract, steps);
  return true;
}

/// accumulate_rows with the batch size chosen at run time (1 to sizeof...(Count)).
template <class Simd, std::size_t Strip, std::size_t Halves, std::size_t... Count>
ROTQ_FORCEINLINE void accumulate_rows_of_count(
    std::size_t count, bool first, bool last, typename Simd::scalar* partial,
    typename Simd::scalar* ys, std::size_t m, std::size_t p, const typename Simd::scalar* tables,
    const base_code<typename Simd::reg>* codes, const typename Simd::reg& scale,
    const typename Simd::scalar* subtract, const half_steps& steps, std::index_sequence<Count...>) {
  (void)((count == Count + 1 &&
          accumulate_rows_of<Simd, Strip, Halves, Count + 1>(first, last, partial, ys, m, p, tables,
                                                             codes, scale, subtract, steps)) ||
         ...);
}

/// Every output row's table codes for one plan, register type and strip: row a of batch b finds
/// the entry of group b * batch + k through codes[(b * m + a) * base_batch_limit + k]. Kept per
/// thread for the last plan seen, so that a run of transforms of one size computes them once; a
/// plan is recognised by its codes, compared in full.
template <class Reg, std::size_t Strip>
struct base_codes {
  using layout = base_table_layout<Reg, Strip>;
  std::vector<std::uint8_t> plan_codes;
  std::size_t order = 0, group = 0;
  std::vector<typename layout::code> codes;

  const typename layout::code* update(const base_group_plan& plan) {
    if (plan.codes == plan_codes && plan.order == order && plan.group == group) return codes.data();
    plan_codes = plan.codes;
    order = plan.order;
    group = plan.group;
    const std::size_t m = order, groups = plan.groups, batch = layout::batch;
    codes.assign((groups + batch - 1) / batch * m * base_batch_limit, 0);
    for (std::size_t grp = 0; grp < groups; ++grp)
      for (std::size_t a = 0; a < m; ++a) {
        // Bit 7 of a plan code (negate) selects the upper half of a slot.
        const std::size_t code = plan.codes[grp * m + a];
        const std::size_t entry = (code & 0x7f) + (code >> 7) * (layout::slot_entries / 2);
        codes[(grp / batch * m + a) * base_batch_limit + grp % batch] =
            static_cast<typename layout::code>(entry * sizeof(Reg) / layout::code_scale);
      }
    return codes.data();
  }
};

struct base_tables;        // simd_scratch purpose: the signed sums of one batch of column groups
struct base_partial_sums;  // simd_scratch purpose: one strip of every output row between batches

/// A register of `Lanes` scalars for chunks shorter than the back end's registers (p < width):
/// apply_base needs only loads, stores and arithmetic, which any width has.
template <class T, std::size_t Lanes>
struct simd_lanes {
  using scalar = T;
  typedef T reg __attribute__((vector_size(Lanes * sizeof(T))));
};

/// Asks for the columns that the batch after [.., next_first) will load: those of the next
/// groups in this strip, or of the first groups in the next strip. Rows that stream from memory
/// (fwht_rows) otherwise wait for them at every batch, and the lookups of this batch give them time
/// to arrive: 4096 rows of 172 * 64 took 24% less time. A paired base's differences half finds them
/// in cache, where its sums half left them, and skips this (each prefetch takes a load slot, and
/// the lookups are bound by loads).
template <std::size_t StripLanes, class T>
ROTQ_FORCEINLINE void prefetch_next_columns(const T* z, std::size_t m, std::size_t p, std::size_t g,
                                            std::size_t s, std::size_t next_first,
                                            std::size_t groups, std::size_t batch,
                                            const base_input<T>& input) {
  if (input.differences) return;
  const bool same_strip = next_first < groups;
  const std::size_t strip = same_strip ? s : s + StripLanes;
  const std::size_t first_column = same_strip ? next_first * g : 0;
  if (strip >= p) return;
  const std::size_t end = std::min(m, first_column + batch * g);
  for (std::size_t b = first_column; b < end; ++b) {
    __builtin_prefetch(z + strip + b * p);
    if (input.twin != 0) __builtin_prefetch(z + strip + b * p + input.twin);
  }
}

/// apply_base for chunks of p = a multiple of Strip registers: the contract of
/// apply_base_portable without `sums`.
///
/// For one strip of Strip registers and a batch of column groups, each group's signed sums form
/// a table of 2 * 2^(g-1) registers per register of the strip, the negated sums in the upper
/// half, so that every (row, group) pair costs one code and, per register, one load and one
/// addition, and no branch on the sign. A batch is as many groups as fit in half of L1; each
/// output row is read and written once per batch. The tables live in aligned scratch memory.
///
/// Halves = 2 (`input` the sums half of a paired base): the first Strip / 2 registers of a strip
/// hold lanes of the sums half and the others the same lanes of the differences half, which has
/// the same plan, so that one code serves both halves, and chunks of one register get strips of
/// two.
template <class Simd, std::size_t Strip, std::size_t Halves = 1>
ROTQ_FORCEINLINE void apply_base_strips(const base_group_plan& plan, const typename Simd::scalar* z,
                                        typename Simd::scalar* y, std::size_t p,
                                        typename Simd::scalar scale,
                                        const base_input<typename Simd::scalar>& input) {
  using T = typename Simd::scalar;
  using reg = typename Simd::reg;
  using layout = base_table_layout<reg, Strip>;
  static_assert(Halves == 1 || (Halves == 2 && Strip % 2 == 0), "a strip splits into its halves");
  constexpr std::size_t width = simd_width<reg>;
  constexpr std::size_t slot = layout::slot_entries * width;  // elements per group and register
  constexpr std::size_t lanes = Strip / Halves;               // registers per half of a strip
  const std::size_t m = plan.order, g = plan.group, groups = plan.groups;
  const std::size_t batch = std::min(groups, layout::batch);
  thread_local base_codes<reg, Strip> cache;
  const base_code<reg>* codes = cache.update(plan);
  T* tables = simd_scratch<T, base_tables>(batch * Strip * slot);
  T* partial = simd_scratch<T, base_partial_sums>(m * Strip * width);
  const std::ptrdiff_t half = static_cast<std::ptrdiff_t>(input.twin);
  const half_steps steps = Halves == 2 ? half_steps{half, -half} : half_steps{};
  const auto differences = base_input<T>::differences_of(z, input.twin);

  reg scale_lanes;
  simd_broadcast(scale_lanes, scale);
  for (std::size_t s = 0; s < p; s += lanes * width)
    for (std::size_t first = 0; first < groups; first += batch) {
      const std::size_t count = std::min(batch, groups - first);
      for (std::size_t k = 0; k < count; ++k) {
        const std::size_t b0 = (first + k) * g;
        for (std::size_t r = 0; r < Strip; ++r)
          build_signed_sums_of<Simd>(
              std::min(g, m - b0), tables + (k * Strip + r) * slot, z + s + r % lanes * width, p,
              b0, r < lanes ? input : differences, std::make_index_sequence<max_base_group>());
      }
      prefetch_next_columns<lanes * width>(z, m, p, g, s, first + count, groups, batch, input);
      accumulate_rows_of_count<Simd, Strip, Halves>(
          count, first == 0, first + count == groups, partial, y + s, m, p, tables,
          codes + first / batch * m * base_batch_limit, scale_lanes,
          input.subtract == nullptr ? nullptr : input.subtract + s, steps,
          std::make_index_sequence<layout::batch>());
    }
}

template <class T, std::size_t Log2Lanes>
ROTQ_FORCEINLINE bool apply_base_of_lanes(const base_group_plan& plan, const T* z, T* y,
                                          std::size_t p, T scale, const base_input<T>& input) {
  apply_base_strips<simd_lanes<T, std::size_t{1} << Log2Lanes>, 1>(plan, z, y, p, scale, input);
  return true;
}

/// apply_base_strips on registers of exactly p lanes, for p below the back end's width.
template <class T, std::size_t... Log2Lanes>
ROTQ_FORCEINLINE void apply_base_narrow(const base_group_plan& plan, const T* z, T* y,
                                        std::size_t p, T scale, const base_input<T>& input,
                                        std::index_sequence<Log2Lanes...>) {
  (void)((p == std::size_t{1} << Log2Lanes &&
          apply_base_of_lanes<T, Log2Lanes>(plan, z, y, p, scale, input)) ||
         ...);
}

/// apply_base_strips on the widest strips that p allows; chunks shorter than a register use
/// registers of p lanes.
template <class Simd>
ROTQ_FORCEINLINE void apply_base_registers(const base_group_plan& plan,
                                           const typename Simd::scalar* z, typename Simd::scalar* y,
                                           std::size_t p, typename Simd::scalar scale,
                                           const base_input<typename Simd::scalar>& input) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  if (p % (base_strip_registers * width) == 0)
    apply_base_strips<Simd, base_strip_registers>(plan, z, y, p, scale, input);
  else if (p >= width)
    apply_base_strips<Simd, 1>(plan, z, y, p, scale, input);
  else
    apply_base_narrow(plan, z, y, p, scale, input, std::make_index_sequence<log2_of(width)>());
}

/// The contract of apply_base_portable, vectorised over the p lanes of the chunks; `sums` is not
/// needed (see apply_base_strips). Chunks shorter than a register go to the back end's rows in
/// lanes where it has them (Simd::apply_base_by_lanes, fwht_lanes_avx2.hpp).
template <class Simd>
ROTQ_FORCEINLINE void apply_base_simd(const base_group_plan& plan, const typename Simd::scalar* z,
                                      typename Simd::scalar* y, std::size_t p,
                                      typename Simd::scalar scale) {
  if constexpr (Simd::lane_lookups) {
    if (Simd::apply_base_by_lanes(plan, z, y, p, scale, {})) return;
  }
  apply_base_registers<Simd>(plan, z, y, p, scale, {});
}

/// The contract of apply_paired_base_portable without `sums`: the sums and differences of z's
/// halves formed as the tables are built and the -2 z terms added as the rows are written. Where
/// a chunk is one register or half of one, each strip holds one register of each half, so that
/// one code serves two loads: 0.77-0.87 of the time of a pass per half for the paired bases 12 to
/// 164 with p = 8 on AVX2. Longer chunks keep a pass per half: strips of four registers, two of
/// each half, were within the noise of two of one half.
template <class Simd>
ROTQ_FORCEINLINE void apply_paired_base_simd(const base_group_plan& plan,
                                             const typename Simd::scalar* z,
                                             typename Simd::scalar* y, std::size_t p,
                                             typename Simd::scalar scale) {
  using T = typename Simd::scalar;
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  const std::size_t half = plan.order * p;
  const auto sums = base_input<T>::sums_of(z, half);
  const auto differences = base_input<T>::differences_of(z, half);
  if constexpr (Simd::lane_lookups) {
    if (Simd::apply_base_by_lanes(plan, z, y, p, scale, sums)) {
      Simd::apply_base_by_lanes(plan, z, y + half, p, scale, differences);
      return;
    }
  }
  if (p == width) {
    apply_base_strips<Simd, 2, 2>(plan, z, y, p, scale, sums);
  } else if (2 * p == width) {
    apply_base_strips<simd_lanes<T, width / 2>, 2, 2>(plan, z, y, p, scale, sums);
  } else {
    apply_base_registers<Simd>(plan, z, y, p, scale, sums);
    apply_base_registers<Simd>(plan, z, y + half, p, scale, differences);
  }
}

}  // namespace detail
}  // namespace rotq
