#pragma once
// Helpers of the GPU tests: device arrays that free themselves, rows of any element type moved
// between host floats and device bytes (rounded to nearest even, as the kernels round), and
// REQUIRE_OK for rotq::cuda::status.

#include <rotq/cuda.hpp>

#include <catch2/catch.hpp>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#define REQUIRE_OK(expression)                              \
  do {                                                      \
    const ::rotq::cuda::status rotq_status_ = (expression); \
    INFO(rotq_status_.message());                           \
    REQUIRE(rotq_status_.ok());                             \
  } while (false)

#define REQUIRE_CUDA(expression)                       \
  do {                                                 \
    const cudaError_t rotq_cuda_error_ = (expression); \
    INFO(cudaGetErrorString(rotq_cuda_error_));        \
    REQUIRE(rotq_cuda_error_ == cudaSuccess);          \
  } while (false)

namespace rotq_test {

/// `bytes` bytes of device memory, zero-filled, freed on destruction.
class device_bytes {
public:
  explicit device_bytes(std::size_t bytes) : bytes_(bytes) {
    REQUIRE_CUDA(cudaMalloc(&data_, bytes == 0 ? 1 : bytes));
    REQUIRE_CUDA(cudaMemset(data_, 0, bytes == 0 ? 1 : bytes));
  }
  ~device_bytes() { cudaFree(data_); }
  device_bytes(const device_bytes&) = delete;
  device_bytes& operator=(const device_bytes&) = delete;

  template <class T = void>
  T* get() const {
    return static_cast<T*>(data_);
  }
  std::size_t size() const { return bytes_; }

  void upload(const void* host, std::size_t bytes, std::size_t offset = 0) {
    REQUIRE(offset + bytes <= bytes_);
    REQUIRE_CUDA(
        cudaMemcpy(static_cast<char*>(data_) + offset, host, bytes, cudaMemcpyHostToDevice));
  }
  template <class T>
  std::vector<T> download() const {
    std::vector<T> host(bytes_ / sizeof(T));
    REQUIRE_CUDA(cudaDeviceSynchronize());
    REQUIRE_CUDA(cudaMemcpy(host.data(), data_, host.size() * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// value rounded to `type` and back (what the kernels read from such rows).
inline float round_to(rotq::cuda::element_type type, float value) {
  switch (type) {
    case rotq::cuda::element_type::float16: return __half2float(__float2half_rn(value));
    case rotq::cuda::element_type::bfloat16: return __bfloat162float(__float2bfloat16_rn(value));
    case rotq::cuda::element_type::float32: break;
  }
  return value;
}

/// Host floats as bytes of `type`, each rounded to nearest even.
inline std::vector<unsigned char> encode(const std::vector<float>& values,
                                         rotq::cuda::element_type type) {
  const std::size_t size = rotq::cuda::element_bytes(type);
  std::vector<unsigned char> bytes(values.size() * size);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (type == rotq::cuda::element_type::float16) {
      const __half h = __float2half_rn(values[i]);
      std::memcpy(bytes.data() + i * size, &h, size);
    } else if (type == rotq::cuda::element_type::bfloat16) {
      const __nv_bfloat16 b = __float2bfloat16_rn(values[i]);
      std::memcpy(bytes.data() + i * size, &b, size);
    } else {
      std::memcpy(bytes.data() + i * size, &values[i], size);
    }
  }
  return bytes;
}

inline std::vector<float> decode(const std::vector<unsigned char>& bytes,
                                 rotq::cuda::element_type type) {
  const std::size_t size = rotq::cuda::element_bytes(type);
  std::vector<float> values(bytes.size() / size);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (type == rotq::cuda::element_type::float16) {
      __half h;
      std::memcpy(&h, bytes.data() + i * size, size);
      values[i] = __half2float(h);
    } else if (type == rotq::cuda::element_type::bfloat16) {
      __nv_bfloat16 b;
      std::memcpy(&b, bytes.data() + i * size, size);
      values[i] = __bfloat162float(b);
    } else {
      std::memcpy(&values[i], bytes.data() + i * size, size);
    }
  }
  return values;
}

/// rows x stride values (the first n of each row gaussian, the padding a marker), already rounded
/// to `type`, so the host reference sees exactly what the kernel reads, and the padding reads back
/// as it was written (1234 is not a bfloat16: it would come back as 1232).
inline std::vector<float> gaussian_rows(std::size_t rows, std::size_t n, std::size_t stride,
                                        rotq::cuda::element_type type, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  std::vector<float> x(rows * stride, round_to(type, 1234.0f));
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < n; ++c) x[r * stride + c] = round_to(type, dist(gen));
  return x;
}

/// Rows of `type` on the device holding `values` (rows x stride).
struct device_rows {
  rotq::cuda::element_type type;
  std::size_t stride;
  device_bytes memory;

  device_rows(const std::vector<float>& values, rotq::cuda::element_type type_, std::size_t stride_)
      : type(type_), stride(stride_), memory(values.size() * rotq::cuda::element_bytes(type_)) {
    const std::vector<unsigned char> bytes = encode(values, type);
    memory.upload(bytes.data(), bytes.size());
  }
  rotq::cuda::device_input input() const { return {memory.get(), type, stride}; }
  rotq::cuda::device_output output() { return {memory.get(), type, stride}; }
  std::vector<float> values() const { return decode(memory.download<unsigned char>(), type); }
};

inline const char* name_of(rotq::cuda::element_type type) {
  switch (type) {
    case rotq::cuda::element_type::float16: return "float16";
    case rotq::cuda::element_type::bfloat16: return "bfloat16";
    case rotq::cuda::element_type::float32: break;
  }
  return "float32";
}

/// Unit roundoff of a type: half the distance from 1 to the next value.
inline double unit_roundoff(rotq::cuda::element_type type) {
  switch (type) {
    case rotq::cuda::element_type::float16: return 0x1p-11;
    case rotq::cuda::element_type::bfloat16: return 0x1p-8;
    case rotq::cuda::element_type::float32: break;
  }
  return 0x1p-24;
}

}  // namespace rotq_test
