#pragma once
// The arithmetic of the GPU Hadamard transform, on registers, for host and device: the butterflies
// inside a vector and across register slots, the half of a butterfly a thread computes when its
// partner sits in another thread, and the signed accumulation that applies H_m. Only additions,
// subtractions and products by +-1 (exact): however a compiler contracts or schedules them, every
// build computes the same bits, so a fused kernel transforms exactly as the unfused one does.

#include <cstdint>

#include "rotq/config.hpp"

namespace rotq {
namespace cuda {
namespace detail {

/// (a, b) <- (a + b, a - b): a holds the lower index.
ROTQ_HOST_DEVICE void butterfly(float& a, float& b) {
  const float sum = a + b;
  const float difference = a - b;
  a = sum;
  b = difference;
}

/// The butterfly stages on the index bits inside one vector of E elements (E a power of two).
template <int E>
ROTQ_HOST_DEVICE void butterfly_vector(float (&x)[E]) {
  ROTQ_UNROLL
  for (int h = 1; h < E; h *= 2) {
    ROTQ_UNROLL
    for (int i = 0; i < E; ++i)
      if ((i & h) == 0) butterfly(x[i], x[i + h]);
  }
}

/// The butterfly stages on the slot bits: slots k and k + h (h < column_slots, k without bit h)
/// hold the same element of vectors h * U apart. Slots >= column_slots hold nothing.
template <int Slots, int E>
ROTQ_HOST_DEVICE void butterfly_slots(float (&x)[Slots][E], int column_slots) {
  static_assert((Slots & (Slots - 1)) == 0, "Slots must be a power of two");
  ROTQ_UNROLL
  for (int h = 1; h < Slots; h *= 2) {
    if (h >= column_slots) break;
    ROTQ_UNROLL
    for (int k = 0; k < Slots; ++k) {
      if ((k & h) != 0 || k >= column_slots) continue;
      ROTQ_UNROLL
      for (int e = 0; e < E; ++e) butterfly(x[k][e], x[k + h][e]);
    }
  }
}

/// Words of one row of a packed sign table of order m: bit j of word b / 32 is column b.
ROTQ_HOST_DEVICE constexpr int sign_words(int m) { return (m + 31) / 32; }

/// +1 or -1: entry `bit` of a packed sign word (bit set means -1).
ROTQ_HOST_DEVICE float sign_of(std::uint32_t word, int bit) {
  return ((word >> bit) & 1u) != 0 ? -1.0f : 1.0f;
}

/// y + sign * z, sign = +-1: the product is exact, so this is y +- z rounded once, fused or not.
/// On the device it is one explicit fused multiply-add: the library is compiled with -fmad=false
/// (quant_math.hpp's products must not be contracted), and this is the H_m mixing's inner loop.
ROTQ_HOST_DEVICE float add_signed(float y, float sign, float z) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(sign, z, y);
#else
  return y + sign * z;
#endif
}

/// This thread's half of a butterfly whose other element (`partner`) another thread holds:
/// a + b for the lower index, a - b (= partner - own) for the upper one. `own_sign` is -1 for the
/// upper index, else +1: partner + own_sign * own is one rounded addition either way (add_signed),
/// and on the device one instruction rather than an addition, a subtraction and a select.
ROTQ_HOST_DEVICE float butterfly_half(float own, float partner, float own_sign) {
  return add_signed(partner, own_sign, own);
}

/// y += sign * z element by element (add_signed).
template <int E>
ROTQ_HOST_DEVICE void accumulate_signed(float (&y)[E], float sign, const float (&z)[E]) {
  ROTQ_UNROLL
  for (int e = 0; e < E; ++e) y[e] = add_signed(y[e], sign, z[e]);
}

/// x <- x with its sign flipped when `negative`: exact, and what the random Hadamard signs do.
ROTQ_HOST_DEVICE float flip_sign(float x, bool negative) { return negative ? -x : x; }

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
