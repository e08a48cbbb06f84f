// Tests for <rotq/stats.hpp>: kurtosis against hand-computed and textbook values, the robust
// z-score in each of its three branches, per-channel / per-token kurtosis and the layer selector.

#include <rotq/stats.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "support/matrices.hpp"

namespace {

using rotq_test::row_major_d;
using rotq_test::row_major_f;
using rotq_test::vec;

}  // namespace

TEST_CASE("kurtosis of hand-computed samples", "[stats]") {
  // {1..5}: m2 = 10 / 5 = 2, m4 = 34 / 5 = 6.8, kappa = 6.8 / 4 = 1.7.
  CHECK(rotq::kurtosis(vec({1, 2, 3, 4, 5})) == Approx(1.7).epsilon(1e-14));
  CHECK(rotq::kurtosis(vec({1, 2, 3, 4, 5}), true) == Approx(-1.3).epsilon(1e-14));
  // A Bernoulli(1/4) sample {0, 0, 0, 10}: kappa = (1 - 3 p q) / (p q) = 7 / 3, whatever the scale.
  CHECK(rotq::kurtosis(vec({0, 0, 0, 10})) == Approx(7.0 / 3.0).epsilon(1e-14));
  // Symmetric two-point: every |deviation| equal, kappa = 1 (the smallest possible).
  CHECK(rotq::kurtosis(vec({-1, 1, -1, 1, 1, -1})) == Approx(1.0).epsilon(1e-14));
}

TEST_CASE("kurtosis is computed stably far from zero", "[stats]") {
  // Raw power sums would cancel catastrophically here (x^4 ~ 1e36 versus m4 ~ 7).
  CHECK(rotq::kurtosis(vec({1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4, 1e9 + 5})) ==
        Approx(1.7).epsilon(1e-6));
}

TEST_CASE("kurtosis does not depend on the scale, however large or small", "[stats]") {
  // {1, -1, 3}: mean 1, deviations 0, -2, 2: m2 = 8 / 3, m4 = 32 / 3, kappa = 1.5. The fourth
  // powers of 1e80-sized deviations overflow double unless the values are scaled first.
  for (const double scale : {1.0, 1e80, 1e300, 1e-300})
    CHECK(rotq::kurtosis(vec({scale, -scale, 3 * scale})) == Approx(1.5).epsilon(1e-13));
}

TEST_CASE("kurtosis of large uniform and normal samples is near 1.8 and 3", "[stats]") {
  std::mt19937 gen(7);
  const Eigen::Index n = 400000;
  Eigen::VectorXd uniform(n), normal(n);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::normal_distribution<double> g(5.0, 2.0);
  for (Eigen::Index i = 0; i < n; ++i) {
    uniform[i] = u(gen);
    normal[i] = g(gen);
  }
  // Standard errors: about 0.002 (uniform) and sqrt(24 / n) = 0.008 (normal).
  CHECK(rotq::kurtosis(uniform) == Approx(1.8).margin(0.01));
  CHECK(rotq::kurtosis(normal) == Approx(3.0).margin(0.04));
  CHECK(rotq::kurtosis(normal, true) == Approx(0.0).margin(0.04));
}

TEST_CASE("kurtosis rejects empty, non-finite and constant input", "[stats][errors]") {
  CHECK_THROWS_WITH(rotq::kurtosis(Eigen::VectorXd()), Catch::Contains("values is empty"));
  CHECK_THROWS_WITH(rotq::kurtosis(vec({1, NAN, 3})), Catch::Contains("values[1] = nan"));
  CHECK_THROWS_WITH(rotq::kurtosis(vec({1, 2, INFINITY})), Catch::Contains("values[2] = inf"));
  CHECK_THROWS_WITH(rotq::kurtosis(vec({4, 4, 4})), Catch::Contains("all 3 values are equal"));
  // 0.1 is not a double: the mean of copies of it rounds, leaving tiny deviations behind.
  CHECK_THROWS_WITH(rotq::kurtosis(Eigen::VectorXd::Constant(10, 0.1)),
                    Catch::Contains("all 10 values are equal"));
  CHECK_THROWS_WITH(rotq::kurtosis(vec({0.1, 0.1, 0.1})),
                    Catch::Contains("all 3 values are equal"));
}

