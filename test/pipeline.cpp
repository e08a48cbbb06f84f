// Tests for <rotq/pipeline.hpp>: composition order, invariance for random pipelines of every
// kind, inverses and size checks.

#include <rotq/pipeline.hpp>

#include <catch2/catch.hpp>

#include <random>

#include "support/transform_checks.hpp"

namespace {

rotq::transform random_stage(std::size_t n, std::mt19937& gen) {
  const auto seed = static_cast<std::uint64_t>(gen());
  switch (gen() % 6) {
    case 0: return rotq::hadamard_transform(n);
    case 1: return rotq::random_hadamard(n, seed);
    case 2: {
      Eigen::VectorXd s(static_cast<Eigen::Index>(n));
      std::uniform_real_distribution<double> dist(0.25, 4.0);
      for (auto& v : s) v = dist(gen);
      return rotq::channel_scaling(s);
    }
    case 3: {
      std::vector<std::size_t> perm(n);
      std::iota(perm.begin(), perm.end(), std::size_t{0});
      std::shuffle(perm.begin(), perm.end(), gen);
      return rotq::permutation(perm);
    }
    case 4: {
      std::vector<Eigen::MatrixXd> blocks;
      for (std::size_t b = 0; b < n / 4; ++b)
        blocks.push_back(rotq::random_orthogonal(4, seed + b));
      return rotq::block_rotation(blocks);
    }
    default: return rotq::dense_rotation(rotq::random_orthogonal(n, seed));
  }
}

}  // namespace

TEST_CASE("a pipeline's matrix is the product T1 T2 ... Tk in order", "[pipeline]") {
  rotq::pipeline p;
  Eigen::VectorXd s = Eigen::VectorXd::LinSpaced(12, 1.0, 2.0);
  p.then(rotq::channel_scaling(s)).then(rotq::hadamard_transform(12));
  const Eigen::MatrixXd expected =
      rotq::channel_scaling(s).matrix() * rotq::hadamard_transform(12).matrix();
  CHECK((p.matrix() - expected).cwiseAbs().maxCoeff() < 1e-15);
  CHECK(p.size() == 12);
  CHECK(p.stages().size() == 2);
}

TEST_CASE("random pipelines of every kind keep (X T)(W T^-T)^T = X W^T", "[pipeline]") {
  std::mt19937 gen(2024);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t n = (trial % 2 == 0) ? 24 : 64;
    rotq::pipeline p;
    const int stages = 1 + trial % 5;
    for (int i = 0; i < stages; ++i) p.then(random_stage(n, gen));
    CAPTURE(trial, n, stages);
    rotq_test::check_transform_properties(p, unsigned(trial));
  }
}

TEST_CASE("pipelines nest by appending stages, and invert in reverse order", "[pipeline]") {
  rotq::pipeline a, b;
  a.then(rotq::random_hadamard(32, 1));
  b.then(rotq::permutation(rotq::zigzag_permutation(Eigen::VectorXd::LinSpaced(32, 0, 1), 8)))
      .then(rotq::dense_rotation(rotq::random_orthogonal(32, 5)));
  rotq::pipeline ab = a;
  ab.then(b);
  CHECK(ab.stages().size() == 3);
  CHECK((ab.matrix() - a.matrix() * b.matrix()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((ab.inverse().matrix() * ab.matrix() - Eigen::MatrixXd::Identity(32, 32))
            .cwiseAbs()
            .maxCoeff() < 1e-12);
}

TEST_CASE("a pipeline appended to itself repeats its stages", "[pipeline]") {
  // (R P)^3 as DuQuant-style repetitions build it: p.then(p) reads p while it grows.
  rotq::pipeline p;
  p.then(rotq::random_hadamard(16, 3))
      .then(rotq::permutation(rotq::zigzag_permutation(Eigen::VectorXd::LinSpaced(16, 0, 1), 4)));
  const Eigen::MatrixXd once = p.matrix();
  for (int doubling = 0; doubling < 3; ++doubling) p.then(p);  // 2, 4, then 8 repetitions
  CHECK(p.stages().size() == 16);
  Eigen::MatrixXd expected = Eigen::MatrixXd::Identity(16, 16);
  for (int r = 0; r < 8; ++r) expected *= once;
  CHECK((p.matrix() - expected).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("an empty pipeline is the identity; stage sizes must agree", "[pipeline][errors]") {
  rotq::pipeline p;
  rotq_test::row_major_f x = rotq_test::row_major_f::Random(3, 10);
  const rotq_test::row_major_f original = x;
  p.apply_activations(x);
  CHECK(x == original);
  CHECK(p.size() == 0);
  CHECK_THROWS_AS(p.matrix(), rotq::error);
  p.then(rotq::hadamard_transform(16));
  CHECK_THROWS_WITH(
      p.then(rotq::hadamard_transform(32)),
      Catch::Contains("the hadamard stage has size 32, expected the pipeline's size 16"));
}
