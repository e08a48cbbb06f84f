#pragma once
// Which thread holds which elements of a row in the vectorised row kernels, and how a row's
// butterflies and quantisation groups map onto threads, registers and shared memory. Host and
// device share every function here: the kernels index with them, and the host tests simulate a
// CTA with them and compare against rotq::fwht.
//
// A row of n = m * p elements (p = 2^k) is cut into vectors of 8 consecutive elements (16 bytes of
// a 16-bit type); vector v holds elements [8v, 8v + 8). Chunk a is elements [a p, a p + p), the
// p / 8 vectors on which S_p acts. Threads of a row: t = g * U + u, where u (0..U-1) walks the
// vectors of a chunk and g (0..G-1) picks a group of chunks. Each thread holds `slots` vectors in
// registers, slot k = s * Σ + σ:
//   vector(t, k) = ((s * G + g) * Σ + σ) * U + u,
// so chunk (s * G + g) belongs to thread group g, and within a chunk column vector σ * U + u.
// Powers of two (m = 1) use Σ > 1 slots of one chunk; m > 1 uses S chunk slots (Σ = 1), which lets
// the H_m mixing reuse each value it reads from shared memory S times. For a fixed slot,
// consecutive threads hold consecutive vectors, so every load and store of a warp is coalesced.
//
// Butterflies of S_p, by bit of the element index inside a chunk: the 3 low bits are inside a
// vector (registers), the next log2 U bits are u (lanes: shuffles; above the 5 lane bits: warps),
// the σ bits are slots (registers). Bits of u above the lane bits go through one exchange in
// shared memory that swaps them with the low lane bits (swapped_column_thread), so they too
// become shuffles.

#include <cstddef>
#include <cstdint>

#include "rotq/config.hpp"