TEST_CASE("weight kurtosis treats every element of a strided matrix as one sample", "[stats]") {
  row_major_f storage = row_major_f::Constant(2, 5, 99.0f);  // column 4 is padding
  storage.leftCols(4) << 1, 2, 3, 4, 5, 1, 2, 3;
  const rotq::matrix_view<const float> w(storage.data(), 2, 4, 5);
  CHECK(rotq::weight_kurtosis(w) == Approx(rotq::kurtosis(vec({1, 2, 3, 4, 5, 1, 2, 3}))));
  CHECK(rotq::weight_kurtosis(w, true) ==
        Approx(rotq::kurtosis(vec({1, 2, 3, 4, 5, 1, 2, 3}), true)));
  storage(1, 2) = NAN;
  CHECK_THROWS_WITH(rotq::weight_kurtosis(w), Catch::Contains("w(1, 2) = nan"));
  const row_major_f ones = row_major_f::Ones(3, 3);
  CHECK_THROWS_WITH(rotq::weight_kurtosis(ones), Catch::Contains("all elements of w are equal"));
}

TEST_CASE("activation kurtosis per channel and per token", "[stats]") {
  row_major_d x(4, 3);
  x << 0, 1, 2,  //
      0, -1, 2,  //
      0, 1, 2,   //
      10, -1, 2;
  const Eigen::VectorXd channels = rotq::activation_kurtosis_per_channel(x);
  REQUIRE(channels.size() == 3);
  CHECK(channels[0] == Approx(7.0 / 3.0));
  CHECK(channels[1] == Approx(1.0));
  CHECK(std::isnan(channels[2]));  // a constant channel has no kurtosis
  row_major_d tenths = row_major_d::Constant(7, 2, 0.1);
  tenths(3, 1) = 0.2;
  CHECK(std::isnan(rotq::activation_kurtosis_per_channel(tenths)[0]));
  CHECK(rotq::activation_kurtosis_per_channel(tenths)[1] > 1.0);
  const Eigen::VectorXd tokens = rotq::activation_kurtosis_per_token(x);
  REQUIRE(tokens.size() == 4);
  for (Eigen::Index t = 0; t < 4; ++t)
    CHECK(tokens[t] == Approx(rotq::kurtosis(x.row(t).transpose())));
  const row_major_f xf = x.cast<float>();
  CHECK(rotq::activation_kurtosis_per_channel(xf, true)[0] == Approx(7.0 / 3.0 - 3.0));
  CHECK(rotq::activation_kurtosis_per_token(xf, true)[3] ==
        Approx(rotq::kurtosis(x.row(3).transpose(), true)));
  x(2, 1) = NAN;
  CHECK_THROWS_WITH(rotq::activation_kurtosis_per_channel(x), Catch::Contains("x(2, 1) = nan"));
  CHECK_THROWS_WITH(rotq::activation_kurtosis_per_token(row_major_d(0, 3)),
                    Catch::Contains("x is empty"));
}

