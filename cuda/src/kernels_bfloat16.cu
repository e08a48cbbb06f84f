// The bfloat16 instantiations of every kernel (vectorised rows, staged rows, block rotation; each
// plain and quantising).

#include "element_kernels.cuh"

namespace rotq {
namespace cuda {
namespace detail {

template struct element_kernels<__nv_bfloat16>;

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
