// Tests for <rotq/procrustes.hpp>: Procrustes recovers planted rotations, is optimal against other
// orthogonal candidates, stays orthogonal for rank-deficient input; orthonormalize's contract.

#include <rotq/procrustes.hpp>
#include <rotq/rotation.hpp>

#include <catch2/catch.hpp>

#include "support/matrices.hpp"

namespace {

Eigen::MatrixXd gaussian(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  return rotq_test::gaussian<Eigen::MatrixXd>(rows, cols, seed);
}

double misfit(const Eigen::MatrixXd& a, const Eigen::MatrixXd& r, const Eigen::MatrixXd& b) {
  return (a * r - b).norm();
}

}  // namespace

TEST_CASE("procrustes of a hand-worked 2 x 2 case", "[procrustes]") {
  // A = I, B = 2 * (a quarter turn): the nearest orthogonal matrix to B is the quarter turn.
  Eigen::MatrixXd b(2, 2);
  b << 0, 2, -2, 0;
  Eigen::MatrixXd expected(2, 2);
  expected << 0, 1, -1, 0;
  CHECK((rotq::procrustes(Eigen::MatrixXd::Identity(2, 2), b) - expected).cwiseAbs().maxCoeff() <
        1e-15);
}

TEST_CASE("procrustes recovers a planted rotation exactly without noise", "[procrustes]") {
  const Eigen::MatrixXd a = gaussian(300, 24, 1);
  const Eigen::MatrixXd r = rotq::random_orthogonal(24, 11);
  const Eigen::MatrixXd found = rotq::procrustes(a, a * r);
  CHECK((found - r).cwiseAbs().maxCoeff() < 1e-12);
  // Reflections are orthogonal too, and recovered as such.
  Eigen::MatrixXd reflection = Eigen::MatrixXd::Identity(24, 24);
  reflection(5, 5) = -1;
  CHECK((rotq::procrustes(a, a * reflection) - reflection).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("procrustes recovers a planted rotation approximately under noise", "[procrustes]") {
  const Eigen::MatrixXd a = gaussian(4000, 16, 2);
  const Eigen::MatrixXd r = rotq::random_orthogonal(16, 12);
  const Eigen::MatrixXd b = a * r + 0.05 * gaussian(4000, 16, 3);
  const Eigen::MatrixXd found = rotq::procrustes(a, b);
  // Each entry's error is about sigma / sqrt(N) = 0.05 / 63 ~ 1e-3.
  CHECK((found - r).cwiseAbs().maxCoeff() < 5e-3);
  CHECK(misfit(a, found, b) <= misfit(a, r, b));
}

TEST_CASE("procrustes beats every other orthogonal candidate", "[procrustes]") {
  const Eigen::MatrixXd a = gaussian(50, 12, 4);
  const Eigen::MatrixXd b = gaussian(50, 12, 5);  // unrelated: a real fitting problem
  const Eigen::MatrixXd found = rotq::procrustes(a, b);
  CHECK(rotq::orthogonality_error(found) < 1e-12);
  const double best = misfit(a, found, b);
  for (std::uint64_t seed = 0; seed < 50; ++seed)
    CHECK(best <= misfit(a, rotq::random_orthogonal(12, seed), b));
  // Nearby rotations R exp(eps K), K skew-symmetric, are worse too: R is a true minimum.
  for (unsigned seed = 0; seed < 10; ++seed) {
    const Eigen::MatrixXd g = gaussian(12, 12, 100 + seed);
    const Eigen::MatrixXd skew = 1e-3 * (g - g.transpose());
    const Eigen::MatrixXd nearby =
        rotq::orthonormalize(found * (Eigen::MatrixXd::Identity(12, 12) + skew));
    CHECK(best < misfit(a, nearby, b));
  }
}

TEST_CASE("procrustes stays orthogonal for rank-deficient input", "[procrustes]") {
  // Fewer rows than columns (rank 3 of 10), and a zero column on top.
  Eigen::MatrixXd a = gaussian(3, 10, 6);
  a.col(4).setZero();
  const Eigen::MatrixXd b = gaussian(3, 10, 7);
  const Eigen::MatrixXd found = rotq::procrustes(a, b);
  CHECK(rotq::orthogonality_error(found) < 1e-12);
  for (std::uint64_t seed = 0; seed < 20; ++seed)
    CHECK(misfit(a, found, b) <= misfit(a, rotq::random_orthogonal(10, seed), b) + 1e-12);
  // All-zero A: nothing is determined, R is still orthogonal.
  const Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(4, 6);
  CHECK(rotq::orthogonality_error(rotq::procrustes(zero, gaussian(4, 6, 9))) < 1e-12);
}

TEST_CASE("procrustes rejects mismatched, empty and non-finite input", "[procrustes][errors]") {
  CHECK_THROWS_WITH(rotq::procrustes(Eigen::MatrixXd::Ones(4, 3), Eigen::MatrixXd::Ones(4, 2)),
                    Catch::Contains("a is 4 x 3 but b is 4 x 2, expected one shape"));
  CHECK_THROWS_WITH(rotq::procrustes(Eigen::MatrixXd(0, 3), Eigen::MatrixXd(0, 3)),
                    Catch::Contains("a is 0 x 3, expected a nonempty matrix"));
  Eigen::MatrixXd bad = Eigen::MatrixXd::Ones(3, 3);
  bad(1, 1) = NAN;
  CHECK_THROWS_WITH(rotq::procrustes(Eigen::MatrixXd::Ones(3, 3), bad),
                    Catch::Contains("b holds NaN or Inf"));
}

TEST_CASE("orthonormalize is the sign-fixed QR factor and keeps orthogonal input", "[procrustes]") {
  const Eigen::MatrixXd m = gaussian(9, 9, 8);
  const Eigen::MatrixXd q = rotq::orthonormalize(m);
  CHECK(rotq::orthogonality_error(q) < 1e-13);
  const Eigen::MatrixXd r = q.transpose() * m;  // must be upper triangular with diag > 0
  CHECK(r.triangularView<Eigen::StrictlyLower>().toDenseMatrix().cwiseAbs().maxCoeff() < 1e-12);
  CHECK(r.diagonal().minCoeff() > 0);
  const Eigen::MatrixXd rotation = rotq::random_orthogonal(9, 3);
  CHECK((rotq::orthonormalize(rotation) - rotation).cwiseAbs().maxCoeff() < 1e-13);
  CHECK_THROWS_WITH(rotq::orthonormalize(Eigen::MatrixXd::Ones(2, 3)),
                    Catch::Contains("m is 2 x 3, expected a nonempty square matrix"));
}
