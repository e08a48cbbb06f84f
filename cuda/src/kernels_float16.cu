// The float16 instantiations of every kernel (vectorised rows, staged rows, block rotation; each
// plain and quantising).

#include "element_kernels.cuh"

namespace rotq {
namespace cuda {
namespace detail {

template struct element_kernels<__half>;

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
