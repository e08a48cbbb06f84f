#pragma once
// The NaN/Inf check of the offline quantisers: one bad element would silently poison a whole
// group's scale, so the host functions reject it and say where it is.

#include <cmath>
#include <cstddef>
#include <sstream>

#include "rotq/error.hpp"
#include "rotq/view.hpp"

namespace rotq {
namespace detail {

/// Throws rotq::error from `function` naming the first non-finite element of `x` (called
/// `argument` in the message) by row and column.
template <class T>
void expect_finite(matrix_view<const T> x, const char* argument, const char* function) {
  for (std::size_t r = 0; r < x.rows; ++r) {
    const T* row = x.row(r);
    for (std::size_t c = 0; c < x.cols; ++c) {
      if (std::isfinite(row[c])) continue;
      std::ostringstream message;
      message << argument << "(" << r << ", " << c << ") = " << row[c] << " (row " << r
              << ", element " << c << "), expected finite values";
      throw_error(function, message.str());
    }
  }
}

}  // namespace detail
}  // namespace rotq
