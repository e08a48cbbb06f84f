// Tests for <rotq/calibration.hpp>: streamed statistics equal those of the whole matrix, the
// reservoir sample is uniform and reproducible, merging equals a single pass, bad input is named.

#include <rotq/calibration.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "support/matrices.hpp"

namespace {

using rotq_test::row_major_d;
using rotq_test::row_major_f;

row_major_f activations(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  row_major_f x = rotq_test::gaussian<row_major_f>(rows, cols, seed);
  x.col(2) *= 30.0f;  // an outlier channel
  return x;
}

/// Rows whose channel 0 holds their index, so a sampled row says which row it was.
row_major_f numbered_rows(Eigen::Index rows, Eigen::Index cols, float first = 0) {
  row_major_f x(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r) x.row(r).setConstant(first + float(r));
  return x;
}

void add_in_batches(rotq::activation_statistics& stats, const row_major_f& x, Eigen::Index batch) {
  for (Eigen::Index r = 0; r < x.rows(); r += batch) {
    const Eigen::Index n = std::min(batch, x.rows() - r);
    stats.add(rotq::matrix_view<const float>(x.data() + r * x.cols(), std::size_t(n),
                                             std::size_t(x.cols())));
  }
}

std::vector<int> sampled_ids(const rotq::activation_statistics& stats) {
  const rotq::matrix_view<const float> s = stats.sample();
  std::vector<int> ids;
  for (std::size_t r = 0; r < s.rows; ++r) ids.push_back(int(s(r, 0)));
  return ids;
}

}  // namespace

TEST_CASE("streamed statistics equal those of the whole matrix", "[calibration]") {
  const row_major_f x = activations(203, 12, 1);
  rotq::activation_statistics stats(12, 64, 5);
  add_in_batches(stats, x, 17);
  REQUIRE(stats.rows_seen() == 203);
  const row_major_d xd = x.cast<double>();
  CHECK(stats.channel_absmax() == Eigen::VectorXd(xd.cwiseAbs().colwise().maxCoeff().transpose()));
  const Eigen::VectorXd rms = (xd.cwiseAbs2().colwise().sum().transpose() / 203.0).cwiseSqrt();
  CHECK((stats.channel_rms() - rms).cwiseAbs().maxCoeff() < 1e-12 * rms.maxCoeff());
  const Eigen::VectorXd norms = xd.rowwise().norm();
  const rotq::token_norm_summary summary = stats.token_norms();
  CHECK(summary.min == Approx(norms.minCoeff()).epsilon(1e-12));
  CHECK(summary.max == Approx(norms.maxCoeff()).epsilon(1e-12));
  CHECK(summary.mean == Approx(norms.mean()).epsilon(1e-12));
  CHECK(stats.sample().rows == 64);
  CHECK(stats.sample().cols == 12);
}

TEST_CASE("fewer rows than the capacity are all kept, double input too", "[calibration]") {
  const row_major_d x = numbered_rows(9, 4).cast<double>();
  rotq::activation_statistics stats(4, 16);
  stats.add(x);
  const rotq::matrix_view<const float> s = stats.sample();
  REQUIRE(s.rows == 9);
  for (std::size_t r = 0; r < 9; ++r)
    for (std::size_t c = 0; c < 4; ++c)
      CHECK(s(r, c) == float(x(Eigen::Index(r), Eigen::Index(c))));
}

TEST_CASE("the reservoir sample is uniform over the rows seen", "[calibration]") {
  const row_major_f x = numbered_rows(100, 3);
  std::vector<int> hits(100, 0);
  const int trials = 2000;
  for (int seed = 0; seed < trials; ++seed) {
    rotq::activation_statistics stats(3, 10, std::uint64_t(seed));
    add_in_batches(stats, x, 13);
    const std::vector<int> ids = sampled_ids(stats);
    REQUIRE(std::set<int>(ids.begin(), ids.end()).size() == 10);  // without replacement
    for (int id : ids) ++hits[std::size_t(id)];
  }
  // Each row is kept with probability 10 / 100; the binomial standard deviation is 0.0067.
  for (int row = 0; row < 100; ++row) {
    INFO("row " << row);
    CHECK(double(hits[std::size_t(row)]) / trials == Approx(0.1).margin(0.03));
  }
}

TEST_CASE("the sample depends only on the seed and the rows, not on the batching",
          "[calibration]") {
  const row_major_f x = activations(150, 8, 2);
  rotq::activation_statistics whole(8, 20, 42), batched(8, 20, 42), other_seed(8, 20, 43);
  whole.add(x);
  add_in_batches(batched, x, 11);
  add_in_batches(other_seed, x, 11);
  const auto as_matrix = [](const rotq::activation_statistics& s) {
    const rotq::matrix_view<const float> v = s.sample();
    return row_major_f(
        Eigen::Map<const row_major_f>(v.data, Eigen::Index(v.rows), Eigen::Index(v.cols)));
  };
  CHECK(as_matrix(whole) == as_matrix(batched));
  CHECK(as_matrix(whole) != as_matrix(other_seed));
}

