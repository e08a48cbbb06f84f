// Must not compile: a row of a column-major matrix has its elements a column apart, which a
// rotq::matrix_view (contiguous rows) cannot describe. The test that builds this file passes when
// the compiler stops with matrix_view's own message.

#include <rotq/view.hpp>

#include <Eigen/Core>

void view_of_column_major_row() {
  Eigen::Matrix4f column_major = Eigen::Matrix4f::Zero();
  const rotq::matrix_view<float> row = column_major.row(1);
  (void)row;
}
