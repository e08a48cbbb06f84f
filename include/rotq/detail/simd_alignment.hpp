#pragma once
// Cache-line alignment for the memory the SIMD kernels store whole registers into: a register
// that straddles two lines costs about twice as much to store.

#include <cstddef>
#include <cstdint>

namespace rotq {
namespace detail {

constexpr std::size_t cache_line_bytes = 64;

/// Elements of T to allocate beyond a buffer's size so that cache_line_aligned stays inside it.
template <class T>
constexpr std::size_t cache_line_slack = cache_line_bytes / sizeof(T);

/// p rounded up to the next cache line.
template <class T>
T* cache_line_aligned(T* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  return reinterpret_cast<T*>((address + cache_line_bytes - 1) / cache_line_bytes *
                              cache_line_bytes);
}

}  // namespace detail
}  // namespace rotq
