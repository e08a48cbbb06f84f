#pragma once
// Launching the kernel templates for given parameters: grid and CTA shape, the dynamic shared
// memory (opted into above 48 KiB, once per kernel and device), and the launch error. No
// allocation, no synchronisation. The library instantiates these with its tile configuration; a
// benchmark may sweep others.

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "abi_namespace.cuh"
#include "block_rotate_kernel.cuh"
#include "rows_kernel.cuh"
#include "staged_kernel.cuh"

ROTQ_CUDA_KERNELS_BEGIN

/// The library's tile configurations of rows_kernel (see detail::library_row_slots).
constexpr int row_slots = detail::library_row_slots;
constexpr int row_cta_threads = detail::library_row_cta_threads;
constexpr int row_max_threads = detail::max_cta_threads;

/// Dynamic shared memory every kernel may use without opting in.
constexpr std::size_t default_shared_bytes = 48 * 1024;
/// Devices (by ordinal) whose opt-in each kernel remembers; on others it opts in at every launch.
constexpr int remembered_devices = 32;

/// Lets Kernel use `bytes` of dynamic shared memory on the current device. The opt-in is a
/// function attribute, not a stream operation, so it is allowed while a stream is being captured;
/// but it is a driver call that may wait for copies in flight, so each kernel opts in once per
/// device, to the largest size asked so far. The mutex keeps the attribute equal to the remembered size
/// when threads race. cudaDeviceReset clears the attribute but not this memory: like the plans'
/// device tables, rotq::cuda does not survive a device reset.
template <auto Kernel>
cudaError_t allow_shared_bytes(std::size_t bytes) {
  if (bytes <= default_shared_bytes) return cudaSuccess;
  static std::atomic<std::size_t> allowed[remembered_devices] = {};
  static std::mutex setting;
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return e;
  std::atomic<std::size_t>* remembered =
      device >= 0 && device < remembered_devices ? &allowed[device] : nullptr;
  if (remembered != nullptr && remembered->load(std::memory_order_acquire) >= bytes)
    return cudaSuccess;
  const std::lock_guard<std::mutex> lock(setting);
  if (remembered != nullptr && remembered->load(std::memory_order_relaxed) >= bytes)
    return cudaSuccess;
  e = cudaFuncSetAttribute(reinterpret_cast<const void*>(Kernel),
                           cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (e == cudaSuccess && remembered != nullptr)
    remembered->store(bytes, std::memory_order_release);
  return e;
}

/// Launches Kernel on `ctas` CTAs of `threads` threads with `shared_bytes` of dynamic shared
/// memory; the kernel's single parameter is the struct at `params_address`, copied at the launch.
template <auto Kernel>
cudaError_t launch_with_shared(std::int64_t ctas, int threads, std::size_t shared_bytes,
                               cudaStream_t stream, const void* params_address) {
  if (ctas <= 0) return cudaSuccess;
  if (ctas > 0x7fffffff) return cudaErrorInvalidConfiguration;
  cudaError_t e = allow_shared_bytes<Kernel>(shared_bytes);
  if (e == cudaSuccess) {
    void* args[] = {const_cast<void*>(params_address)};
    e = cudaLaunchKernel(reinterpret_cast<const void*>(Kernel), dim3(static_cast<unsigned>(ctas)),
                         dim3(static_cast<unsigned>(threads)), args, shared_bytes, stream);
  }
  // The error is reported through the status; leave none behind for the caller's next
  // cudaGetLastError.
  if (e != cudaSuccess) (void)cudaGetLastError();
  return e;
}

/// rows_kernel<Slots, MaxThreads, In, quantize> for p (whose tiling was chosen for Slots).
template <int Slots, int MaxThreads, class In>
cudaError_t launch_rows_with(const detail::rows_params& p, bool quantize, cudaStream_t stream) {
  const detail::row_tiling& t = p.tiling;
  const int threads = t.rows_per_cta * t.row_threads;
  if (threads > MaxThreads || detail::used_slots(t) > Slots) return cudaErrorInvalidConfiguration;
  const std::int64_t ctas = (p.io.rows + t.rows_per_cta - 1) / t.rows_per_cta;
  const std::size_t bytes = static_cast<std::size_t>(p.smem.total_floats) * sizeof(float);
  return quantize ? launch_with_shared<rows_kernel<Slots, MaxThreads, In, true>>(ctas, threads,
                                                                                 bytes, stream, &p)
                  : launch_with_shared<rows_kernel<Slots, MaxThreads, In, false>>(
                        ctas, threads, bytes, stream, &p);
}

/// The library's configurations: the 256-thread one when the CTA fits, else the 1024-thread one.
template <class In>
cudaError_t launch_rows(const detail::rows_params& p, bool quantize, cudaStream_t stream) {
  return p.tiling.rows_per_cta * p.tiling.row_threads <= row_cta_threads
             ? launch_rows_with<row_slots, row_cta_threads, In>(p, quantize, stream)
             : launch_rows_with<row_slots, row_max_threads, In>(p, quantize, stream);
}

template <class In>
cudaError_t launch_staged(const detail::staged_params& p, bool quantize, cudaStream_t stream) {
  const detail::staged_shape& s = p.shape;
  // The kernel finds a thread's row as threadIdx.x / row_threads: the CTA is exactly the shape.
  const int threads = s.rows_per_cta * s.row_threads;
  if (threads > detail::staged_cta_threads) return cudaErrorInvalidConfiguration;
  const std::int64_t ctas = (p.io.rows + s.rows_per_cta - 1) / s.rows_per_cta;
  const std::size_t bytes = static_cast<std::size_t>(s.total_floats) * sizeof(float);
  return quantize ? launch_with_shared<staged_kernel<In, true>>(ctas, threads, bytes, stream, &p)
                  : launch_with_shared<staged_kernel<In, false>>(ctas, threads, bytes, stream, &p);
}

template <class In>
cudaError_t launch_block_rotate(const detail::block_params& p, bool quantize, cudaStream_t stream) {
  const detail::block_shape& s = p.shape;
  const int threads = s.rows_per_cta * s.row_threads;
  if (threads > detail::block_cta_threads) return cudaErrorInvalidConfiguration;
  const std::int64_t ctas = (p.io.rows + s.rows_per_cta - 1) / s.rows_per_cta;
  const std::size_t bytes = static_cast<std::size_t>(s.total_floats) * sizeof(float);
  return quantize
             ? launch_with_shared<block_rotate_kernel<In, true>>(ctas, threads, bytes, stream, &p)
             : launch_with_shared<block_rotate_kernel<In, false>>(ctas, threads, bytes, stream, &p);
}

ROTQ_CUDA_KERNELS_END
