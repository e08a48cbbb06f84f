#pragma once
// Hadamard matrices of the paired form H = [[A, A - 2I], [A - 2I, -A]], applied in half the work.
//
// Every Paley II matrix has this form: H = P (x) C + Z (x) I with P = [[1, 1], [1, -1]],
// Z = [[1, -1], [-1, -1]] and C a conference matrix, so A = C + I. For the halves z0, z1 of the
// chunks (m / 2 each),
//   y0 = A z0 + (A - 2I) z1 = A (z0 + z1) - 2 z1,   y1 = (A - 2I) z0 - A z1 = A (z0 - z1) - 2 z0,
// two products with A of order m / 2: (m/2)^2 * 2 = m^2 / 2 sign additions instead of m^2.
// H^T = [[A^T, A^T - 2I], [A^T - 2I, -A^T]] has the same form.

#include <cstddef>

#include "rotq/detail/hadamard_constructions.hpp"

namespace rotq {
namespace detail {

/// Whether the m x m signs `h` (row-major) have the paired form above.
inline bool has_paired_form(const sign_matrix& h, std::size_t m) {
  if (m < 4 || m % 2 != 0) return false;
  const std::size_t half = m / 2;
  for (std::size_t a = 0; a < half; ++a)
    for (std::size_t b = 0; b < half; ++b) {
      const int quarter = h[a * m + b] - (a == b ? 2 : 0);  // A - 2I
      if (h[a * m + half + b] != quarter || h[(half + a) * m + b] != quarter ||
          h[(half + a) * m + half + b] != -h[a * m + b])
        return false;
    }
  return true;
}

/// A, the top-left quarter of a paired-form matrix, row-major.
inline sign_matrix paired_quarter(const sign_matrix& h, std::size_t m) {
  const std::size_t half = m / 2;
  sign_matrix quarter(half * half);
  for (std::size_t a = 0; a < half; ++a)
    for (std::size_t b = 0; b < half; ++b) quarter[a * half + b] = h[a * m + b];
  return quarter;
}

/// The sums and differences of the halves z0 = z[0, count), z1 = z[count, 2 count):
/// out[i] = z0[i] + z1[i], out[count + i] = z0[i] - z1[i]. z and out must not overlap.
template <class T>
void paired_split_portable(const T* z, T* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    out[i] = z[i] + z[count + i];
    out[count + i] = z[i] - z[count + i];
  }
}

/// y0 = scale (w0 - 2 z1), y1 = scale (w1 - 2 z0) for halves of `count` elements, where
/// w = [A (z0 + z1); A (z0 - z1)]: A applied to paired_split_portable's halves. y may be w; it
/// must not overlap z.
template <class T>
void paired_join_portable(const T* w, const T* z, T* y, std::size_t count, T scale) {
  for (std::size_t i = 0; i < count; ++i) {
    y[i] = (w[i] - T(2) * z[count + i]) * scale;
    y[count + i] = (w[count + i] - T(2) * z[i]) * scale;
  }
}

}  // namespace detail
}  // namespace rotq
