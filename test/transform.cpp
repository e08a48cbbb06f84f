// Tests for <rotq/transform.hpp> and every transform kind it holds: the dense-matrix properties,
// invariance, inverses, strides, and the errors each constructor raises.

#include <rotq/transform.hpp>

#include <catch2/catch.hpp>

#include "support/transform_checks.hpp"

using rotq_test::check_strided_rows;
using rotq_test::check_transform_properties;

namespace {

std::vector<Eigen::MatrixXd> random_blocks(std::size_t count, std::size_t bs, std::uint64_t seed) {
  std::vector<Eigen::MatrixXd> blocks;
  for (std::size_t b = 0; b < count; ++b) blocks.push_back(rotq::random_orthogonal(bs, seed + b));
  return blocks;
}

}  // namespace

TEST_CASE("hadamard_transform is T = H_n^T, and its inverse H_n", "[transform]") {
  for (std::size_t n : {std::size_t{64}, std::size_t{172}, std::size_t{344}}) {
    CAPTURE(n);
    const rotq::hadamard_transform t(n);
    CHECK((t.matrix() - rotq::hadamard_matrix(n).transpose()).cwiseAbs().maxCoeff() == 0.0);
    check_transform_properties(t);
    check_strided_rows(t);
  }
  CHECK_THROWS_WITH(rotq::hadamard_transform(6), Catch::Contains("n = 6"));
}

TEST_CASE("random_hadamard is T = D_s H_n^T with the seed's signs", "[transform]") {
  for (std::size_t n : {std::size_t{64}, std::size_t{172}}) {
    CAPTURE(n);
    const rotq::random_hadamard t(n, 123);
    const std::vector<int> s = rotq::random_signs(n, 123);
    Eigen::MatrixXd expected = rotq::hadamard_matrix(n).transpose();
    for (std::size_t i = 0; i < n; ++i) expected.row(Eigen::Index(i)) *= s[i];
    CHECK((t.matrix() - expected).cwiseAbs().maxCoeff() == 0.0);
    check_transform_properties(t);
    check_strided_rows(t);
  }
  // Different seeds give different transforms.
  CHECK((rotq::random_hadamard(64, 1).matrix() - rotq::random_hadamard(64, 2).matrix()).norm() > 1);
}

TEST_CASE("channel_scaling divides activations and multiplies weights", "[transform]") {
  Eigen::VectorXd s(4);
  s << 2.0, 0.5, 4.0, 1.0;
  const rotq::channel_scaling t(s);
  rotq_test::row_major_d x(1, 4), w(1, 4);
  x << 2, 2, 2, 2;
  w << 1, 1, 1, 1;
  t.apply_activations(x);
  t.apply_weights(w);
  CHECK(x(0, 0) == 1.0);
  CHECK(x(0, 1) == 4.0);
  CHECK(w(0, 2) == 4.0);
  check_transform_properties(t);
  check_strided_rows(t);
  Eigen::VectorXd bad = s;
  bad[2] = 0.0;
  CHECK_THROWS_WITH(rotq::channel_scaling(bad), Catch::Contains("s[2] = 0"));
  bad[2] = std::nan("");
  CHECK_THROWS_WITH(rotq::channel_scaling(bad), Catch::Contains("s[2] = nan"));
  // Finite in double, but 0 or infinite in float, or with a reciprocal that is: float rows
  // would get 0 or inf. The message names s itself, not its reciprocal.
  for (const double outside_float : {1e-39, -1e-39, 1e39, 1e-310}) {
    bad[2] = outside_float;
    CHECK_THROWS_WITH(
        rotq::channel_scaling(bad),
        Catch::Contains("s[2] = ") && Catch::Contains("expected a nonzero scale that float holds"));
  }
  bad[2] = -3e-39;  // the smallest magnitudes that still work, either sign
  CHECK_NOTHROW(rotq::channel_scaling(bad).inverse());
}

