#pragma once
// The kernel launches of one element type, compiled in kernels_<type>.cu (one file per type, so
// the three compile in parallel). Free of rotq/cuda.hpp, which brings Eigen, so nvcc never parses
// the host library.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include "rotq/cuda/detail/kernel_params.hpp"

namespace rotq {
namespace cuda {
namespace detail {

template <class In>
struct element_kernels {
  static cudaError_t rows(const rows_params& p, bool quantize, cudaStream_t stream);
  static cudaError_t staged(const staged_params& p, bool quantize, cudaStream_t stream);
  static cudaError_t block_rotate(const block_params& p, bool quantize, cudaStream_t stream);
};

extern template struct element_kernels<float>;
extern template struct element_kernels<__half>;
extern template struct element_kernels<__nv_bfloat16>;

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
