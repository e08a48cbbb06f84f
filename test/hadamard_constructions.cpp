// Tests for the constructions behind <rotq/hadamard.hpp>: finite fields, Paley I and II, the
// stored block-circulant generators checked entry by entry against shared/hadamard/, and
// Miyamoto's construction.

#include <rotq/hadamard.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "support/shared_data.hpp"

namespace {

// H H^T = m I exactly, counted independently of rotq::detail::is_hadamard: with the -1 entries as
// set bits, rows i and j are orthogonal iff they differ in exactly m / 2 places.
bool gram_is_m_identity(const rotq::detail::sign_matrix& h, std::size_t m) {
  if (h.size() != m * m) return false;
  const std::size_t words = (m + 63) / 64;
  std::vector<std::uint64_t> bits(m * words, 0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      if (h[i * m + j] != 1 && h[i * m + j] != -1) return false;
      if (h[i * m + j] < 0) bits[i * words + j / 64] |= std::uint64_t{1} << (j % 64);
    }
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = i + 1; j < m; ++j) {
      std::size_t differ = 0;
      for (std::size_t w = 0; w < words; ++w) {
        // Bits counted by pairs, nibbles and bytes, inline: without -mpopcnt,
        // __builtin_popcountll is a library call and makes this check five times slower.
        std::uint64_t v = bits[i * words + w] ^ bits[j * words + w];
        v -= (v >> 1) & 0x5555555555555555u;
        v = (v & 0x3333333333333333u) + ((v >> 2) & 0x3333333333333333u);
        v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fu;
        differ += static_cast<std::size_t>((v * 0x0101010101010101u) >> 56);
      }
      if (2 * differ != m) return false;
    }
  return true;
}

// q = p^k for an odd prime p, by trial division (independent of rotq's factor_prime_power).
bool is_odd_prime_power(std::size_t q) {
  if (q % 2 == 0 || q < 3) return false;
  std::size_t p = 3;
  while (p * p <= q && q % p != 0) p += 2;
  if (q % p != 0) return true;  // no divisor up to sqrt(q): q itself is prime
  while (q % p == 0) q /= p;
  return q == 1;
}

