// Tests for the constructions behind <rotq/hadamard.hpp>: finite fields, Paley I and II, and the
// stored block-circulant generators checked entry by entry against shared/hadamard/.

#include <rotq/hadamard.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "support/shared_data.hpp"

namespace {

rotq::detail::sign_matrix read_table(std::size_t m) {
  std::ifstream in(rotq_test::shared_file("hadamard/had" + std::to_string(m) + ".txt"));
  rotq::detail::sign_matrix h;
  for (std::string line; std::getline(in, line);)
    for (char c : line) h.push_back(c == '+' ? 1 : -1);
  return h;
}

}  // namespace

TEST_CASE("prime powers are recognised", "[hadamard][field]") {
  using rotq::detail::factor_prime_power;
  CHECK(factor_prime_power(243).prime == 3);
  CHECK(factor_prime_power(243).exponent == 5);
  CHECK(factor_prime_power(49).prime == 7);
  CHECK(factor_prime_power(11).exponent == 1);
  CHECK(factor_prime_power(45).prime == 0);
  CHECK(factor_prime_power(1).prime == 0);
}

TEST_CASE("the quadratic character of GF(q) has (q-1)/2 squares and is multiplicative in effect",
          "[hadamard][field]") {
  for (std::size_t q : {7u, 25u, 27u, 49u, 81u, 243u, 289u}) {
    CAPTURE(q);
    const rotq::detail::galois_field field(q);
    int squares = 0, sum = 0;
    for (std::size_t x = 1; x < q; ++x) {
      squares += field.chi(x) == 1;
      sum += field.chi(x);
    }
    CHECK(squares == int(q - 1) / 2);
    CHECK(sum == 0);
    CHECK(field.chi(0) == 0);
    // -1 is a square exactly when q = 1 (mod 4).
    const std::size_t minus_one = field.subtract(0, 1);
    CHECK(field.chi(minus_one) == (q % 4 == 1 ? 1 : -1));
  }
  CHECK_THROWS_AS(rotq::detail::galois_field(12), rotq::error);
}

TEST_CASE("Paley I and II build Hadamard matrices of the orders algorithms.md lists",
          "[hadamard][paley]") {
  // Base orders (4 * odd) from the lists in algorithms.md 1.2, plus the prime-power-field ones.
  for (std::size_t m : {12u, 20u, 44u, 60u, 68u, 84u, 108u, 132u, 140u, 164u, 180u, 212u, 228u,
                        252u, 244u}) {
    CAPTURE(m);
    REQUIRE(rotq::detail::paley1_reaches(m));
    CHECK(rotq::detail::is_hadamard(rotq::detail::paley1(m), m));
  }
  for (std::size_t m : {12u, 28u, 36u, 60u, 76u, 108u, 124u, 148u, 196u, 204u, 220u, 228u, 52u,
                        100u, 340u, 580u}) {
    CAPTURE(m);
    REQUIRE(rotq::detail::paley2_reaches(m));
    CHECK(rotq::detail::is_hadamard(rotq::detail::paley2(m), m));
  }
  CHECK_FALSE(rotq::detail::paley1_reaches(92));
  CHECK_FALSE(rotq::detail::paley2_reaches(92));
  CHECK(rotq::detail::paley1(92).empty());
}

TEST_CASE("the stored generators rebuild the shared tables entry by entry", "[hadamard][stored]") {
  std::size_t count = 0;
  for (const auto& design : rotq::detail::block_circulant_designs) {
    CAPTURE(design.order);
    const auto built = rotq::detail::block_circulant(design);
    CHECK(built == read_table(design.order));
    CHECK(rotq::detail::is_hadamard(built, design.order));
    ++count;
  }
  // 92..236 below 256, and 260..652 except the Paley prime-power and the unstructured orders.
  CHECK(count == 21);
}

TEST_CASE("is_hadamard rejects near misses", "[hadamard]") {
  auto h = rotq::detail::paley1(20);
  REQUIRE(rotq::detail::is_hadamard(h, 20));
  h[7] = static_cast<std::int8_t>(-h[7]);
  CHECK_FALSE(rotq::detail::is_hadamard(h, 20));
  CHECK_FALSE(rotq::detail::is_hadamard(h, 21));
}

TEST_CASE("the column-group plan costs what best_group_size promises", "[hadamard]") {
  CHECK(rotq::detail::best_group_size(12) == 4);
  CHECK(rotq::detail::best_group_size(172) >= 6);
  CHECK(rotq::detail::best_group_size(1) == 1);
  // Decoding the plan's codes reproduces every entry of the matrix.
  const auto h = rotq::detail::block_circulant(*rotq::detail::find_block_circulant_design(172));
  for (bool transpose : {false, true}) {
    const auto plan = rotq::detail::make_base_group_plan(h, 172, transpose);
    for (std::size_t grp = 0; grp < plan.groups; ++grp)
      for (std::size_t a = 0; a < 172; ++a) {
        const std::uint8_t code = plan.codes[grp * 172 + a];
        const int lead = (code & 0x80) ? -1 : 1;
        for (std::size_t j = 0; j < plan.group && grp * plan.group + j < 172; ++j) {
          const std::size_t b = grp * plan.group + j;
          const int flip = j == 0 ? 1 : (((code >> (j - 1)) & 1) ? -1 : 1);
          const int entry = transpose ? h[b * 172 + a] : h[a * 172 + b];
          REQUIRE(lead * flip == entry);
        }
      }
  }
}
