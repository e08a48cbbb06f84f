#pragma once
// The parameters of the rotq::cuda kernels: plain structs that the host launchers fill and the
// kernels receive by value, plus the shapes of the two shared-memory kernels (the staged row
// kernel for rows the vectorised kernel cannot tile, and the block-rotation kernel).

#include <cstdint>

#include "group_codes.hpp"
#include "row_tiling.hpp"

namespace rotq {
namespace cuda {
namespace detail {

/// Where quantised rows go (see rotq::cuda::quantized_output).
struct code_target {
  code_format format;
  std::uint8_t* codes = nullptr;
  std::int64_t codes_stride = 0;  ///< bytes
  void* scales = nullptr;         ///< float, or bytes when byte_scales(format)
  std::int64_t scales_stride = 0;
  std::int32_t* zeros = nullptr;  ///< asymmetric integers only
  std::int64_t zeros_stride = 0;
};

/// The Hadamard transform's device tables and constants (from a hadamard_plan).
struct hadamard_tables {
  int m = 1;
  /// H_m (or H_m^T for the inverse) row by row, sign_words(m) words a row, bit set for -1; null
  /// when m = 1.
  const std::uint32_t* base_signs = nullptr;
  /// Random signs, bit i % 8 of byte i / 8 set when s_i = -1; null without random signs.
  const std::uint8_t* random_signs = nullptr;
  bool signs_after = false;  ///< inverse: flip after the transform instead of before
  float scale = 1.0f;        ///< 1 / sqrt(n), or 1
};

/// The rows every kernel reads and, for float output, writes.
struct row_io {
  std::int64_t rows = 0;
  const void* in = nullptr;
  std::int64_t in_stride = 0;  ///< elements
  void* out = nullptr;         ///< same element type as in; unused when quantising
  std::int64_t out_stride = 0;
  const float* divisor = nullptr;  ///< per channel, applied before the transform; may be null
};

/// The vectorised row kernel (rows_kernel.cuh).
struct rows_params {
  row_tiling tiling;
  row_smem_layout smem;
  row_io io;
  bool transform = true;  ///< false: quantise (or copy) alone
  hadamard_tables tables;
  code_target target;
};

/// The staged row kernel (staged_kernel.cuh): one row per row_threads threads, the row in shared
/// memory, butterflies and mixing over shared memory. Any even n; slow next to the vectorised
/// kernel, and used for what it cannot tile (p < 8, or n not a multiple of 8).
struct staged_shape {
  int n = 0;
  int m = 1;
  int p = 0;
  int rows_per_cta = 1;
  int row_threads = 1;
  int row_floats = 0;     ///< per row: values, mixed values, per-group parameters
  int reduce_offset = 0;  ///< per-warp partials of per-token reductions
  int total_floats = 0;
};

/// Threads of every staged-kernel CTA: the shapes are chosen for it, and the kernel is launched
/// with it (its __launch_bounds__).
constexpr int staged_cta_threads = 256;

struct staged_params {
  staged_shape shape;
  row_io io;
  bool transform = true;
  hadamard_tables tables;
  code_target target;
};

/// Elements the staged kernels move per vector: pairs, because 4-bit codes pack in pairs and every
/// supported n is even.
constexpr int staged_vector_elements = 2;

/// Floats of one staged row: the values (n), a second copy for the H_m mixing to write into when
/// m > 1, and the parameters of at most n / 16 groups (two floats each), rounded up to a multiple
/// of 4 so that every row's area, and the float2 parameters in it, stay aligned.
inline int staged_row_floats(int n, int m) { return divide_up((m > 1 ? 2 * n : n) + n / 8, 4) * 4; }

/// The staged kernel's shape for `cta_threads` threads (a power of two) and a budget of
/// `max_floats` floats of shared memory: as many rows per CTA (a power of two) as fit, at least
/// one. Returns false for an odd n or when one row does not fit.
inline bool choose_staged_shape(int n, int m, int cta_threads, int max_floats, staged_shape& out) {
  if (n <= 0 || n % 2 != 0 || n > max_row_length || m < 1 || n % m != 0) return false;
  staged_shape s;
  s.n = n;
  s.m = m;
  s.p = n / m;
  s.row_floats = staged_row_floats(n, m);
  s.rows_per_cta = 1;
  const int reduce_per_row = 2 * (cta_threads / warp_threads);
  while (s.rows_per_cta * 2 <= cta_threads / 8 &&
         2 * s.rows_per_cta * s.row_floats + reduce_per_row <= max_floats)
    s.rows_per_cta *= 2;
  s.row_threads = cta_threads / s.rows_per_cta;
  s.reduce_offset = s.rows_per_cta * s.row_floats;
  const int warps_per_row = s.row_threads > warp_threads ? s.row_threads / warp_threads : 0;
  s.total_floats = s.reduce_offset + 2 * warps_per_row * s.rows_per_cta;
  if (s.total_floats > max_floats) return false;
  out = s;
  return true;
}

/// The block-rotation kernel (block_rotate_kernel.cuh): rows_per_cta rows (1, 2 or 4) a CTA, each
/// thread computing 8 consecutive outputs of every row of the CTA from one block's matrix; the
/// rotated rows wait in shared memory (fp32) for the quantiser.
struct block_shape {
  int n = 0;
  int block_size = 0;
  int rows_per_cta = 1;
  int row_threads = 1;
  int row_floats = 0;  ///< per row: the rotated row and per-group parameters
  int reduce_offset = 0;
  int total_floats = 0;
};

struct block_params {
  block_shape shape;
  row_io io;
  const float* blocks = nullptr;         ///< n / block_size matrices, block_size^2 floats each
  const std::int32_t* gather = nullptr;  ///< n source columns, or null
  code_target target;
};

/// Threads of every block-rotation CTA (chosen shapes, launch and __launch_bounds__ alike).
constexpr int block_cta_threads = 256;

/// Rows per CTA the block kernel computes at once: every block matrix row it reads serves that
/// many rows, bounded by 128 KiB of staged fp32 rows.
constexpr int max_block_rows_per_cta = 4;

inline bool choose_block_shape(int n, int block_size, int cta_threads, block_shape& out) {
  if (block_size < 16 || block_size > 256 || block_size % vector_elements != 0 || n <= 0 ||
      n % block_size != 0 || n > max_row_length)
    return false;
  block_shape s;
  s.n = n;
  s.block_size = block_size;
  s.rows_per_cta = 1;
  while (s.rows_per_cta < max_block_rows_per_cta && 2 * s.rows_per_cta * n <= max_row_length)
    s.rows_per_cta *= 2;
  s.row_threads = cta_threads / s.rows_per_cta;
  s.row_floats = divide_up(n + n / 8, 4) * 4;
  s.reduce_offset = s.rows_per_cta * s.row_floats;
  const int warps_per_row = s.row_threads > warp_threads ? s.row_threads / warp_threads : 0;
  s.total_floats = s.reduce_offset + 2 * warps_per_row * s.rows_per_cta;
  out = s;
  return true;
}

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
