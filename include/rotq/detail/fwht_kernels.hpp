#pragma once
// The tables of FWHT kernels for one instruction set, and the choice of table at run time.

#include <cstddef>

#include "rotq/detail/fwht_avx2.hpp"
#include "rotq/detail/fwht_avx512.hpp"
#include "rotq/detail/fwht_neon.hpp"
#include "rotq/detail/fwht_portable_chunks.hpp"
#include "rotq/detail/hadamard_base.hpp"
#include "rotq/detail/kernel_dispatch.hpp"

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

/// fwht_kernels<T> for each instruction set of this build (a family for active_kernels).
template <class T>
struct fwht_tables {
  using table = fwht_kernels<T>;

  static const table& portable() {
    static const table kernels{&sylvester_chunks_portable<T, T, T>, &apply_base_portable<T>,
                               &apply_paired_base_portable<T>};
    return kernels;
  }
#if ROTQ_HAS_X86_DISPATCH
  static const table& avx2() {
    static const table kernels{&sylvester_avx2<T>, &apply_base_avx2<T>, &apply_paired_base_avx2<T>};
    return kernels;
  }
  static const table& avx512() {
    static const table kernels{&sylvester_avx512<T>, &apply_base_avx512<T>,
                               &apply_paired_base_avx512<T>};
    return kernels;
  }
#endif
#if ROTQ_HAS_NEON
  static const table& neon() {
    static const table kernels{&sylvester_neon<T>, &apply_base_neon<T>, &apply_paired_base_neon<T>};
    return kernels;
  }
#endif
};

/// The Sylvester kernel for rows of a storage type S (Eigen::half, Eigen::bfloat16), computed in
/// float: it widens the row as its first pass loads it and rounds as its last pass stores it.
template <class S>
struct storage_fwht_kernels {
  void (*sylvester)(const S* in, S* out, std::size_t log2n, std::size_t count, float scale);
};

/// storage_fwht_kernels<S> for each instruction set of this build (a family for active_kernels).
template <class S>
struct storage_fwht_tables {
  using table = storage_fwht_kernels<S>;

  static const table& portable() {
    static const table kernels{&sylvester_chunks_portable<S, S, float>};
    return kernels;
  }
#if ROTQ_HAS_X86_DISPATCH
  static const table& avx2() {
    static const table kernels{&sylvester_avx2<float, S, S>};
    return kernels;
  }
  static const table& avx512() {
    static const table kernels{&sylvester_avx512<float, S, S>};
    return kernels;
  }
#endif
#if ROTQ_HAS_NEON
  static const table& neon() {
    static const table kernels{&sylvester_neon<float, S, S>};
    return kernels;
  }
#endif
};

/// The kernels of the active instruction set.
template <class T>
const fwht_kernels<T>& active_fwht_kernels() {
  return active_kernels<fwht_tables<T>>();
}

}  // namespace detail
}  // namespace rotq
