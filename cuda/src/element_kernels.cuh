#pragma once
// element_kernels' definitions: the library's tile configuration of the kernel templates.

#include "element_kernels.hpp"
#include "rotq/cuda/kernels.cuh"

namespace rotq {
namespace cuda {
namespace detail {

template <class In>
cudaError_t element_kernels<In>::rows(const rows_params& p, bool quantize, cudaStream_t stream) {
  return kernels::launch_rows<In>(p, quantize, stream);
}

template <class In>
cudaError_t element_kernels<In>::staged(const staged_params& p, bool quantize,
                                        cudaStream_t stream) {
  return kernels::launch_staged<In>(p, quantize, stream);
}

template <class In>
cudaError_t element_kernels<In>::block_rotate(const block_params& p, bool quantize,
                                              cudaStream_t stream) {
  return kernels::launch_block_rotate<In>(p, quantize, stream);
}

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
