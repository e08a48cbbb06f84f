#pragma once
// Device memory owned by a plan: allocated and filled once when the plan is built (synchronously,
// with rotq::error on failure), freed with it.

#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>

#include "rotq/error.hpp"

namespace rotq {
namespace cuda {
namespace detail {

class device_buffer {
public:
  device_buffer() = default;

  /// A copy of `bytes` bytes of host memory; nothing for 0 bytes. `what` names the table in the
  /// error message.
  device_buffer(const void* host, std::size_t bytes, const char* what) {
    if (bytes == 0) return;
    cudaError_t e = cudaMalloc(&data_, bytes);
    ROTQ_EXPECTS(e == cudaSuccess, "cudaMalloc of " << bytes << " bytes for " << what
                                                    << " failed: " << cudaGetErrorString(e));
    if (host != nullptr) {
      e = cudaMemcpy(data_, host, bytes, cudaMemcpyHostToDevice);
      if (e != cudaSuccess) {
        cudaFree(data_);
        data_ = nullptr;
        ROTQ_EXPECTS(false,
                     "copying " << what << " to the device failed: " << cudaGetErrorString(e));
      }
    }
  }

  ~device_buffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  device_buffer(device_buffer&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}
  device_buffer& operator=(device_buffer&& other) noexcept {
    std::swap(data_, other.data_);
    return *this;
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;

  template <class T>
  T* get() const {
    return static_cast<T*>(data_);
  }

private:
  void* data_ = nullptr;
};

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
