// Tests for <rotq/smoothing.hpp>: the SmoothQuant scale formula on hand-computed values, the floor,
// the shared weight statistic, the balancing property at alpha = 0.5, invariance and the sweep.

#include <rotq/smoothing.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "support/matrices.hpp"

namespace {

using rotq_test::row_major_d;
using rotq_test::row_major_f;
using rotq_test::vec;

}  // namespace

TEST_CASE("smoothing scales match the formula on hand-computed channels", "[smoothing]") {
  // alpha = 0.5: s = sqrt(a / w). 16 / 4 -> 2; 9 / 1 -> 3; 1 / 16 -> 0.25.
  CHECK((rotq::smoothing_scales(vec({16, 9, 1}), vec({4, 1, 16}), 0.5) - vec({2, 3, 0.25}))
            .cwiseAbs()
            .maxCoeff() < 1e-15);
  // alpha = 0.75: 16^0.75 / 1^0.25 = 8; 1 / 16^0.25 = 0.5.
  CHECK((rotq::smoothing_scales(vec({16, 1}), vec({1, 16}), 0.75) - vec({8, 0.5}))
            .cwiseAbs()
            .maxCoeff() < 1e-14);
  // alpha = 1: s = a; alpha = 0: s = 1 / w.
  CHECK(rotq::smoothing_scales(vec({5, 0.5}), vec({3, 7}), 1.0).isApprox(vec({5, 0.5})));
  CHECK(rotq::smoothing_scales(vec({5, 0.5}), vec({4, 0.5}), 0.0).isApprox(vec({0.25, 2})));
}

TEST_CASE("zero and tiny channels get the floor, never a division by zero", "[smoothing]") {
  // Channel 0 is dead, channel 1 tiny (sqrt(1e-12) = 1e-6 < 1e-5), channel 2 has a zero weight
  // column: the weight statistic is floored at 1e-5, so s = 3 / sqrt(1e-5).
  const rotq::smoothing_report report =
      rotq::smoothing_scales_with_report(vec({0, 1e-12, 9, 4}), vec({1, 1, 0, 1}), 0.5);
  REQUIRE(report.scales.allFinite());
  CHECK(report.scales[0] == 1e-5);
  CHECK(report.scales[1] == 1e-5);
  CHECK(report.scales[2] == Approx(3.0 / std::sqrt(1e-5)).epsilon(1e-14));
  CHECK(report.scales[3] == Approx(2.0).epsilon(1e-15));
  CHECK(report.floored_channels == std::vector<std::size_t>{0, 1});
  // DuQuant's floor of 1e-2 also lifts channel 1; the plain function returns the same scales.
  const Eigen::VectorXd duquant =
      rotq::smoothing_scales(vec({0, 1e-12, 9, 4}), vec({1, 1, 0, 1}), 0.5, 1e-2);
  CHECK(duquant[1] == 1e-2);
  CHECK(rotq::smoothing_scales(vec({0, 1e-12, 9, 4}), vec({1, 1, 0, 1}), 0.5) == report.scales);
}

TEST_CASE("alpha = 0.5 balances the activation and weight maxima of every channel", "[smoothing]") {
  std::mt19937 gen(3);
  std::normal_distribution<double> normal;
  row_major_d x(64, 16), w(24, 16);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(gen);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = 0.1 * normal(gen);
  x.col(3) *= 50.0;  // planted outlier channels
  x.col(11) *= 20.0;
  const Eigen::VectorXd a = x.cwiseAbs().colwise().maxCoeff().transpose();
  const Eigen::VectorXd wmax = rotq::weight_column_absmax({rotq::matrix_view<const double>(w)});
  const rotq::channel_scaling smooth = rotq::smoothing_transform(a, wmax, 0.5);
  row_major_d xs = x, ws = w;
  smooth.apply_activations(xs);
  smooth.apply_weights(ws);
  // max |X'_j| = a_j / s_j = sqrt(a_j w_j) = w_j s_j = max |W'_j|.
  const Eigen::VectorXd x_after = xs.cwiseAbs().colwise().maxCoeff().transpose();
  const Eigen::VectorXd w_after = ws.cwiseAbs().colwise().maxCoeff().transpose();
  CHECK((x_after - w_after).cwiseAbs().maxCoeff() < 1e-12 * x_after.maxCoeff());
  CHECK((x_after - a.cwiseProduct(wmax).cwiseSqrt()).cwiseAbs().maxCoeff() < 1e-12 * a.maxCoeff());
  // The layer's output is unchanged: (X diag(s)^-1)(W diag(s))^T = X W^T.
  const row_major_d y = x * w.transpose();
  CHECK((xs * ws.transpose() - y).cwiseAbs().maxCoeff() < 1e-12 * y.cwiseAbs().maxCoeff());
}