TEST_CASE("permutation gathers y_j = x_perm[j]", "[transform]") {
  const rotq::permutation p({2, 0, 3, 1});
  rotq_test::row_major_d x(1, 4);
  x << 10, 11, 12, 13;
  p.apply_activations(x);
  CHECK(x(0, 0) == 12);
  CHECK(x(0, 1) == 10);
  CHECK(x(0, 2) == 13);
  CHECK(x(0, 3) == 11);
  check_transform_properties(p);
  check_strided_rows(p);
  CHECK_THROWS_WITH(rotq::permutation({0, 0, 1}), Catch::Contains("perm[1] = 0 appears twice"));
  CHECK_THROWS_WITH(rotq::permutation({0, 3, 1}), Catch::Contains("perm[1] = 3"));
  CHECK_THROWS_AS(rotq::permutation({}), rotq::error);
}

TEST_CASE("block_rotation applies one orthogonal block per slot", "[transform]") {
  const rotq::block_rotation t(random_blocks(4, 16, 3));
  CHECK(t.size() == 64);
  CHECK(t.block_size() == 16);
  check_transform_properties(t);
  check_strided_rows(t);
  const Eigen::MatrixXd dense = t.matrix();
  CHECK(dense.block(0, 16, 16, 16).cwiseAbs().maxCoeff() == 0.0);  // block diagonal

  auto blocks = random_blocks(2, 8, 5);
  blocks[1](0, 0) += 0.01;
  CHECK_THROWS_WITH(rotq::block_rotation(blocks), Catch::Contains("blocks[1] is not orthogonal"));
  auto uneven = random_blocks(2, 8, 5);
  uneven[1] = rotq::random_orthogonal(4, 1);
  CHECK_THROWS_WITH(rotq::block_rotation(uneven),
                    Catch::Contains("blocks[1] is 4 x 4, expected 8 x 8"));
  CHECK_THROWS_AS(rotq::block_rotation({}), rotq::error);
}

TEST_CASE("dense_rotation applies any orthogonal matrix and rejects others", "[transform]") {
  const rotq::dense_rotation t(rotq::random_orthogonal(48, 8));
  check_transform_properties(t);
  check_strided_rows(t);
  Eigen::MatrixXd not_orthogonal = rotq::random_orthogonal(8, 2);
  not_orthogonal(3, 4) += 1e-3;
  CHECK_THROWS_WITH(rotq::dense_rotation(not_orthogonal), Catch::Contains("r is not orthogonal"));
  CHECK_THROWS_WITH(rotq::dense_rotation(Eigen::MatrixXd::Identity(3, 4)),
                    Catch::Contains("r is 3 x 4, expected a square matrix"));
}

TEST_CASE("random_orthogonal is orthogonal and reproducible from its seed", "[transform]") {
  const Eigen::MatrixXd a = rotq::random_orthogonal(32, 77);
  CHECK(rotq::orthogonality_error(a) < 1e-12);
  CHECK(a == rotq::random_orthogonal(32, 77));
  CHECK((a - rotq::random_orthogonal(32, 78)).norm() > 1);
}

TEST_CASE("transform wraps every kind and forwards to it", "[transform]") {
  const std::vector<rotq::transform> all = {
      rotq::hadamard_transform(32),
      rotq::random_hadamard(32, 4),
      rotq::channel_scaling(Eigen::VectorXd::LinSpaced(32, 0.5, 3.0)),
      rotq::permutation(rotq::zigzag_permutation(Eigen::VectorXd::LinSpaced(32, 1, 32), 8)),
      rotq::block_rotation(random_blocks(4, 8, 1)),
      rotq::dense_rotation(rotq::random_orthogonal(32, 2))};
  const char* kinds[] = {"hadamard",    "random_hadamard", "channel_scaling",
                         "permutation", "block_rotation",  "dense_rotation"};
  for (std::size_t i = 0; i < all.size(); ++i) {
    CAPTURE(i);
    CHECK(std::string(all[i].kind()) == kinds[i]);
    check_transform_properties(all[i], unsigned(i));
  }
  CHECK(all[1].get_if<rotq::random_hadamard>()->seed() == 4);
  CHECK(all[1].get_if<rotq::permutation>() == nullptr);
}

TEST_CASE("applying a transform to a matrix of the wrong width is an error",
          "[transform][errors]") {
  rotq_test::row_major_f x(2, 63);
  CHECK_THROWS_WITH(rotq::hadamard_transform(64).apply_activations(x),
                    Catch::Contains("x.cols = 63, expected the transform's size n = 64"));
  CHECK_THROWS_AS(rotq::dense_rotation(rotq::random_orthogonal(64, 1)).apply_weights(x),
                  rotq::error);
}
