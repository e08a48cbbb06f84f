#pragma once
// The rotq::cuda kernel templates, for code compiled with nvcc that launches them itself (other
// tile configurations, other element types). Most users link rotq::cuda and include
// <rotq/cuda.hpp> instead. Everything here lives in rotq::cuda::kernels, inside a namespace
// named after rotq's version and the architectures being compiled (abi_namespace.cuh), and the
// parameters are the plain structs of detail/kernel_params.hpp.

#include "detail/kernel_launch.cuh"