// The whole H_n (n a multiple of 4 that rotq supports) as signs, through the public dense matrix.
rotq::detail::sign_matrix whole_hadamard(std::size_t n) {
  const Eigen::MatrixXd h = rotq::hadamard_matrix(n, rotq::normalization::none);
  rotq::detail::sign_matrix signs(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      signs[i * n + j] = static_cast<std::int8_t>(h(Eigen::Index(i), Eigen::Index(j)));
  return signs;
}

// m = 4q (q a prime power, q = 1 mod 4) up to 4096 that neither Paley construction nor a stored
// design reaches and whose H_{q-1} rotq builds: listed from the theorem's hypotheses by a separate
// script, not from rotq's code.
const std::vector<std::size_t> kMiyamotoOnlyOrders = {
    324,  436,  596,  772,  932,  964,  1028, 1076, 1108, 1268, 1396, 1412, 1444, 1492, 1556,
    1588, 1604, 1636, 1732, 1796, 1828, 1844, 2036, 2116, 2164, 2228, 2276, 2452, 2564, 2612,
    2692, 2836, 2916, 3044, 3076, 3092, 3236, 3284, 3428, 3524, 3716, 3812, 3844, 4084};

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
  for (std::size_t m :
       {12u, 20u, 44u, 60u, 68u, 84u, 108u, 132u, 140u, 164u, 180u, 212u, 228u, 252u, 244u}) {
    CAPTURE(m);
    REQUIRE(rotq::detail::paley1_reaches(m));
    CHECK(rotq::detail::is_hadamard(rotq::detail::paley1(m), m));
  }
  for (std::size_t m :
       {12u, 28u, 36u, 60u, 76u, 108u, 124u, 148u, 196u, 204u, 220u, 228u, 52u, 100u, 340u, 580u}) {
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
    CHECK(built == rotq_test::shared_hadamard_signs(design.order));
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
  // In fifths of a table store: 12 -> 344 at g = 3 (378 at 4); a paired 124's half, 62 -> 4912
  // at g = 4 (5124 at 5, with as many batches); 74 -> 6472 at g = 5 (7112 at 4, in a third
  // batch); 172 -> 29514 at g = 5, the largest.
  CHECK(rotq::detail::best_group_size(12) == 3);
  CHECK(rotq::detail::best_group_size(62) == 4);
  CHECK(rotq::detail::best_group_size(74) == 5);
  CHECK(rotq::detail::best_group_size(172) == rotq::detail::max_base_group);
  CHECK(rotq::detail::best_group_size(1) == 1);
  // Decoding the plan's codes reproduces every entry of the matrix, for the cheapest groups and
  // for the groups of the lane kernel, whose lane codes name the same sums (entry = sum index,
  // plus 4 when negated) and pad the rows to a multiple of 8 with zeros.
  const auto h = rotq::detail::block_circulant(*rotq::detail::find_block_circulant_design(172));
  for (std::size_t group : {rotq::detail::best_group_size(172), rotq::detail::lane_group})
    for (bool transpose : {false, true}) {
      CAPTURE(group, transpose);
      const auto plan = rotq::detail::make_base_group_plan(h, 172, transpose, group);
      REQUIRE(plan.group == group);
      REQUIRE(plan.groups == (172 + group - 1) / group);
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
      if (group != rotq::detail::lane_group) {
        CHECK(plan.lane_codes.empty());
        continue;
      }
      REQUIRE(plan.lane_rows == 176);
      REQUIRE(plan.lane_codes.size() == plan.groups * 176);
      for (std::size_t grp = 0; grp < plan.groups; ++grp)
        for (std::size_t a = 0; a < 176; ++a) {
          const unsigned lane_code = plan.lane_codes[grp * 176 + a];
          if (a >= 172) {
            REQUIRE(lane_code == 0);
            continue;
          }
          const unsigned code = plan.codes[grp * 172 + a];
          REQUIRE(lane_code == ((code & 0x7fu) | ((code & 0x80u) != 0 ? 4u : 0u)));
        }
    }
}

TEST_CASE("Miyamoto's construction gives H H^T = 4q I for every prime power q = 1 mod 4 below 256",
          "[hadamard][miyamoto]") {
  std::size_t built = 0;
  for (std::size_t q = 5; q < 256; q += 4) {
    if (!is_odd_prime_power(q)) continue;
    CAPTURE(q);
    REQUIRE(rotq::detail::miyamoto_field_size(4 * q) == q);
    // K of order q - 1 from the public transform: any Hadamard matrix will do.
    const auto h = rotq::detail::miyamoto(4 * q, whole_hadamard(q - 1));
    CHECK(gram_is_m_identity(h, 4 * q));
    ++built;
  }
  // 5 9 13 17 25 29 37 41 49 53 61 73 81 89 97 101 109 113 121 125 137 149 157 169 173 181 193
  // 197 229 233 241
  CHECK(built == 31);
}

TEST_CASE("Miyamoto's construction rejects orders and K it does not apply to",
          "[hadamard][miyamoto][errors]") {
  using rotq::detail::miyamoto_field_size;
  CHECK(miyamoto_field_size(324) == 81);
  CHECK(miyamoto_field_size(436) == 109);
  CHECK(miyamoto_field_size(596) == 149);
  CHECK(miyamoto_field_size(108) == 0);  // q = 27 = 3 (mod 4)
  CHECK(miyamoto_field_size(180) == 0);  // q = 45, not a prime power
  CHECK(miyamoto_field_size(4) == 0);    // q = 1
  CHECK(miyamoto_field_size(326) == 0);
  CHECK(rotq::detail::miyamoto(108, rotq::detail::sign_matrix(26 * 26, 1)).empty());
  CHECK(rotq::detail::miyamoto(324, whole_hadamard(76)).empty());  // K must have order 80
  CHECK(rotq::detail::miyamoto(324, whole_hadamard(80)).size() == 324u * 324u);
}

TEST_CASE("Miyamoto reaches 324, 436, 596 and 41 more base orders up to 4096 nothing else does",
          "[hadamard][miyamoto]") {
  using rotq::detail::hadamard_registry;
  std::vector<std::size_t> only_miyamoto;
  for (std::size_t m = 12; m <= 4096; m += 8)  // the base orders 4 * odd
    if (hadamard_registry::miyamoto_reaches(m) && !rotq::detail::paley1_reaches(m) &&
        !rotq::detail::paley2_reaches(m) && rotq::detail::find_block_circulant_design(m) == nullptr)
      only_miyamoto.push_back(m);
  CHECK(only_miyamoto == kMiyamotoOnlyOrders);
  for (std::size_t m : kMiyamotoOnlyOrders) {
    CAPTURE(m);
    CHECK(rotq::hadamard_supported(m));
    CHECK(rotq::hadamard_supported(m * 8));
  }
  // Orders 4q with q = 1 (mod 4) a prime power but no constructed H_{q-1} (732 = 4 * 183, 756,
  // 852, 876, 940, 996 and 1012 are missing); 3508 and 3988 are Paley II orders anyway (q = 1753,
  // 1993) and 4052 a Paley I order (q = 4051).
  for (std::size_t m : {2932u, 3028u, 3412u, 3508u, 3764u, 3988u, 4052u}) {
    CAPTURE(m);
    CHECK(rotq::detail::miyamoto_field_size(m) == m / 4);
    CHECK_FALSE(hadamard_registry::miyamoto_reaches(m));
  }
  for (std::size_t m : {2932u, 3028u, 3412u, 3764u}) CHECK_FALSE(rotq::hadamard_supported(m));
  for (std::size_t m : {3508u, 3988u, 4052u}) CHECK(rotq::hadamard_supported(m));
}

// The exact check costs about m^3 / 128 word operations, so the orders are split in two cases.
TEST_CASE("the bases only Miyamoto builds satisfy H H^T = m I exactly, up to 2048",
          "[hadamard][miyamoto]") {
  for (std::size_t m : kMiyamotoOnlyOrders) {
    if (m > 2048) continue;
    CAPTURE(m);
    CHECK(gram_is_m_identity(rotq::hadamard_base_signs(m), m));
  }
}

TEST_CASE("the bases only Miyamoto builds satisfy H H^T = m I exactly, from 2048 to 4096",
          "[hadamard][miyamoto]") {
  for (std::size_t m : kMiyamotoOnlyOrders) {
    if (m < 2048) continue;
    CAPTURE(m);
    CHECK(gram_is_m_identity(rotq::hadamard_base_signs(m), m));
  }
}
