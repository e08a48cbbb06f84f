#pragma once
// The shape check every transform performs before touching a matrix.

#include <cstddef>

#include "rotq/error.hpp"
#include "rotq/view.hpp"

namespace rotq {
namespace detail {

template <class T>
void expect_width(const matrix_view<T>& x, std::size_t n, const char* function) {
  if (x.cols != n)
    throw_error(function, "x.cols = " + std::to_string(x.cols) +
                              ", expected the transform's size n = " + std::to_string(n));
}

}  // namespace detail
}  // namespace rotq
