// Tests for detail/hadamard_pairs.hpp: which matrices have the paired form
// H = [[A, A - 2I], [A - 2I, -A]], and that fwht applies such bases (A on the sums and the
// differences of the halves) exactly as the dense matrix does, on every strip width the SIMD
// kernels distinguish.

#include <rotq/hadamard.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/matrices.hpp"

namespace {

// (H_m (x) S_p) / sqrt(n) from the signs and the Sylvester recursion: independent of the fast
// transform and of rotq::hadamard_matrix.
Eigen::MatrixXd dense_hadamard(std::size_t m, std::size_t p) {
  const auto signs = rotq::hadamard_base_signs(m);
  const Eigen::MatrixXd s = rotq_test::sylvester_by_recursion(p);
  const auto sp = static_cast<Eigen::Index>(p);
  Eigen::MatrixXd h(static_cast<Eigen::Index>(m * p), static_cast<Eigen::Index>(m * p));
  for (std::size_t a = 0; a < m; ++a)
    for (std::size_t b = 0; b < m; ++b)
      h.block(Eigen::Index(a) * sp, Eigen::Index(b) * sp, sp, sp) = signs[a * m + b] * s;
  return h / std::sqrt(double(m * p));
}

}  // namespace

TEST_CASE("Paley II matrices have the paired form; Paley I and Williamson ones do not",
          "[hadamard][pairs]") {
  for (std::size_t m : {12u, 28u, 36u, 60u, 76u, 100u, 108u, 148u, 196u}) {
    CAPTURE(m);
    const auto h = rotq::detail::paley2(m);
    REQUIRE(h.size() == m * m);
    CHECK(rotq::detail::has_paired_form(h, m));
    // The quarter is the top-left block, with +1 on its diagonal.
    const auto a = rotq::detail::paired_quarter(h, m);
    for (std::size_t i = 0; i < m / 2; ++i) CHECK(a[i * (m / 2) + i] == 1);
  }
  for (std::size_t m : {44u, 68u, 84u}) {  // Paley I only: m / 2 - 1 is no prime power
    CAPTURE(m);
    CHECK_FALSE(rotq::detail::has_paired_form(rotq::detail::paley1(m), m));
  }
  const auto williamson =
      rotq::detail::block_circulant(*rotq::detail::find_block_circulant_design(172));
  CHECK_FALSE(rotq::detail::has_paired_form(williamson, 172));
  // One flipped sign anywhere breaks the form.
  auto h = rotq::detail::paley2(28);
  h[3 * 28 + 20] = static_cast<std::int8_t>(-h[3 * 28 + 20]);
  CHECK_FALSE(rotq::detail::has_paired_form(h, 28));
}

TEST_CASE("bases with the paired form are planned on their quarter", "[hadamard][pairs]") {
  for (std::size_t m : {12u, 108u, 148u}) {
    CAPTURE(m);
    const auto shape = rotq::detail::resolve_fwht_shape(m * 64, "test");
    REQUIRE(shape.base);
    CHECK(shape.base->paired);
    CHECK(shape.base->forward.order == m / 2);
    CHECK(shape.base->transposed.order == m / 2);
  }
  for (std::size_t m : {44u, 172u}) {
    CAPTURE(m);
    CHECK_FALSE(rotq::detail::resolve_fwht_shape(m * 64, "test").base->paired);
  }
}

TEST_CASE("paired bases transform as the dense matrix on every strip width", "[hadamard][pairs]") {
  // p = 1..4: registers narrower than the back end's; 8: one register per strip; 16 and 32: two
  // (AVX2; AVX-512 takes one up to 16). n stays small enough for dense matrices.
  for (std::size_t m : {12u, 108u, 148u}) {
    for (std::size_t p : {1u, 2u, 4u, 8u, 16u, 32u}) {
      const std::size_t n = m * p;
      CAPTURE(m, p);
      const Eigen::MatrixXd h = dense_hadamard(m, p);
      const Eigen::VectorXd x = rotq_test::gaussian<Eigen::VectorXd>(Eigen::Index(n), 1, 3);
      const double bound = x.cwiseAbs().maxCoeff() * std::sqrt(double(n));

      Eigen::VectorXd y = x, t = x;
      rotq::fwht(y.data(), n);
      rotq::fwht_transposed(t.data(), n);
      CHECK((y - h * x).cwiseAbs().maxCoeff() <= 1e-13 * bound);
      CHECK((t - h.transpose() * x).cwiseAbs().maxCoeff() <= 1e-13 * bound);

      Eigen::VectorXf yf = x.cast<float>(), tf = x.cast<float>();
      rotq::fwht(yf.data(), n);
      rotq::fwht_transposed(tf.data(), n);
      const double float_bound = 32 * std::numeric_limits<float>::epsilon() * bound;
      CHECK((yf.cast<double>() - h * x).cwiseAbs().maxCoeff() <= float_bound);
      CHECK((tf.cast<double>() - h.transpose() * x).cwiseAbs().maxCoeff() <= float_bound);
    }
  }
}
