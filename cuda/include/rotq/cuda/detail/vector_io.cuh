#pragma once
// Moving activations between global memory and fp32 registers: 8 elements per access (one 16-byte
// load of fp16 / bf16, two of fp32), converted once on the way in and rounded once (to nearest
// even) on the way out; scalar conversions for the staged kernels; code stores of 1 to 8 bytes.

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "abi_namespace.cuh"

ROTQ_CUDA_KERNELS_BEGIN

template <class T>
__device__ __forceinline__ float to_float(T x);
template <>
__device__ __forceinline__ float to_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ float to_float<__half>(__half x) {
  return __half2float(x);
}
template <>
__device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

/// x[0..8) <- the 8 elements at p (16-byte aligned).
__device__ __forceinline__ void load_vector(const float* p, float (&x)[8]) {
  const float4 a = reinterpret_cast<const float4*>(p)[0];
  const float4 b = reinterpret_cast<const float4*>(p)[1];
  x[0] = a.x, x[1] = a.y, x[2] = a.z, x[3] = a.w;
  x[4] = b.x, x[5] = b.y, x[6] = b.z, x[7] = b.w;
}

template <class Half>
__device__ __forceinline__ void load_vector(const Half* p, float (&x)[8]) {
  static_assert(sizeof(Half) == 2, "16-bit element types only");
  const uint4 raw = *reinterpret_cast<const uint4*>(p);
  const std::uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    Half pair[2];
    memcpy(pair, &words[i], sizeof pair);
    x[2 * i] = to_float(pair[0]);
    x[2 * i + 1] = to_float(pair[1]);
  }
}

/// The 8 elements at p (16-byte aligned) <- x, rounded to the element type.
__device__ __forceinline__ void store_vector(float* p, const float (&x)[8]) {
  reinterpret_cast<float4*>(p)[0] = make_float4(x[0], x[1], x[2], x[3]);
  reinterpret_cast<float4*>(p)[1] = make_float4(x[4], x[5], x[6], x[7]);
}

template <class Half>
__device__ __forceinline__ void store_vector(Half* p, const float (&x)[8]) {
  static_assert(sizeof(Half) == 2, "16-bit element types only");
  std::uint32_t words[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const Half pair[2] = {from_float<Half>(x[2 * i]), from_float<Half>(x[2 * i + 1])};
    memcpy(&words[i], pair, sizeof pair);
  }
  *reinterpret_cast<uint4*>(p) = make_uint4(words[0], words[1], words[2], words[3]);
}

/// The first `count` bytes at p (count 1, 2, 4 or 8, at most E, and p aligned to it) <- bytes, in
/// one store.
template <int E>
__device__ __forceinline__ void store_code_bytes(std::uint8_t* p, const std::uint8_t (&bytes)[E],
                                                 int count) {
  if constexpr (E >= 8) {
    if (count == 8) {
      std::uint64_t word;
      memcpy(&word, bytes, 8);
      *reinterpret_cast<std::uint64_t*>(p) = word;
      return;
    }
  }
  if constexpr (E >= 4) {
    if (count == 4) {
      std::uint32_t word;
      memcpy(&word, bytes, 4);
      *reinterpret_cast<std::uint32_t*>(p) = word;
      return;
    }
  }
  if (count == 2) {
    std::uint16_t word;
    memcpy(&word, bytes, 2);
    *reinterpret_cast<std::uint16_t*>(p) = word;
    return;
  }
  *p = bytes[0];
}

ROTQ_CUDA_KERNELS_END
