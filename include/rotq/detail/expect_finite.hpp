#pragma once
// The input check of the offline quantisers: one NaN/Inf (or, for the integer grids, one value
// too close to float's largest) would silently poison a whole group's scale or dequantised values,
// so the host functions reject it and say where it is.

#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>

#include "rotq/error.hpp"
#include "rotq/view.hpp"

namespace rotq {
namespace detail {

/// Throws rotq::error from `function` naming the first element of `x` (called `argument` in the
/// message), by row and column, that is not finite or whose magnitude exceeds `limit`; `reason`
/// completes the message for the limit.
template <class T>
void expect_finite(matrix_view<const T> x, const char* argument, const char* function,
                   T limit = std::numeric_limits<T>::max(), const char* reason = "") {
  for (std::size_t r = 0; r < x.rows; ++r) {
    const T* row = x.row(r);
    for (std::size_t c = 0; c < x.cols; ++c) {
      if (std::isfinite(row[c]) && std::abs(row[c]) <= limit) continue;
      std::ostringstream message;
      message << argument << "(" << r << ", " << c << ") = " << row[c] << " (row " << r
              << ", element " << c << "), expected ";
      if (std::isfinite(row[c]))
        message << "a magnitude of at most " << limit << reason;
      else
        message << "finite values";
      throw_error(function, message.str());
    }
  }
}

}  // namespace detail
}  // namespace rotq
