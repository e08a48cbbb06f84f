#pragma once
// The table of FWHT kernels for one instruction set, and the choice of table at run time.

#include <cstddef>

#include "rotq/detail/fwht_avx2.hpp"
#include "rotq/detail/fwht_avx512.hpp"
#include "rotq/detail/fwht_neon.hpp"
#include "rotq/detail/fwht_portable_chunks.hpp"
#include "rotq/detail/hadamard_base.hpp"
#include "rotq/isa.hpp"

namespace rotq {
namespace detail {

/// The steps of every transform. Each back end provides them with the contracts of the portable
/// versions: sylvester_chunks_portable, apply_base_portable and apply_paired_base_portable.
template <class T>
struct fwht_kernels {
  void (*sylvester)(const T* in, T* out, std::size_t log2n, std::size_t count, T scale);
  void (*apply_base)(const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale,
                     T* sums);
  void (*apply_paired_base)(const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale,
                            T* sums);
};

template <class T>
const fwht_kernels<T>& portable_fwht_kernels() {
  static const fwht_kernels<T> kernels{&sylvester_chunks_portable<T>, &apply_base_portable<T>,
                                       &apply_paired_base_portable<T>};
  return kernels;
}

#if ROTQ_HAS_X86_DISPATCH
template <class T>
const fwht_kernels<T>& avx2_fwht_kernels() {
  static const fwht_kernels<T> kernels{&sylvester_avx2<T>, &apply_base_avx2<T>,
                                       &apply_paired_base_avx2<T>};
  return kernels;
}

template <class T>
const fwht_kernels<T>& avx512_fwht_kernels() {
  static const fwht_kernels<T> kernels{&sylvester_avx512<T>, &apply_base_avx512<T>,
                                       &apply_paired_base_avx512<T>};
  return kernels;
}
#endif

#if ROTQ_HAS_NEON
template <class T>
const fwht_kernels<T>& neon_fwht_kernels() {
  static const fwht_kernels<T> kernels{&sylvester_neon<T>, &apply_base_neon<T>,
                                       &apply_paired_base_neon<T>};
  return kernels;
}
#endif

/// The kernels of the active instruction set (rotq::active_isa), looked up on every call so that
/// set_isa takes effect at once; the lookup is an atomic load and a switch.
template <class T>
const fwht_kernels<T>& active_fwht_kernels() {
#if ROTQ_HAS_X86_DISPATCH
  switch (active_isa()) {
    case isa::avx512: return avx512_fwht_kernels<T>();
    case isa::avx2: return avx2_fwht_kernels<T>();
    default: break;
  }
#elif ROTQ_HAS_NEON
  if (active_isa() == isa::neon) return neon_fwht_kernels<T>();
#endif
  return portable_fwht_kernels<T>();
}

}  // namespace detail
}  // namespace rotq
