#pragma once
// rotq::matrix_view: the pointer + shape + stride that every host function takes at its boundary.

#include <cstddef>
#include <type_traits>
#include <utility>

#include "rotq/error.hpp"

namespace rotq {

/// A row-major matrix that rotq reads or writes but does not own: `rows` rows of `cols` elements,
/// row r starting at `data + r * stride` (`stride >= cols`). Use `matrix_view<const T>` for input.
/// A non-const view converts to a const one, and any row-major Eigen matrix, map or block converts
/// to a view of its storage (no copy), so `rotq::fwht_rows(m)` works on an Eigen row-major matrix.
template <class T>
struct matrix_view {
  T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;

  matrix_view() = default;

  /// Throws rotq::error if `stride < cols`, or if `data` is null while the view is not empty.
  matrix_view(T* data_, std::size_t rows_, std::size_t cols_, std::size_t stride_)
      : data(data_), rows(rows_), cols(cols_), stride(stride_) {
    ROTQ_EXPECTS(stride >= cols, "stride = " << stride << " is smaller than cols = " << cols
                                             << "; a row-major view needs stride >= cols");
    ROTQ_EXPECTS(data != nullptr || rows == 0 || cols == 0,
                 "data is null for a " << rows << " x " << cols << " view");
  }

  /// A contiguous view: stride = cols.
  matrix_view(T* data_, std::size_t rows_, std::size_t cols_)
      : matrix_view(data_, rows_, cols_, cols_) {}

  /// matrix_view<T> -> matrix_view<const T>, implicit like T* -> const T*.
  template <class U, std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>, int> = 0>
  matrix_view(const matrix_view<U>& other)  // NOLINT(google-explicit-constructor)
      : data(other.data), rows(other.rows), cols(other.cols), stride(other.stride) {}

  /// Any row-major Eigen dense object with direct access (Matrix, Map, Block, Ref) whose rows are
  /// contiguous. A row of a column-major matrix, or a Map with an inner stride, has gaps between
  /// the elements of a row that a view cannot describe: a compile error when the stride is fixed
  /// at compile time, else rotq::error.
  template <class Dense, class Plain = std::remove_reference_t<Dense>,
            std::enable_if_t<Plain::IsRowMajor &&
                                 std::is_convertible_v<decltype(std::declval<Dense&>().data()), T*>,
                             int> = 0>
  matrix_view(Dense&& m)  // NOLINT(google-explicit-constructor): views are cheap conversions
      : matrix_view(m.data(), static_cast<std::size_t>(m.rows()),
                    static_cast<std::size_t>(m.cols()),
                    static_cast<std::size_t>(m.rows() > 1 ? m.outerStride() : m.cols())) {
    static_assert(Plain::InnerStrideAtCompileTime == 1 || Plain::InnerStrideAtCompileTime < 0 ||
                      Plain::ColsAtCompileTime == 1,
                  "rotq::matrix_view needs contiguous rows: this Eigen object's elements are "
                  "spaced by a compile-time inner stride other than 1 (a row of a column-major "
                  "matrix?); copy it into a row-major matrix first");
    ROTQ_EXPECTS(m.innerStride() == 1 || m.cols() <= 1,
                 "the Eigen object's innerStride() = "
                     << m.innerStride()
                     << ", expected 1: a matrix_view needs contiguous rows (a row of a "
                        "column-major matrix, or a Map with an inner stride, has gaps); copy it "
                        "into a row-major matrix first");
  }

  T* row(std::size_t r) const { return data + r * stride; }
  T& operator()(std::size_t r, std::size_t c) const { return data[r * stride + c]; }
  bool empty() const { return rows == 0 || cols == 0; }
  /// True when the rows follow one another without gaps.
  bool contiguous() const { return stride == cols || rows <= 1; }
};

namespace detail {

template <class Dense, class = void>
struct is_row_major_dense : std::false_type {};
template <class Dense>
struct is_row_major_dense<Dense, std::void_t<typename Dense::Scalar, decltype(Dense::IsRowMajor),
                                             decltype(std::declval<Dense&>().data())>>
    : std::bool_constant<bool(Dense::IsRowMajor)> {};

}  // namespace detail

/// True for the row-major Eigen types (Matrix, Map, Block, Ref) that convert to a matrix_view.
template <class Dense>
constexpr bool is_row_major_dense_v =
    detail::is_row_major_dense<std::remove_reference_t<Dense>>::value;

/// The view of a row-major Eigen object's storage, with its scalar type deduced (const when the
/// object is const): for calling function templates, where the implicit conversion is not seen.
template <class Dense, std::enable_if_t<is_row_major_dense_v<Dense>, int> = 0>
auto as_view(Dense&& m) {
  using pointer = decltype(m.data());
  return matrix_view<std::remove_pointer_t<pointer>>(std::forward<Dense>(m));
}

}  // namespace rotq
