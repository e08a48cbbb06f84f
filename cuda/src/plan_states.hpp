#pragma once
// What the Hadamard and block-rotation plans hold: their device tables and the kernel shapes
// chosen for their size (for the Hadamard plan, one for many rows and one for few; both run the
// same transform arithmetic, so hadamard and hadamard_quantize of one plan give a row the same
// bits in launches of any size).

#include <cstddef>
#include <cstdint>

#include "device_buffer.hpp"
#include "rotq/cuda.hpp"
#include "rotq/cuda/detail/kernel_params.hpp"

namespace rotq {
namespace cuda {
namespace detail {

/// Shared memory the staged kernels may use: 160 KiB fits an sm_80 CTA (163 KiB) and sm_90.
constexpr int staged_max_floats = 160 * 1024 / 4;

struct hadamard_plan_state {
  std::size_t n = 0;
  std::size_t m = 1;
  hadamard_options options;
  device_buffer base_signs;
  device_buffer random_signs;
  hadamard_tables tables;
  bool vectorised = false;  ///< rows_kernel with `tiling`, else staged_kernel with `staged`
  row_tiling tiling;
  row_tiling decode_tiling;  ///< rows_kernel's for launches of at most detail::decode_max_rows
  staged_shape staged;
};

struct block_rotation_plan_state {
  std::size_t n = 0;
  std::size_t block_size = 0;
  device_buffer blocks;
  device_buffer gather;
  bool has_gather = false;
  block_shape shape;
};

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