TEST_CASE("merging two collectors equals one pass over the union", "[calibration]") {
  const row_major_f a = activations(70, 6, 3);
  const row_major_f b = activations(45, 6, 4);
  rotq::activation_statistics left(6, 32, 1), right(6, 32, 2), single(6, 32, 3);
  add_in_batches(left, a, 9);
  add_in_batches(right, b, 8);
  single.add(a);
  single.add(b);
  left.merge(right);
  CHECK(left.rows_seen() == 115);
  CHECK(left.channel_absmax() == single.channel_absmax());
  CHECK((left.channel_rms() - single.channel_rms()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(left.token_norms().min == Approx(single.token_norms().min).epsilon(1e-12));
  CHECK(left.token_norms().max == Approx(single.token_norms().max).epsilon(1e-12));
  CHECK(left.token_norms().mean == Approx(single.token_norms().mean).epsilon(1e-12));
  // The merged sample: 32 distinct rows, each one of the 115 rows fed.
  const rotq::matrix_view<const float> s = left.sample();
  REQUIRE(s.rows == 32);
  std::set<std::vector<float>> union_rows, sampled;
  for (const row_major_f* m : {&a, &b})
    for (Eigen::Index r = 0; r < m->rows(); ++r)
      union_rows.insert(std::vector<float>(m->row(r).data(), m->row(r).data() + 6));
  for (std::size_t r = 0; r < s.rows; ++r)
    sampled.insert(std::vector<float>(s.row(r), s.row(r) + 6));
  CHECK(sampled.size() == 32);
  for (const auto& row : sampled) CHECK(union_rows.count(row) == 1);
}

TEST_CASE("a merged sample is a uniform sample of the union", "[calibration]") {
  // 30 rows on one side, 90 on the other, capacity 20: every row should be kept with probability
  // 20 / 120, so the small side is not over-represented.
  const row_major_f a = numbered_rows(30, 2), b = numbered_rows(90, 2, 30);
  std::vector<int> hits(120, 0);
  const int trials = 2000;
  for (int seed = 0; seed < trials; ++seed) {
    rotq::activation_statistics left(2, 20, std::uint64_t(seed)),
        right(2, 20, std::uint64_t(seed) + 7919);
    left.add(a);
    right.add(b);
    left.merge(right);
    const std::vector<int> ids = sampled_ids(left);
    REQUIRE(std::set<int>(ids.begin(), ids.end()).size() == 20);
    for (int id : ids) ++hits[std::size_t(id)];
  }
  int from_small_side = 0;
  for (int row = 0; row < 120; ++row) {
    INFO("row " << row);
    CHECK(double(hits[std::size_t(row)]) / trials == Approx(20.0 / 120.0).margin(0.04));
    if (row < 30) from_small_side += hits[std::size_t(row)];
  }
  // Hypergeometric mean 20 * 30 / 120 = 5 rows from the small side per merge.
  CHECK(double(from_small_side) / trials == Approx(5.0).margin(0.15));
}

TEST_CASE("merging with an empty collector keeps the statistics", "[calibration]") {
  const row_major_f a = activations(10, 4, 5);
  rotq::activation_statistics full(4, 8), empty(4, 8);
  full.add(a);
  const Eigen::VectorXd absmax = full.channel_absmax();
  full.merge(empty);
  CHECK(full.rows_seen() == 10);
  CHECK(full.channel_absmax() == absmax);
  CHECK(full.sample().rows == 8);
  empty.merge(full);
  CHECK(empty.token_norms().min == full.token_norms().min);
}

TEST_CASE("NaN and Inf are rejected with their row and column", "[calibration][errors]") {
  rotq::activation_statistics stats(4, 8);
  stats.add(activations(5, 4, 6));
  row_major_f bad = activations(3, 4, 7);
  bad(1, 3) = NAN;
  CHECK_THROWS_WITH(stats.add(bad),
                    Catch::Contains("x(1, 3) = nan (row 6 of the calibration data)"));
  bad(1, 3) = 0;
  bad(2, 0) = -INFINITY;
  CHECK_THROWS_WITH(stats.add(bad), Catch::Contains("x(2, 0) = -inf"));
  CHECK(stats.rows_seen() == 5);  // a rejected batch leaves no trace
  CHECK_THROWS_WITH(stats.add(activations(2, 5, 8)),
                    Catch::Contains("x has 5 columns, expected the collector's 4 channels"));
}

TEST_CASE("an empty collector refuses to answer", "[calibration][errors]") {
  const rotq::activation_statistics stats(4);
  CHECK(stats.empty());
  CHECK_THROWS_WITH(stats.channel_absmax(), Catch::Contains("calibration data is empty"));
  CHECK_THROWS_AS(stats.channel_rms(), rotq::error);
  CHECK_THROWS_AS(stats.token_norms(), rotq::error);
  CHECK_THROWS_WITH(stats.sample(), Catch::Contains("activation_statistics::sample"));
  CHECK_THROWS_WITH(rotq::activation_statistics(0), Catch::Contains("channels = 0"));
  CHECK_THROWS_WITH(rotq::activation_statistics(4, 0), Catch::Contains("sample_capacity = 0"));
  rotq::activation_statistics narrow(4, 8), small(4, 4), wide(5, 8);
  CHECK_THROWS_WITH(narrow.merge(wide), Catch::Contains("other has 5 channels, expected 4"));
  CHECK_THROWS_WITH(narrow.merge(small),
                    Catch::Contains("other has sample_capacity 4, expected 8"));
}
