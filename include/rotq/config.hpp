#pragma once
// Version, portability macros and instruction-set detection shared by every rotq header.

#define ROTQ_VERSION_MAJOR 0
#define ROTQ_VERSION_MINOR 1
#define ROTQ_VERSION_PATCH 0
#define ROTQ_VERSION_STRING "0.1.0"

// Functions that must exist once for host and device (the quantiser arithmetic, the sign
// generator): one definition, compiled by nvcc for both sides and by a host compiler as inline.
#if defined(__CUDACC__)
#define ROTQ_HOST_DEVICE __host__ __device__ inline
#else
#define ROTQ_HOST_DEVICE inline
#endif

// Butterfly loops keep their data in register arrays; if the compiler declines to inline or
// unroll them, the arrays go to the stack and the transform runs several times slower.
#if defined(__CUDA_ARCH__)
#define ROTQ_FORCEINLINE __forceinline__
#elif defined(__GNUC__) || defined(__clang__)
#define ROTQ_FORCEINLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define ROTQ_FORCEINLINE __forceinline
#else
#define ROTQ_FORCEINLINE inline
#endif

// Device code and clang know "#pragma unroll"; g++ spells it "#pragma GCC unroll". nvcc's host
// pass accepts neither cleanly (its front end rejects the GCC spelling, g++ warns about the
// other), so host code inside .cu files gets no hint: it is not where the time goes. Nested loops
// under it keep their bounds free of shifts and divisions: g++ drops (and warns about) the pragma
// on a loop whose bounds -fsanitize=undefined instruments.
#if defined(__CUDA_ARCH__) || (defined(__clang__) && !defined(__CUDACC__))
#define ROTQ_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)
#define ROTQ_UNROLL
#elif defined(__GNUC__)
#define ROTQ_UNROLL _Pragma("GCC unroll 64")
#else
#define ROTQ_UNROLL
#endif

// x86 kernels are compiled with per-function target attributes and chosen at run time, so a
// binary built for baseline x86-64 still uses AVX2 where the processor has it.
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__CUDACC__) && !defined(ROTQ_DISABLE_SIMD)
#define ROTQ_HAS_X86_DISPATCH 1
#else
#define ROTQ_HAS_X86_DISPATCH 0
#endif

// Every AArch64 processor has NEON (Advanced SIMD), so its kernels are compiled for the target
// itself and need no run-time check.
#if defined(__aarch64__) && defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__CUDACC__) && !defined(ROTQ_DISABLE_SIMD)
#define ROTQ_HAS_NEON 1
#else
#define ROTQ_HAS_NEON 0
#endif
