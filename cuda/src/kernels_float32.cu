// The float32 instantiations of every kernel (vectorised rows, staged rows, block rotation; each
// plain and quantising).

#include "element_kernels.cuh"

namespace rotq {
namespace cuda {
namespace detail {

template struct element_kernels<float>;

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
