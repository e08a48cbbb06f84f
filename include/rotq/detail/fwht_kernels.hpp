#pragma once
// The table of FWHT kernels for one instruction set, and the choice of table at run time.

#include <cstddef>

#include "rotq/detail/fwht_portable.hpp"
#include "rotq/isa.hpp"

namespace rotq {
namespace detail {

/// The two steps of every transform. Each back end provides both with the contracts of the
/// portable versions: sylvester_portable and apply_base_portable.
template <class T>
struct fwht_kernels {
  void (*sylvester)(const T* in, T* out, std::size_t log2n, T scale);
  void (*apply_base)(const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale,
                     T* sums);
};

template <class T>
const fwht_kernels<T>& portable_fwht_kernels() {
  static const fwht_kernels<T> kernels{&sylvester_portable<T>, &apply_base_portable<T>};
  return kernels;
}

/// The kernels of the active instruction set (rotq::active_isa).
template <class T>
const fwht_kernels<T>& active_fwht_kernels() {
  return portable_fwht_kernels<T>();
}

}  // namespace detail
}  // namespace rotq
