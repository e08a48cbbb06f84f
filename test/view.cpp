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