TEST_CASE("robust z-score, MAD branch, odd and even counts", "[stats]") {
  // {1, 2, 3, 4, 100}: median 3, |deviations| {2, 1, 0, 1, 97}, MAD 1.
  const Eigen::VectorXd odd = rotq::robust_zscore(vec({1, 2, 3, 4, 100}));
  const Eigen::VectorXd odd_expected = vec({-1.349, -0.6745, 0.0, 0.6745, 65.4265});
  CHECK((odd - odd_expected).cwiseAbs().maxCoeff() < 1e-12);
  // {10, 1, 3, 2}: median (2 + 3) / 2 = 2.5, |deviations| {7.5, 1.5, 0.5, 0.5},
  // MAD (0.5 + 1.5) / 2 = 1.
  const Eigen::VectorXd even = rotq::robust_zscore(vec({10, 1, 3, 2}));
  const Eigen::VectorXd even_expected = 0.6745 * vec({7.5, -1.5, 0.5, -0.5});
  CHECK((even - even_expected).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("robust z-score falls back to MeanAD when MAD is zero", "[stats]") {
  // {5, 5, 9, 5, 5}: median 5, MAD 0, MeanAD 4 / 5; z = (v - 5) / (1.253314 * 0.8).
  const Eigen::VectorXd z = rotq::robust_zscore(vec({5, 5, 9, 5, 5}));
  CHECK(z[2] == Approx(4.0 / 1.0026512).epsilon(1e-12));
  CHECK(z[0] == 0.0);
  CHECK(z[4] == 0.0);
}

TEST_CASE("robust z-score is zero when every value is the median", "[stats]") {
  CHECK(rotq::robust_zscore(vec({7, 7, 7})) == Eigen::VectorXd::Zero(3));
  CHECK(rotq::robust_zscore(vec({-2})) == Eigen::VectorXd::Zero(1));
}

TEST_CASE("robust z-score rejects empty and non-finite input", "[stats][errors]") {
  CHECK_THROWS_WITH(rotq::robust_zscore(Eigen::VectorXd()), Catch::Contains("values is empty"));
  CHECK_THROWS_WITH(rotq::robust_zscore(vec({1, 2, NAN})), Catch::Contains("values[2] = nan"));
}

TEST_CASE("the layer selector gives outlier-heavy layers the strong pipeline", "[stats]") {
  const std::vector<rotq::layer_kurtosis> layers = {
      {"layers.0.qkv", "attention inputs", 3.0},  {"layers.0.down", "FFN output", 4.0},
      {"layers.1.qkv", "attention inputs", 3.1},  {"layers.1.down", "FFN output", 4.0},
      {"layers.2.qkv", "attention inputs", 2.9},  {"layers.3.qkv", "attention inputs", 3.05},
      {"layers.4.qkv", "attention inputs", 12.0},
  };
  rotq::layer_selection_rule rule;
  rule.thresholds = {{"attention inputs", 3.5}, {"FFN output", 0.0}};
  rule.plain = "quarot";
  rule.strong = "duquant";
  const std::vector<rotq::layer_decision> decisions = rotq::select_layers_by_kurtosis(layers, rule);
  REQUIRE(decisions.size() == layers.size());
  // Attention inputs: median 3.05, |deviations| {0.05, 0.05, 0.15, 0, 8.95}, MAD 0.05.
  const double expected_z[] = {-0.6745, 0.0, 0.6745, 0.0, -0.6745 * 3.0, 0.0, 0.6745 * 179.0};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    INFO("layer " << layers[i].layer);
    CHECK(decisions[i].layer == layers[i].layer);
    CHECK(decisions[i].group == layers[i].group);
    CHECK(decisions[i].kurtosis == layers[i].kurtosis);
    CHECK(decisions[i].zscore == Approx(expected_z[i]).margin(1e-9));
    const bool heavy = i == 6;  // FFN output: equal kappa, z = 0, not above beta = 0
    CHECK(decisions[i].outlier_heavy == heavy);
    CHECK(decisions[i].pipeline == (heavy ? "duquant" : "quarot"));
  }
}

TEST_CASE("the layer selector rejects missing thresholds and bad kurtosis", "[stats][errors]") {
  rotq::layer_selection_rule rule;
  rule.thresholds = {{"attention inputs", 2.0}};
  CHECK_THROWS_WITH(rotq::select_layers_by_kurtosis({{"l0.o", "attention output", 3.0}}, rule),
                    Catch::Contains("group 'attention output', which has no threshold"));
  CHECK_THROWS_WITH(rotq::select_layers_by_kurtosis({{"l0.qkv", "attention inputs", NAN}}, rule),
                    Catch::Contains("('l0.qkv') has kurtosis nan"));
  CHECK_THROWS_WITH(rotq::select_layers_by_kurtosis({}, rule), Catch::Contains("layers is empty"));
}
