// Tests for <rotq/duquant.hpp>: the base rotation against its textbook construction, the greedy
// block rotation on planted outliers (lowers the block peak, never raises it), the default block
// size rule and the dual transform as a pipeline (structure, invariance, quantisation error).

#include <rotq/duquant.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "support/quantization_checks.hpp"
#include "support/transform_checks.hpp"

namespace {

using rotq_test::int4_error;
using rotq_test::row_major_d;
using rotq_test::row_major_f;

/// Gaussian activations with four outlier channels, `factor` times larger than the others.
row_major_f planted_outliers(Eigen::Index tokens, Eigen::Index d, unsigned seed,
                             float factor = 40.0f) {
  row_major_f x = rotq_test::gaussian(tokens, d, seed).cast<float>();
  for (Eigen::Index c : {Eigen::Index(3), d / 3, d / 2 + 1, d - 2}) x.col(c) *= factor;
  return x;
}

double peak(const Eigen::MatrixXd& a) { return a.maxCoeff() - a.minCoeff(); }

Eigen::MatrixXd givens(Eigen::Index n, Eigen::Index i, double c, double s) {
  Eigen::MatrixXd g = Eigen::MatrixXd::Identity(n, n);
  g(i, i) = g(i + 1, i + 1) = c;
  g(i, i + 1) = -s;
  g(i + 1, i) = s;
  return g;
}

}  // namespace

TEST_CASE("the default block size: 128, or at least 4 blocks for small d", "[duquant]") {
  CHECK(rotq::duquant_block_size(4096) == 128);
  CHECK(rotq::duquant_block_size(11008) == 128);
  CHECK(rotq::duquant_block_size(256) == 64);
  CHECK(rotq::duquant_block_size(172) == 43);
  CHECK(rotq::duquant_block_size(64) == 16);
  CHECK(rotq::duquant_block_size(12) == 3);
  CHECK_THROWS_WITH(rotq::duquant_block_size(7), Catch::Contains("d = 7 has no divisor"));
  CHECK_THROWS_WITH(rotq::duquant_block_size(1031), Catch::Contains("d = 1031 has no divisor"));
}

TEST_CASE("the base rotation is the Givens product with 0 and bs - 1 exchanged", "[duquant]") {
  // bs = 2 by hand: G_0 = [[c, -s], [s, c]] with c = s = 1/sqrt(2), then rows and columns swapped.
  const double h = 1.0 / std::sqrt(2.0);
  Eigen::MatrixXd two(2, 2);
  two << h, h, -h, h;
  CHECK((rotq::duquant_base_rotation(2) - two).cwiseAbs().maxCoeff() < 1e-15);
  for (Eigen::Index bs : {3, 5, 16, 128}) {
    INFO("bs = " << bs);
    Eigen::MatrixXd product = Eigen::MatrixXd::Identity(bs, bs);
    for (Eigen::Index i = 0; i + 1 < bs; ++i)
      product =
          givens(bs, i, 1 / std::sqrt(i + 2.0), std::sqrt(i + 1.0) / std::sqrt(i + 2.0)) * product;
    Eigen::MatrixXd exchange = Eigen::MatrixXd::Identity(bs, bs);
    exchange(0, 0) = exchange(bs - 1, bs - 1) = 0;
    exchange(0, bs - 1) = exchange(bs - 1, 0) = 1;
    const Eigen::MatrixXd r = rotq::duquant_base_rotation(std::size_t(bs));
    CHECK((r - exchange * product * exchange).cwiseAbs().maxCoeff() < 1e-14);
    CHECK(rotq::orthogonality_error(r) < 1e-13);
    // Row 0 is uniformly 1 / sqrt(bs): channel 0 is spread evenly.
    CHECK((r.row(0).array() - 1 / std::sqrt(double(bs))).abs().maxCoeff() < 1e-14);
  }
  CHECK_THROWS_WITH(rotq::duquant_base_rotation(1), Catch::Contains("block_size = 1"));
}

