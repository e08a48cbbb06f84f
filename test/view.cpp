// Tests for <rotq/view.hpp>.

#include <rotq/view.hpp>

#include <Eigen/Core>
#include <catch2/catch.hpp>

#include <vector>

TEST_CASE("matrix_view addresses strided rows", "[view]") {
  std::vector<int> data(12);
  for (int i = 0; i < 12; ++i) data[std::size_t(i)] = i;
  const rotq::matrix_view<int> v(data.data(), 3, 2, 4);
  CHECK(v(0, 1) == 1);
  CHECK(v(2, 0) == 8);
  CHECK(v.row(1)[1] == 5);
  CHECK_FALSE(v.contiguous());
  CHECK(rotq::matrix_view<int>(data.data(), 3, 4).contiguous());
  const rotq::matrix_view<const int> c = v;  // non-const -> const
  CHECK(c(1, 1) == 5);
}

TEST_CASE("matrix_view rejects a stride shorter than a row and a null pointer", "[view][errors]") {
  std::vector<float> data(8);
  CHECK_THROWS_WITH(rotq::matrix_view<float>(data.data(), 2, 4, 3),
                    Catch::Contains("stride = 3 is smaller than cols = 4"));
  CHECK_THROWS_WITH(rotq::matrix_view<float>(nullptr, 2, 4, 4), Catch::Contains("data is null"));
  CHECK_NOTHROW(rotq::matrix_view<float>(nullptr, 0, 4, 4));
}

TEST_CASE("row-major Eigen matrices, maps and blocks convert without copying", "[view]") {
  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  row_major m = row_major::Zero(4, 6);
  rotq::matrix_view<double> whole = m;
  CHECK(whole.data == m.data());
  CHECK(whole.rows == 4);
  CHECK(whole.cols == 6);
  CHECK(whole.stride == 6);
  rotq::matrix_view<double> block = m.block(1, 2, 2, 3);
  CHECK(block.data == &m(1, 2));
  CHECK(block.stride == 6);
  block(1, 2) = 7;
  CHECK(m(2, 4) == 7);
  const row_major& cm = m;
  rotq::matrix_view<const double> read_only = cm;
  CHECK(read_only(2, 4) == 7);
}

TEST_CASE("Eigen objects whose rows have gaps are refused, not misread", "[view][errors]") {
  // A row of a column-major matrix: its elements lie a column (4 floats) apart.
  Eigen::MatrixXf column_major = Eigen::MatrixXf::Zero(4, 6);
  CHECK_THROWS_WITH(rotq::matrix_view<float>(column_major.row(1)),
                    Catch::Contains("innerStride() = 4, expected 1"));
  // A map that takes every other element.
  std::vector<float> storage(24, 0.0f);
  using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<row_major, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> every_other(
      storage.data(), 3, 4, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(8, 2));
  CHECK_THROWS_WITH(rotq::matrix_view<float>(every_other),
                    Catch::Contains("innerStride() = 2, expected 1"));
  // The same map with unit inner stride is a plain strided view.
  Eigen::Map<row_major, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>> strided(
      storage.data(), 3, 4, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(8, 1));
  const rotq::matrix_view<float> view = strided;
  CHECK(view.stride == 8);
  CHECK(view.cols == 4);
  // One element per row has no gaps to misread.
  Eigen::MatrixXf column = Eigen::MatrixXf::Zero(3, 1);
  CHECK_NOTHROW(rotq::matrix_view<float>(column.row(1)));
}
