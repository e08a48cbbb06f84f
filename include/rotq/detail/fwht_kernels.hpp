#pragma once
// The tables of FWHT kernels for one instruction set, and the choice of table at run time.

#include <cstddef>
#include <type_traits>

#include "rotq/detail/dense_hadamard.hpp"
#include "rotq/detail/fwht_avx2.hpp"
#include "rotq/detail/fwht_avx512.hpp"
#include "rotq/detail/fwht_neon.hpp"
#include "rotq/detail/fwht_portable_chunks.hpp"
#include "rotq/detail/hadamard_base.hpp"
#include "rotq/detail/kernel_dispatch.hpp"

namespace rotq {
namespace detail {

template <class T>
using dense_kernel = void (*)(const dense_sign_columns& h, T* x, T scale);
template <class T>
using circulant_kernel = void (*)(const circulant_plan& plan, const T* z, T* y, std::size_t p,
                                  T scale, T* work);
template <class T>
using bordered_kernel = void (*)(const bordered_circulant_plan& plan, const T* z, T* y,
                                 std::size_t p, T scale, T* work);

/// A back end's kernel of the kind Kernel where T is float; none for double (the dense, the
/// circulant and the bordered kernels are for float only).
template <class T, template <class> class Kernel>
constexpr Kernel<T> for_float_only(Kernel<float> kernel) {
  if constexpr (std::is_same_v<T, float>)
    return kernel;
  else
    return nullptr;
}

/// The steps of every transform. Each back end provides them with the contracts of the portable
/// versions: sylvester_chunks_portable, apply_base_portable, apply_paired_base_portable,
/// apply_dense_portable, apply_circulant_portable and apply_bordered_circulant_portable.
template <class T>
struct fwht_kernels {
  void (*sylvester)(const T* in, T* out, std::size_t log2n, std::size_t count, T scale,
                    chunk_source source);
  void (*apply_base)(const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale,
                     T* sums);
  void (*apply_paired_base)(const base_group_plan& plan, const T* z, T* y, std::size_t p, T scale,
                            T* sums);
  dense_kernel<T> apply_dense;          ///< float only: where hadamard_base::dense gives columns
  circulant_kernel<T> apply_circulant;  ///< float only: where hadamard_base::circulant gives a plan
  bordered_kernel<T> apply_bordered;    ///< float only: where hadamard_base::bordered gives a plan
};

/// fwht_kernels<T> for each instruction set of this build (a family for active_kernels).
template <class T>
struct fwht_tables {
  using table = fwht_kernels<T>;

  static const table& portable() {
    static const table kernels{
        &sylvester_chunks_portable<T, T, T>,
        &apply_base_portable<T>,
        &apply_paired_base_portable<T>,
        for_float_only<T, dense_kernel>(&apply_dense_portable),
        for_float_only<T, circulant_kernel>(&apply_circulant_portable),
        for_float_only<T, bordered_kernel>(&apply_bordered_circulant_portable)};
    return kernels;
  }
#if ROTQ_HAS_X86_DISPATCH
  static const table& avx2() {
    static const table kernels{&sylvester_avx2<T>,
                               &apply_base_avx2<T>,
                               &apply_paired_base_avx2<T>,
                               for_float_only<T, dense_kernel>(&apply_dense_avx2),
                               for_float_only<T, circulant_kernel>(&apply_circulant_avx2),
                               for_float_only<T, bordered_kernel>(&apply_bordered_avx2)};
    return kernels;
  }
  static const table& avx512() {
    static const table kernels{&sylvester_avx512<T>,
                               &apply_base_avx512<T>,
                               &apply_paired_base_avx512<T>,
                               for_float_only<T, dense_kernel>(&apply_dense_avx512),
                               for_float_only<T, circulant_kernel>(&apply_circulant_avx512),
                               for_float_only<T, bordered_kernel>(&apply_bordered_avx512)};
    return kernels;
  }
#endif
#if ROTQ_HAS_NEON
  static const table& neon() {
    static const table kernels{&sylvester_neon<T>,
                               &apply_base_neon<T>,
                               &apply_paired_base_neon<T>,
                               for_float_only<T, dense_kernel>(&apply_dense_neon),
                               for_float_only<T, circulant_kernel>(&apply_circulant_neon),
                               for_float_only<T, bordered_kernel>(&apply_bordered_neon)};
    return kernels;
  }
#endif
};

/// The Sylvester kernel for rows of a storage type S (Eigen::half, Eigen::bfloat16), computed in
/// float: it widens the row as its first pass loads it and rounds as its last pass stores it.
template <class S>
struct storage_fwht_kernels {
  void (*sylvester)(const S* in, S* out, std::size_t log2n, std::size_t count, float scale,
                    chunk_source source);
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