TEST_CASE("the randomised base rotation is R diag(1, Q') with a seeded Q'", "[duquant]") {
  const Eigen::MatrixXd base = rotq::duquant_base_rotation(8);
  Eigen::MatrixXd diag = Eigen::MatrixXd::Identity(8, 8);
  diag.bottomRightCorner(7, 7) = rotq::random_orthogonal(7, 99);
  const Eigen::MatrixXd r = rotq::duquant_random_base_rotation(8, 99);
  CHECK((r - base * diag).cwiseAbs().maxCoeff() < 1e-14);
  CHECK(rotq::orthogonality_error(r) < 1e-13);
  CHECK(r(0, 0) == Approx(1 / std::sqrt(8.0)));
  CHECK((rotq::duquant_random_base_rotation(8, 100) - r).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("the greedy rotation lowers the block peak on planted outliers", "[duquant]") {
  const row_major_f x = planted_outliers(256, 64, 1);
  const rotq::block_rotation rotation = rotq::greedy_block_rotation(x, 16, {64, 5});
  REQUIRE(rotation.size() == 64);
  REQUIRE(rotation.block_size() == 16);
  const row_major_d xd = x.cast<double>();
  for (Eigen::Index b = 0; b < 4; ++b) {
    INFO("block " << b);
    const Eigen::MatrixXd block = xd.middleCols(b * 16, 16);
    const double before = peak(block);
    const double after = peak(block * rotation.blocks()[std::size_t(b)]);
    CHECK(after < 0.5 * before);  // every block holds an outlier channel
  }
  // The transform is an ordinary orthogonal block rotation.
  rotq_test::check_transform_properties(rotation);
}

TEST_CASE("the greedy rotation never raises the peak: identity when nothing helps", "[duquant]") {
  // Uniform data has the smallest possible peak for its norm; any rotation makes it more Gaussian
  // and raises max - min, so every block must stay the identity.
  std::mt19937 gen(2);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  row_major_f x(300, 32);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = uniform(gen);
  for (const auto variant :
       {rotq::greedy_rotation_variant::per_block, rotq::greedy_rotation_variant::shared}) {
    const rotq::block_rotation rotation = rotq::greedy_block_rotation(x, 8, {32, 0, variant});
    for (const Eigen::MatrixXd& block : rotation.blocks())
      CHECK(block == Eigen::MatrixXd::Identity(8, 8));
  }
  // A mixed case: half the blocks have outliers; none of the peaks rises.
  row_major_f mixed = x;
  mixed.col(2) *= 25.0f;
  mixed.col(13) *= 25.0f;
  const rotq::block_rotation rotation = rotq::greedy_block_rotation(mixed, 8, {32, 0});
  const row_major_d md = mixed.cast<double>();
  for (Eigen::Index b = 0; b < 4; ++b) {
    const Eigen::MatrixXd block = md.middleCols(b * 8, 8);
    CHECK(peak(block * rotation.blocks()[std::size_t(b)]) <= peak(block));
  }
  // Zero steps: the identity.
  const rotq::block_rotation no_steps = rotq::greedy_block_rotation(mixed, 8, {0, 0});
  for (const Eigen::MatrixXd& block : no_steps.blocks())
    CHECK(block == Eigen::MatrixXd::Identity(8, 8));
}

TEST_CASE("the shared variant uses one rotation for every block", "[duquant]") {
  const row_major_f x = planted_outliers(128, 48, 3);
  rotq::greedy_rotation_options options;
  options.steps = 48;
  options.variant = rotq::greedy_rotation_variant::shared;
  const rotq::block_rotation rotation = rotq::greedy_block_rotation(x, 16, options);
  for (const Eigen::MatrixXd& block : rotation.blocks()) CHECK(block == rotation.blocks().front());
  // Its peak over all blocks together does not rise, and here it falls.
  const row_major_d xd = x.cast<double>();
  const Eigen::MatrixXd shared = rotation.blocks().front();
  double before = 0, after = 0;
  Eigen::MatrixXd stacked(128 * 3, 16);
  for (Eigen::Index b = 0; b < 3; ++b) stacked.middleRows(b * 128, 128) = xd.middleCols(b * 16, 16);
  before = peak(stacked);
  after = peak(stacked * shared);
  CHECK(after < before);
}

TEST_CASE("the greedy rotation is reproducible from its seed", "[duquant]") {
  const row_major_f x = planted_outliers(64, 32, 4);
  const Eigen::MatrixXd a = rotq::greedy_block_rotation(x, 8, {16, 7}).matrix();
  CHECK(rotq::greedy_block_rotation(x, 8, {16, 7}).matrix() == a);
  CHECK(rotq::greedy_block_rotation(x, 8, {16, 8}).matrix() != a);
  // Double input gives the same channels and therefore the same rotation.
  const row_major_d xd = x.cast<double>();
  CHECK((rotq::greedy_block_rotation(xd, 8, {16, 7}).matrix() - a).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("greedy rotation rejects bad block sizes, empty and non-finite rows",
          "[duquant][errors]") {
  row_major_f x = planted_outliers(8, 12, 5);
  CHECK_THROWS_WITH(rotq::greedy_block_rotation(x, 5),
                    Catch::Contains("block_size = 5 does not divide the channel count d = 12"));
  CHECK_THROWS_WITH(rotq::greedy_block_rotation(x, 1),
                    Catch::Contains("block_size = 1, expected at least 2"));
  CHECK_THROWS_WITH(rotq::greedy_block_rotation(row_major_f(0, 12), 4),
                    Catch::Contains("calibration rows are empty"));
  x(6, 9) = NAN;
  CHECK_THROWS_WITH(rotq::greedy_block_rotation(x, 4), Catch::Contains("rows(6, 9) = nan"));
  CHECK_THROWS_WITH(rotq::duquant_transform(x), Catch::Contains("rows(6, 9) = nan"));
}

TEST_CASE("the dual transform is smoothing, R1, zigzag, R2 as a pipeline", "[duquant]") {
  const row_major_f x = planted_outliers(200, 64, 6);
  const Eigen::VectorXd weight_absmax = Eigen::VectorXd::LinSpaced(64, 0.05, 0.2);
  rotq::duquant_options options;
  options.steps = 32;
  options.seed = 11;
  options.smoothing = rotq::duquant_smoothing{weight_absmax, {}, 0.6, 1e-2};
  const rotq::pipeline p = rotq::duquant_transform(x, options);
  REQUIRE(p.stages().size() == 4);
  CHECK(std::string(p.stages()[0].kind()) == "channel_scaling");
  CHECK(std::string(p.stages()[1].kind()) == "block_rotation");
  CHECK(std::string(p.stages()[2].kind()) == "permutation");
  CHECK(std::string(p.stages()[3].kind()) == "block_rotation");
  CHECK(p.stages()[1].get_if<rotq::block_rotation>()->block_size() == 16);  // default for d = 64

  // Rebuild it from the documented steps with the public pieces.
  row_major_f working = x;
  const Eigen::VectorXd act = x.cast<double>().cwiseAbs().colwise().maxCoeff().transpose();
  const rotq::channel_scaling smooth(rotq::smoothing_scales(act, weight_absmax, 0.6, 1e-2));
  CHECK(p.stages()[0].matrix() == smooth.matrix());
  smooth.apply_activations(working);
  const rotq::block_rotation r1 =
      rotq::greedy_block_rotation(working, 16, {32, rotq::detail::splitmix64_at(11, 0)});
  CHECK(p.stages()[1].matrix() == r1.matrix());
  r1.apply_activations(working);
  const Eigen::VectorXd after_r1 =
      working.cast<double>().cwiseAbs().colwise().maxCoeff().transpose();
  const rotq::permutation zigzag = rotq::zigzag_permutation(after_r1, 16);
  CHECK(p.stages()[2].get_if<rotq::permutation>()->perm() == zigzag.perm());
  zigzag.apply_activations(working);
  const rotq::block_rotation r2 =
      rotq::greedy_block_rotation(working, 16, {32, rotq::detail::splitmix64_at(11, 1)});
  CHECK(p.stages()[3].matrix() == r2.matrix());

  rotq_test::check_transform_properties(p);
}

TEST_CASE("the dual transform repeats (R P)^n R and cuts the int4 error", "[duquant]") {
  // Moderate outlier channels (8x), as after smoothing: most values still matter to the quantiser.
  const row_major_f x = planted_outliers(300, 64, 7, 8.0f);
  rotq::duquant_options options;
  options.block_size = 8;
  options.steps = 64;
  options.permutation_rounds = 2;
  const rotq::pipeline p = rotq::duquant_transform(x, options);
  REQUIRE(p.stages().size() == 5);
  for (std::size_t i = 0; i < 5; ++i)
    CHECK(std::string(p.stages()[i].kind()) == (i % 2 == 0 ? "block_rotation" : "permutation"));
  const row_major_d xd = x.cast<double>();
  const row_major_d transformed = xd * p.matrix();
  CHECK(transformed.cwiseAbs().maxCoeff() < 0.5 * xd.cwiseAbs().maxCoeff());
  CHECK(int4_error(transformed) < 0.6 * int4_error(xd));
  options.permutation_rounds = 0;
  CHECK(rotq::duquant_transform(x, options).stages().size() == 1);
  options.block_size = 5;
  CHECK_THROWS_WITH(rotq::duquant_transform(x, options),
                    Catch::Contains("block_size = 5 does not divide the channel count d = 64"));
}
