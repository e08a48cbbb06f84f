#pragma once
// The versioned inline namespace around every rotq kernel and device function, and the kernel
// attribute that hides them (the scheme of CCCL's cub/util_namespace.cuh). Kernel templates
// instantiated in two libraries built for different GPU architectures (rotq::cuda and an engine
// that includes these .cuh files) would otherwise have the same mangled names, and the linker
// would keep one of them, with the wrong architecture's code. The namespace name carries rotq's
// version and the architectures of the compilation (__CUDA_ARCH_LIST__, nvcc >= 11.5), e.g.
// rotq::cuda::v0_1_0_sm_800_900; hidden visibility keeps the kernels out of shared-library
// symbol tables. Kernels and device code live in rotq::cuda::kernels (inside the versioned
// namespace); the host/device layout functions they share with the host tests stay in
// rotq::cuda::detail.

#include "rotq/config.hpp"

#define ROTQ_CUDA_PASTE_(a, b) a##b
#define ROTQ_CUDA_PASTE(a, b) ROTQ_CUDA_PASTE_(a, b)

#define ROTQ_CUDA_ARCH_COUNT_(_1, _2, _3, _4, _5, _6, _7, _8, count, ...) count
#define ROTQ_CUDA_ARCH_COUNT(...) ROTQ_CUDA_ARCH_COUNT_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)

#define ROTQ_CUDA_ARCH_NAME_1(a) _sm_##a
#define ROTQ_CUDA_ARCH_NAME_2(a, b) _sm_##a##_##b
#define ROTQ_CUDA_ARCH_NAME_3(a, b, c) _sm_##a##_##b##_##c
#define ROTQ_CUDA_ARCH_NAME_4(a, b, c, d) _sm_##a##_##b##_##c##_##d
#define ROTQ_CUDA_ARCH_NAME_5(a, b, c, d, e) _sm_##a##_##b##_##c##_##d##_##e
#define ROTQ_CUDA_ARCH_NAME_6(a, b, c, d, e, f) _sm_##a##_##b##_##c##_##d##_##e##_##f
#define ROTQ_CUDA_ARCH_NAME_7(a, b, c, d, e, f, g) _sm_##a##_##b##_##c##_##d##_##e##_##f##_##g
#define ROTQ_CUDA_ARCH_NAME_8(a, b, c, d, e, f, g, h) \
  _sm_##a##_##b##_##c##_##d##_##e##_##f##_##g##_##h
#define ROTQ_CUDA_ARCH_NAME(...) \
  ROTQ_CUDA_PASTE(ROTQ_CUDA_ARCH_NAME_, ROTQ_CUDA_ARCH_COUNT(__VA_ARGS__))(__VA_ARGS__)

#define ROTQ_CUDA_VERSION_NAME_(major, minor, patch) v##major##_##minor##_##patch
#define ROTQ_CUDA_VERSION_NAME(major, minor, patch) ROTQ_CUDA_VERSION_NAME_(major, minor, patch)

#if defined(__CUDA_ARCH_LIST__)
#define ROTQ_CUDA_ABI_NAMESPACE                                                           \
  ROTQ_CUDA_PASTE(                                                                        \
      ROTQ_CUDA_VERSION_NAME(ROTQ_VERSION_MAJOR, ROTQ_VERSION_MINOR, ROTQ_VERSION_PATCH), \
      ROTQ_CUDA_ARCH_NAME(__CUDA_ARCH_LIST__))
#else
#define ROTQ_CUDA_ABI_NAMESPACE \
  ROTQ_CUDA_VERSION_NAME(ROTQ_VERSION_MAJOR, ROTQ_VERSION_MINOR, ROTQ_VERSION_PATCH)
#endif

#define ROTQ_CUDA_KERNELS_BEGIN              \
  namespace rotq {                           \
  namespace cuda {                           \
  inline namespace ROTQ_CUDA_ABI_NAMESPACE { \
  namespace kernels {
#define ROTQ_CUDA_KERNELS_END \
  }                           \
  }                           \
  }                           \
  }

#if defined(_WIN32)
#define ROTQ_CUDA_KERNEL __global__
#else
#define ROTQ_CUDA_KERNEL __global__ __attribute__((visibility("hidden")))
#endif
