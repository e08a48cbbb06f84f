// Tests for <rotq/dfrot.hpp>: the massive-token rules on hand-worked rows, the refinement's
// objective and orthogonality, and the recovery of planted massive tokens' quantisation error.

#include <rotq/dfrot.hpp>
#include <rotq/hadamard_transform.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "support/matrices.hpp"
#include "support/quantization_checks.hpp"

namespace {

using rotq_test::int4_error;
using rotq_test::row_major_d;
using rotq_test::row_major_f;

/// Gaussian features with a massive token every 32 rows: two fixed channels (+200, -120) carry
/// almost all of its energy, as in LLaMA's massive activations.
row_major_d features_with_massive_tokens(Eigen::Index rows, Eigen::Index n, unsigned seed) {
  row_major_d a = rotq_test::gaussian(rows, n, seed);
  for (Eigen::Index t = 0; t < rows; t += 32) {
    a.row(t) *= 0.05;
    a(t, 5) = 200.0;
    a(t, 17) = -120.0;
  }
  return a;
}

row_major_d rows_of(const row_major_d& a, const std::vector<std::size_t>& rows) {
  row_major_d out(Eigen::Index(rows.size()), a.cols());
  for (std::size_t i = 0; i < rows.size(); ++i)
    out.row(Eigen::Index(i)) = a.row(Eigen::Index(rows[i]));
  return out;
}

}  // namespace

TEST_CASE("the peak-ratio rule marks rows that one channel dominates", "[dfrot]") {
  row_major_f a(4, 4);
  a << 1, 1, 1, 1,   // max / norm = 1 / 2
      0, 3, 4, 0,    // 4 / 5 = 0.8
      10, 0, 0, 0,   // 1
      -1, 1, 1, -2;  // 2 / sqrt(7) = 0.756
  rotq::dfrot_options options;
  CHECK(rotq::massive_tokens(a, options) == std::vector<std::size_t>{1, 2, 3});  // ratio > 0.5
  options.peak_ratio = 0.79;
  CHECK(rotq::massive_tokens(a, options) == std::vector<std::size_t>{1, 2});
}

TEST_CASE("the quantisation-error rule marks rows that quantise well unrotated", "[dfrot]") {
  // Row 0 quantises exactly. Row 1, [1, 2, 3, 4]: scale 4 / 7, codes 2, 3 or 4 (a tie), 5, 7, so
  // errors 1/7, 2/7, 1/7, 0 and ||x - Q(x)|| = sqrt(6) / 7 = 0.35.
  row_major_d a(2, 4);
  a << 10, 0, 0, 0,  //
      1, 2, 3, 4;
  rotq::dfrot_options options;
  options.rule = rotq::massive_token_rule::low_quantization_error;
  options.error_threshold = 0.3;
  CHECK(rotq::massive_tokens(a, options) == std::vector<std::size_t>{0});
  options.error_threshold = 0.4;
  CHECK(rotq::massive_tokens(a, options) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("DFRot never ends above its start and returns an orthogonal rotation", "[dfrot]") {
  const row_major_d a = features_with_massive_tokens(512, 64, 1);
  const Eigen::MatrixXd start = rotq::random_hadamard(64, 3).matrix();
  rotq::dfrot_options options;
  options.iterations = 30;
  const rotq::dfrot_result result = rotq::dfrot_refine(a, start, options);
  REQUIRE(result.objective.size() == 31);
  CHECK(rotq::orthogonality_error(result.rotation) < 1e-12);
  CHECK(result.objective[result.best_iteration] <= result.objective.front());
  for (double value : result.objective) CHECK(value >= result.objective[result.best_iteration]);
  // The reported objective is that of the returned rotation on the weighted features.
  row_major_d weighted = a;
  for (std::size_t t : result.massive_tokens) weighted.row(Eigen::Index(t)) *= 100.0;
  CHECK(int4_error(weighted * result.rotation) ==
        Approx(result.objective[result.best_iteration]).epsilon(1e-3));
  CHECK(int4_error(weighted * start) == Approx(result.objective.front()).epsilon(1e-3));
  // No iterations: R_0 itself.
  options.iterations = 0;
  const rotq::dfrot_result none = rotq::dfrot_refine(a, start, options);
  CHECK(none.objective.size() == 1);
  CHECK(none.rotation == start);
}

TEST_CASE("DFRot cuts the quantisation error of planted massive tokens", "[dfrot]") {
  const row_major_d a = features_with_massive_tokens(512, 64, 2);
  const Eigen::MatrixXd start = rotq::random_hadamard(64, 5).matrix();
  const rotq::dfrot_result result = rotq::dfrot_refine(a, start);  // defaults: 100 iterations
  CHECK(result.objective[result.best_iteration] < 0.5 * result.objective.front());
  std::vector<std::size_t> planted;
  for (std::size_t t = 0; t < 512; t += 32) planted.push_back(t);
  for (std::size_t t : planted)
    CHECK(std::count(result.massive_tokens.begin(), result.massive_tokens.end(), t) == 1);
  const row_major_d massive = rows_of(a, planted);
  // The Hadamard start smears the two massive channels into values of two sizes, which 4 bits
  // cannot hold; the refined rotation undoes much of that, and the other tokens do not suffer.
  CHECK(int4_error(massive * result.rotation) < 0.5 * int4_error(massive * start));
  CHECK(int4_error(a * result.rotation) < int4_error(a * start));
}

TEST_CASE("DFRot rejects bad features, starts and options", "[dfrot][errors]") {
  row_major_d a = features_with_massive_tokens(64, 8, 3);
  const Eigen::MatrixXd start = rotq::random_hadamard(8, 1).matrix();
  CHECK_THROWS_WITH(rotq::dfrot_refine(a, rotq::random_hadamard(16, 1).matrix()),
                    Catch::Contains("start is 16 x 16"));
  CHECK_THROWS_WITH(rotq::dfrot_refine(a, 2.0 * start),
                    Catch::Contains("expected an orthogonal 8 x 8 matrix"));
  CHECK_THROWS_WITH(rotq::dfrot_refine(row_major_d(0, 8), start),
                    Catch::Contains("features are empty"));
  rotq::dfrot_options options;
  options.massive_weight = 0;
  CHECK_THROWS_WITH(rotq::dfrot_refine(a, start, options),
                    Catch::Contains("options.massive_weight = 0"));
  options = {};
  options.peak_ratio = 1.5;
  CHECK_THROWS_WITH(rotq::massive_tokens(a, options), Catch::Contains("options.peak_ratio = 1.5"));
  options = {};
  options.rule = rotq::massive_token_rule::low_quantization_error;
  options.error_threshold = -1;
  CHECK_THROWS_WITH(rotq::dfrot_refine(a, start, options),
                    Catch::Contains("options.error_threshold = -1"));
  a(9, 2) = NAN;
  CHECK_THROWS_WITH(rotq::dfrot_refine(a, start), Catch::Contains("features(9, 2) = nan"));
}