TEST_CASE("the weight statistic is the absolute column max over every reader", "[smoothing]") {
  row_major_f q(2, 3), k(1, 3);
  q << -7, 1, 0.5f,  //
      2, -3, 0.25f;
  k << 5, 2, -4;
  // Column 0: the signed max would be 5; the absolute max is 7.
  const Eigen::VectorXd w = rotq::weight_column_absmax({q, k});
  CHECK(w == vec({7, 3, 4}));
  const row_major_f v(2, 4);
  CHECK_THROWS_WITH(rotq::weight_column_absmax({q, v}),
                    Catch::Contains("weights[1] has 4 columns, expected 3 like weights[0]"));
  q(1, 2) = NAN;
  CHECK_THROWS_WITH(rotq::weight_column_absmax({k, q}), Catch::Contains("weights[1](1, 2) = nan"));
  CHECK_THROWS_WITH(rotq::weight_column_absmax(std::vector<rotq::matrix_view<const float>>{}),
                    Catch::Contains("weights is empty"));
}

TEST_CASE("the alpha sweep picks the alpha of smallest loss and reports every score",
          "[smoothing]") {
  // s_0 = 9^alpha; the loss |s_0 - 3| is smallest at alpha = 0.5.
  const auto loss = [](const Eigen::VectorXd& s) { return std::abs(s[0] - 3.0); };
  const std::vector<double> alphas = {0.0, 0.25, 0.5, 0.75, 1.0};
  const rotq::alpha_sweep_result result =
      rotq::sweep_smoothing_alpha(vec({9, 1}), vec({1, 1}), alphas, loss);
  CHECK(result.best_alpha == 0.5);
  CHECK(result.best_scales.isApprox(vec({3, 1})));
  CHECK(result.alphas == alphas);
  REQUIRE(result.losses.size() == 5);
  CHECK(result.losses[0] == Approx(2.0));
  CHECK(result.losses[1] == Approx(3.0 - std::sqrt(3.0)));
  CHECK(result.losses[2] == Approx(0.0).margin(1e-15));
  CHECK(result.losses[3] == Approx(std::pow(9.0, 0.75) - 3.0));
  CHECK(result.losses[4] == Approx(6.0));
  // Ties go to the first candidate.
  const auto flat = [](const Eigen::VectorXd&) { return 1.0; };
  CHECK(rotq::sweep_smoothing_alpha(vec({9}), vec({1}), {0.7, 0.2}, flat).best_alpha == 0.7);
}

TEST_CASE("the alpha sweep rejects no candidates and NaN losses", "[smoothing][errors]") {
  const auto nan_at_half = [](const Eigen::VectorXd& s) { return s[0] == 3.0 ? NAN : 1.0; };
  CHECK_THROWS_WITH(rotq::sweep_smoothing_alpha(vec({9}), vec({1}), {0.0, 0.5}, nan_at_half),
                    Catch::Contains("the loss at alpha = 0.5 is NaN"));
  CHECK_THROWS_WITH(rotq::sweep_smoothing_alpha(vec({9}), vec({1}), {}, nan_at_half),
                    Catch::Contains("alphas is empty"));
}

TEST_CASE("smoothing scales reject bad statistics and parameters", "[smoothing][errors]") {
  CHECK_THROWS_WITH(rotq::smoothing_scales(vec({1, 2}), vec({1}), 0.5),
                    Catch::Contains("weight_absmax has 1 channels, expected 2"));
  CHECK_THROWS_WITH(rotq::smoothing_scales(Eigen::VectorXd(), Eigen::VectorXd(), 0.5),
                    Catch::Contains("act_absmax is empty"));
  CHECK_THROWS_WITH(rotq::smoothing_scales(vec({1, -2}), vec({1, 1}), 0.5),
                    Catch::Contains("act_absmax[1] = -2"));
  CHECK_THROWS_WITH(rotq::smoothing_scales(vec({1, 2}), vec({NAN, 1}), 0.5),
                    Catch::Contains("weight_absmax[0] = nan"));
  CHECK_THROWS_WITH(rotq::smoothing_scales(vec({1}), vec({1}), 1.5),
                    Catch::Contains("alpha = 1.5, expected 0 <= alpha <= 1"));
  CHECK_THROWS_WITH(rotq::smoothing_scales(vec({1}), vec({1}), 0.5, 0.0),
                    Catch::Contains("floor = 0, expected a positive finite number"));
}
