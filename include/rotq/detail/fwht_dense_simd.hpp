#pragma once
// The dense product of small float transforms (dense_hadamard.hpp) on a back end's registers:
// each output row held in R registers, K partial sums of it (dense_partial_sums), and per column
// one broadcast element and R multiply-adds with the column's registers. R and K are compile-time
// constants, so the R * K accumulators stay in registers.

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "rotq/config.hpp"
#include "rotq/detail/dense_hadamard.hpp"
#include "rotq/detail/fwht_simd.hpp"

namespace rotq {
namespace detail {

/// The largest n that keeps 4 and 2 partial sums (dense_partial_sums).
constexpr std::size_t dense_four_sums_limit = 16;
constexpr std::size_t dense_two_sums_limit = 48;
static_assert(dense_partial_sums(dense_four_sums_limit) == 4 &&
                  dense_partial_sums(dense_four_sums_limit + 1) == 2 &&
                  dense_partial_sums(dense_two_sums_limit) == 2 &&
                  dense_partial_sums(dense_two_sums_limit + 1) == 1,
              "the kernels below are instantiated for these ranges of n");

/// Every lane of r <- *from. With GCC the x86 back ends broadcast from memory as written: GCC
/// built the register lane by lane (simd_broadcast's loop, or a shuffle of lane 0: four inserts a
/// half), these kernels being compiled before they are inlined into a target that has the
/// broadcast. Clang emits the broadcast itself (and rejects the asm outside an AVX function).
template <class Simd, class Reg = typename Simd::reg>
ROTQ_FORCEINLINE void broadcast_element(Reg& r, const float* from) {
#if !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
  if constexpr (Simd::inline_assembly) {
    asm("vbroadcastss {%1, %0|%0, %1}" : "=v"(r) : "m"(*from));
    return;
  }
#endif
  simd_broadcast(r, *from);
}

template <class Simd, std::size_t R, std::size_t K>
ROTQ_FORCEINLINE void apply_dense_registers(const dense_sign_columns& h, float* x, float scale) {
  using reg = typename Simd::reg;
  constexpr std::size_t width = simd_width<reg>;
  const std::size_t n = h.order(), stride = h.stride(), span = n / K;  // n: a multiple of 4
  const float* columns = h.columns();
  reg sums[K][R];
  reg element, column;
  // The first column of each sum: a product by +-1, exact.
  ROTQ_UNROLL
  for (std::size_t k = 0; k < K; ++k) {
    broadcast_element<Simd>(element, x + k * span);
    ROTQ_UNROLL
    for (std::size_t r = 0; r < R; ++r) {
      simd_load(column, columns + k * span * stride + r * width);
      sums[k][r] = column * element;
    }
  }
  for (std::size_t j = 1; j < span; ++j) {
    ROTQ_UNROLL
    for (std::size_t k = 0; k < K; ++k) {
      broadcast_element<Simd>(element, x + k * span + j);
      ROTQ_UNROLL
      for (std::size_t r = 0; r < R; ++r) {
        simd_load(column, columns + (k * span + j) * stride + r * width);
        // Through a copy: an asm operand bound to the array element itself kept the whole array
        // in memory (GCC does not split an array whose element an asm writes).
        reg sum = sums[k][r];
        multiply_add<Simd>(sum, column, element);
        sums[k][r] = sum;
      }
    }
  }
  // Every element of x was read above, so the row can be written over: whole registers where
  // they fit, the last one's lanes below n four floats at a time (n is a multiple of 4; a copy of
  // a length known only at run time became `rep movsq`, a third of the time for n = 12).
  reg factor;
  simd_broadcast(factor, scale);
  ROTQ_UNROLL
  for (std::size_t r = 0; r < R; ++r) {
    reg total = sums[0][r];
    ROTQ_UNROLL
    for (std::size_t k = 1; k < K; ++k) total = total + sums[k][r];
    total = total * factor;
    if (r + 1 < R || n == R * width) {
      simd_store(x + r * width, total);
    } else {
      float last[width];
      simd_store(last, total);
      for (std::size_t i = r * width; i < n; i += 4) std::memcpy(x + i, last + i - r * width, 16);
    }
  }
}

/// apply_dense_registers<Simd, R, K> for the R of this n, among First + 0, First + 1, ...
template <class Simd, std::size_t K, std::size_t First, std::size_t... Offset>
ROTQ_FORCEINLINE void apply_dense_of_registers(const dense_sign_columns& h, float* x, float scale,
                                               std::index_sequence<Offset...>) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  const std::size_t registers = (h.order() + width - 1) / width;
  (void)((registers == First + Offset &&
          (apply_dense_registers<Simd, First + Offset, K>(h, x, scale), true)) ||
         ...);
}

/// The registers of n from lo to hi (the n that keep K partial sums).
template <class Simd, std::size_t K, std::size_t Lo, std::size_t Hi>
ROTQ_FORCEINLINE void apply_dense_with_sums(const dense_sign_columns& h, float* x, float scale) {
  constexpr std::size_t width = simd_width<typename Simd::reg>;
  constexpr std::size_t first = (Lo + width - 1) / width, last = (Hi + width - 1) / width;
  apply_dense_of_registers<Simd, K, first>(h, x, scale,
                                           std::make_index_sequence<last - first + 1>());
}

/// apply_dense_portable's contract on the back end Simd (float registers).
template <class Simd>
ROTQ_FORCEINLINE void apply_dense_simd(const dense_sign_columns& h, float* x, float scale) {
  static_assert(std::is_same_v<typename Simd::scalar, float>, "the dense product is for float");
  switch (dense_partial_sums(h.order())) {
    case 4: apply_dense_with_sums<Simd, 4, 1, dense_four_sums_limit>(h, x, scale); break;
    case 2:
      apply_dense_with_sums<Simd, 2, dense_four_sums_limit + 1, dense_two_sums_limit>(h, x, scale);
      break;
    default:
      apply_dense_with_sums<Simd, 1, dense_two_sums_limit + 1, dense_fwht_limit>(h, x, scale);
  }
}

}  // namespace detail
}  // namespace rotq