namespace rotq {
namespace cuda {
namespace detail {

constexpr int vector_elements = 8;
constexpr int warp_threads = 32;
constexpr int max_cta_threads = 1024;
/// The longest row the GPU kernels take: one row's fp32 staging (128 KiB) fits one CTA's shared
/// memory on sm_80 and sm_90.
constexpr int max_row_length = 32768;

/// The library's tile configurations of the vectorised row kernel (kernel_launch.cuh compiles
/// them): 4 register vectors (32 values) per thread in CTAs of about 256 threads, whose
/// registers are budgeted for 256 (sm_80 needs about 70, none spilled), and for rows that need
/// more threads a second build for up to 1024 (one row of 32768 elements; 64 registers).
constexpr int library_row_slots = 4;
constexpr int library_row_cta_threads = 256;

ROTQ_HOST_DEVICE constexpr bool is_power_of_two(int x) { return x > 0 && (x & (x - 1)) == 0; }

/// log2 of a power of two.
ROTQ_HOST_DEVICE constexpr int log2_exact(int x) {
  int k = 0;
  while ((1 << k) < x) ++k;
  return k;
}

ROTQ_HOST_DEVICE constexpr int divide_up(int a, int b) { return (a + b - 1) / b; }

/// How the rows of one launch are spread over threads (see the file comment).
struct row_tiling {
  int n = 0;
  int m = 1;               ///< H_m of n = m * p (1 for powers of two and for quantising alone)
  int p = 0;               ///< chunk length: n / m
  int column_threads = 1;  ///< U: threads across the vectors of one chunk
  int column_slots = 1;    ///< Σ: vectors of one chunk per thread (power of two)
  int chunk_groups = 1;    ///< G: thread groups across chunks
  int chunk_slots = 1;     ///< S: chunks per thread; m = G * S
  int row_threads = 1;     ///< threads given to one row: G * U rounded up (see choose_row_tiling)
  int rows_per_cta = 1;    ///< rows one CTA transforms
};

ROTQ_HOST_DEVICE constexpr int vectors_per_row(const row_tiling& t) {
  return t.n / vector_elements;
}

/// Register slots a thread uses: S * Σ.
ROTQ_HOST_DEVICE constexpr int used_slots(const row_tiling& t) {
  return t.chunk_slots * t.column_slots;
}

/// Threads of a row that hold data: G * U (the rest of row_threads only pads to a warp shape).
ROTQ_HOST_DEVICE constexpr int busy_threads(const row_tiling& t) {
  return t.chunk_groups * t.column_threads;
}

/// Warps across one chunk's columns when U > 32 (their bits need the shared-memory exchange),
/// else 1.
ROTQ_HOST_DEVICE constexpr int column_warps(const row_tiling& t) {
  return t.column_threads > warp_threads ? t.column_threads / warp_threads : 1;
}

/// Butterfly stages done with shuffles before any exchange: the lane bits of u.
ROTQ_HOST_DEVICE constexpr int lane_stages(const row_tiling& t) {
  return t.column_threads > warp_threads ? 5 : log2_exact(t.column_threads);
}

/// The distance between the vectors of consecutive slots of a thread. Every tiling has one chunk
/// slot (S = 1) or one column slot (Σ = 1), so slot k = s * Σ + σ holds vector
/// ((s * G + g) * Σ + σ) * U + u = (vector of slot 0) + k * (Σ > 1 ? U : G * U): the kernels
/// compute a thread's vectors once, with no divisions, from this and slot 0's vector.
ROTQ_HOST_DEVICE constexpr int slot_stride(const row_tiling& t) {
  return t.column_slots > 1 ? t.column_threads : t.chunk_groups * t.column_threads;
}

/// The vector (elements [8v, 8v + 8) of the row) that row thread `thread` holds in register slot
/// `slot`. When quantising alone (no transform) the map may run past the row: such slots are
/// empty (vector >= vectors_per_row).
ROTQ_HOST_DEVICE constexpr int owned_vector(const row_tiling& t, int thread, int slot) {
  const int g = thread / t.column_threads;
  const int u = thread % t.column_threads;
  return g * t.column_slots * t.column_threads + u + slot * slot_stride(t);
}

/// The exchange for column bits above the lane bits: u = (warp w, lane l) with W = U / 32 warps
/// (a power of two <= 32) and l = l_hi * W + l_lo becomes u' = l_lo * 32 + l_hi * W + w. Thread u
/// then holds column u' in place of u: the warp bits of the column are the low lane bits of the
/// holder, so shuffles over lane masks 1 .. W / 2 finish the butterflies. The map is an
/// involution, so applying it again returns each column to its owner.
ROTQ_HOST_DEVICE constexpr int swapped_column_thread(int u, int warps) {
  const int w = u / warp_threads;
  const int lane = u % warp_threads;
  return (lane % warps) * warp_threads + (lane / warps) * warps + w;
}

/// The vector thread `thread` holds in `slot` while the exchange is in effect.
ROTQ_HOST_DEVICE constexpr int exchanged_vector(const row_tiling& t, int thread, int slot) {
  const int g = thread / t.column_threads;
  const int u = swapped_column_thread(thread % t.column_threads, column_warps(t));
  return owned_vector(t, g * t.column_threads + u, slot);
}

/// Where element i of a row lives in its fp32 staging area (n floats, n a multiple of 8):
/// elements 0-3 of every vector in the first half, 4-7 in the second, so a warp reading one
/// vector per lane as two float4 touches consecutive 16-byte words and no bank twice.
ROTQ_HOST_DEVICE constexpr int staged_offset(int i, int n) {
  return ((i & 4) != 0 ? n / 2 : 0) + (i >> 3) * 4 + (i & 3);
}

/// Threads for `busy` data-holding threads of a row: a power of two up to a warp (so several rows
/// share a warp with lane-aligned groups), else whole warps.
ROTQ_HOST_DEVICE constexpr int padded_row_threads(int busy) {
  if (busy > warp_threads) return divide_up(busy, warp_threads) * warp_threads;
  int threads = 1;
  while (threads < busy) threads *= 2;
  return threads;
}

/// The largest divisor of m that is at most `limit`.
ROTQ_HOST_DEVICE constexpr int largest_divisor_up_to(int m, int limit) {
  for (int d = limit < m ? limit : m; d > 1; --d)
    if (m % d == 0) return d;
  return 1;
}

/// The tiling of an n = m * p row for a kernel compiled with `slots` register vectors per thread
/// (a power of two) and about `cta_threads` threads per CTA. `transform` false: quantise alone,
/// any n that is a multiple of 8 (m is ignored). Returns false when this kernel cannot take the
/// row: n not a multiple of 8, p < 8 (the staged kernel does those), or more than 1024 threads a
/// row.
inline bool choose_row_tiling(int n, int m, bool transform, int slots, int cta_threads,
                              row_tiling& out) {
  if (n <= 0 || n % vector_elements != 0 || n > max_row_length || !is_power_of_two(slots))
    return false;
  const int vectors = n / vector_elements;
  row_tiling t;
  t.n = n;
  if (!transform) {
    t.p = n;
    t.column_threads = padded_row_threads(divide_up(vectors, slots));
    t.column_slots = divide_up(vectors, t.column_threads);
  } else if (m == 1) {
    if (!is_power_of_two(n)) return false;
    t.p = n;
    t.column_slots = slots < vectors ? slots : vectors;
    t.column_threads = vectors / t.column_slots;
  } else {
    if (m < 1 || n % m != 0) return false;
    t.m = m;
    t.p = n / m;
    if (!is_power_of_two(t.p) || t.p < vector_elements) return false;
    t.column_threads = t.p / vector_elements;
    t.chunk_slots = largest_divisor_up_to(m, slots);
    t.chunk_groups = m / t.chunk_slots;
  }
  if (busy_threads(t) > max_cta_threads) return false;
  t.row_threads = padded_row_threads(busy_threads(t));
  t.rows_per_cta = t.row_threads >= cta_threads ? 1 : cta_threads / t.row_threads;
  out = t;
  return true;
}

/// Launches of at most this many rows take the decode tiling (choose_decode_tiling): they cannot
/// fill the GPU, so a launch lasts as long as one row takes, and a row spread over more threads
/// with fewer register slots each is done sooner.
constexpr int decode_max_rows = 64;

/// The most threads a decode tiling gives a row. On an H100, rows of 512 threads with one slot
/// each (n = 4096) beat the library's tiling (int8 fused, one row: 8.8 -> 7.0 µs a call in a CUDA
/// graph), while rows of 1024 threads lost to it (n = 8192: 11.3 -> 12.3 µs; 16384: 16.4 -> 17.9
/// µs): the cross-warp exchange and the per-token reduction over 32 warps cost more than the
/// shorter register work saves.
constexpr int decode_max_row_threads = 512;

/// The decode tiling of an n = m * p row: the fewest register slots (1 or 2) that tile the row in
/// at most decode_max_row_threads threads, else the library's slots; one row per CTA (rows of
/// fewer than 32 threads share a warp). The library's kernel builds run it: they loop over the used
/// slots only. A row gets the same bits from it as from the library's tiling, because rows_kernel
/// runs the butterfly stages from the lowest index bit to the highest whatever the tiling, and H_m
/// sums its terms in one order (test/cuda_layout.cpp simulates both and compares).
inline bool choose_decode_tiling(int n, int m, row_tiling& out) {
  for (int slots = 1; slots < library_row_slots; slots *= 2)
    if (choose_row_tiling(n, m, true, slots, warp_threads, out) &&
        out.row_threads <= decode_max_row_threads)
      return true;
  return choose_row_tiling(n, m, true, library_row_slots, warp_threads, out);
}

/// Shared memory of one CTA of the vectorised row kernel, in floats, and where its parts start.
/// Each row has an area (row_floats) for the staging of exchanges and H_m mixing and, once the
/// transform is done, for the per-vector group statistics (two floats each); after all rows come
/// the per-warp partials of per-token reductions (two floats per warp of a row).
struct row_smem_layout {
  int row_floats = 0;
  int reduce_offset = 0;  ///< first float of the per-warp partials
  int total_floats = 0;
};

/// `per_group`: scales cover fewer elements than the row, so vector statistics go through shared
/// memory; otherwise a quantised row reduces across warps (when it spans several).
inline row_smem_layout row_smem(const row_tiling& t, bool transform, bool quantize,
                                bool per_group) {
  const bool staging = transform && (t.m > 1 || t.column_threads > warp_threads);
  const int staging_floats = staging ? t.n : 0;
  const int stats_floats = quantize && per_group ? 2 * vectors_per_row(t) : 0;
  row_smem_layout layout;
  layout.row_floats = staging_floats > stats_floats ? staging_floats : stats_floats;
  layout.reduce_offset = t.rows_per_cta * layout.row_floats;
  const int warps = t.row_threads > warp_threads ? t.row_threads / warp_threads : 0;
  const int reduce_floats = quantize && !per_group ? 2 * warps * t.rows_per_cta : 0;
  layout.total_floats = layout.reduce_offset + reduce_floats;
  return layout;
}

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
