// Tests for <rotq/hadamard.hpp>: the fast transform against dense matrices built independently,
// orthogonality, the Sylvester and K-major Kronecker structure, errors, strides, storage types.

#include <rotq/hadamard.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/matrices.hpp"
#include "support/shared_data.hpp"

namespace {

Eigen::VectorXd random_vector(std::size_t n, unsigned seed) {
  return rotq_test::gaussian<Eigen::VectorXd>(static_cast<Eigen::Index>(n), 1, seed);
}

// fwht and fwht_transposed of a random vector of n floats against H_n and H_n^T in double.
void check_float_transforms_against_matrix(std::size_t n, unsigned seed) {
  const Eigen::VectorXd x = random_vector(n, seed);
  const Eigen::MatrixXd h = rotq::hadamard_matrix(n);
  Eigen::VectorXf y = x.cast<float>(), back = x.cast<float>();
  rotq::fwht(y.data(), n);
  rotq::fwht_transposed(back.data(), n);
  CHECK((y.cast<double>() - h * x).cwiseAbs().maxCoeff() < 1e-5);
  CHECK((back.cast<double>() - h.transpose() * x).cwiseAbs().maxCoeff() < 1e-5);
}

using rotq_test::sylvester_by_recursion;

Eigen::MatrixXd kronecker(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::MatrixXd k(a.rows() * b.rows(), a.cols() * b.cols());
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j)
      k.block(i * b.rows(), j * b.cols(), b.rows(), b.cols()) = a(i, j) * b;
  return k;
}

Eigen::MatrixXd base_matrix(std::size_t m) {
  const auto signs = rotq::hadamard_base_signs(m);
  Eigen::MatrixXd h(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(m));
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j) h(Eigen::Index(i), Eigen::Index(j)) = signs[i * m + j];
  return h;
}

// Sizes that exercise every construction: powers of two, Paley I (12, 20, 44), Paley II (28, 76),
// Paley over GF(p^k) (52 = GF(25), 100 = GF(49), 244 = GF(3^5)), stored Williamson (92, 172),
// Goethals-Seidel (188, 652), the 12 x 12 array (372), the 28 x 28 array (532) and Miyamoto
// (324 over GF(3^4), 436, 596).
const std::vector<std::size_t> kSizes = {
    1,   2,   4,   8,  16,  64,  256,   1024, 4096, 12,   24,  20,  80,   28,  112, 44,  76, 52,
    100, 200, 244, 92, 172, 344, 11008, 188,  652,  1304, 372, 532, 1064, 324, 648, 436, 596};

}  // namespace

TEST_CASE("fwht equals the dense hadamard_matrix times x, in double", "[hadamard]") {
  for (std::size_t n : kSizes) {
    CAPTURE(n);
    const Eigen::VectorXd x = random_vector(n, 7);
    const Eigen::MatrixXd h = rotq::hadamard_matrix(n);
    const Eigen::VectorXd expected = h * x;
    Eigen::VectorXd y = x;
    rotq::fwht(y.data(), n);
    CHECK((y - expected).cwiseAbs().maxCoeff() <=
          1e-12 * std::sqrt(double(n)) * x.cwiseAbs().maxCoeff());
    Eigen::VectorXd t = x;
    rotq::fwht_transposed(t.data(), n);
    const Eigen::VectorXd expected_t = h.transpose() * x;
    CHECK((t - expected_t).cwiseAbs().maxCoeff() <=
          1e-12 * std::sqrt(double(n)) * x.cwiseAbs().maxCoeff());
  }
}

TEST_CASE("float fwht agrees with the double reference to float rounding", "[hadamard]") {
  // 12 to 60 are dense products (detail/dense_hadamard.hpp) on groups of p elements, then S_p:
  // 44 of H_44's columns; 12, 24 = 12 * 2, 40 = 20 * 2, 48 = 12 * 4, 52, 56 = 28 * 2 and 60 of
  // half the order (paired bases). So are 100, 152 = 76 * 2 and 656 = 164 * 4 (paired, in
  // several passes over the columns), 68 and 88 = 44 * 2 (unpaired, in two passes); the others,
  // 136 = 68 * 2 and 176 = 44 * 4 among them, go by H_m and S_p.
  for (std::size_t n :
       {4096, 11008, 652, 100, 152, 656, 12, 24, 40, 44, 48, 52, 56, 60, 68, 88, 136, 176}) {
    CAPTURE(n);
    const Eigen::VectorXd x = random_vector(n, 11);
    const Eigen::VectorXd expected = rotq::hadamard_matrix(n) * x;
    Eigen::VectorXf y = x.cast<float>();
    rotq::fwht(y.data(), n);
    const double err = (y.cast<double>() - expected).cwiseAbs().maxCoeff();
    // Each output is a sum of n terms through log2(p) butterflies and the H_m mixing.
    CHECK(err <= 32 * std::numeric_limits<float>::epsilon() * std::sqrt(double(n)));
  }
}

TEST_CASE("H H^T = I for every base order up to 664, with sampled powers of two", "[hadamard]") {
  std::size_t checked = 0;
  for (std::size_t m = 4; m <= 664; m += 4) {
    if (!rotq::hadamard_supported(m)) continue;
    const std::size_t k = (m / 4) % 3;  // 2^0, 2^1 or 2^2, spread over the orders
    const std::size_t n = m << (m > 256 ? 0 : k);
    CAPTURE(m, n);
    const Eigen::MatrixXd h = rotq::hadamard_matrix(n);
    const double err =
        (h * h.transpose() - Eigen::MatrixXd::Identity(h.rows(), h.cols())).cwiseAbs().maxCoeff();
    CHECK(err < 1e-12);
    ++checked;
  }
  // Every multiple of 4 up to 664, nothing registered.
  CHECK(checked == 166);
}

TEST_CASE("every multiple of 4 up to 664 is supported without loading a table", "[hadamard]") {
  for (std::size_t m = 4; m <= 664; m += 4) {
    CAPTURE(m);
    CHECK(rotq::hadamard_supported(m));
    CHECK(rotq::hadamard_supported(m * 64));
  }
}

TEST_CASE("load_hadamard_base replaces a constructed base and drives the transform", "[hadamard]") {
  const std::vector<std::int8_t> constructed = rotq::hadamard_base_signs(436);
  const std::string path = rotq_test::shared_file("hadamard/had436.txt");
  const std::vector<std::int8_t> table = rotq_test::shared_hadamard_signs(436);
  REQUIRE(table.size() == 436u * 436u);
  REQUIRE(table != constructed);  // Miyamoto's matrix is not the shared one

  CHECK(rotq::load_hadamard_base(path) == 436);
  CHECK(rotq::hadamard_base_signs(436) == table);
  const std::size_t n = 436 * 2;
  const Eigen::VectorXd x = random_vector(n, 6);
  Eigen::VectorXd y = x;
  rotq::fwht(y.data(), n);
  Eigen::MatrixXd table_matrix(436, 436);
  for (Eigen::Index i = 0; i < 436; ++i)
    for (Eigen::Index j = 0; j < 436; ++j) table_matrix(i, j) = table[std::size_t(i * 436 + j)];
  const Eigen::MatrixXd expected_h =
      kronecker(table_matrix, sylvester_by_recursion(2)) / std::sqrt(double(n));
  CHECK((y - expected_h * x).cwiseAbs().maxCoeff() < 1e-12);

  rotq::register_hadamard_base(436, constructed);  // restore for the rest of this process
  CHECK(rotq::hadamard_base_signs(436) == constructed);
}

TEST_CASE("power-of-two matrices equal the Sylvester recursion", "[hadamard]") {
  for (std::size_t n = 1; n <= 512; n *= 2) {
    CAPTURE(n);
    CHECK(rotq::hadamard_matrix(n, rotq::normalization::none) == sylvester_by_recursion(n));
    CHECK(rotq::hadamard_base_order(n) == 1);
  }
}

TEST_CASE("m * 2^k sizes have the K-major Kronecker structure (H_m (x) S_p) / sqrt(n)",
          "[hadamard]") {
  for (std::size_t n : {std::size_t{24}, std::size_t{172}, std::size_t{344}, std::size_t{160},
                        std::size_t{1504}, std::size_t{648}}) {
    CAPTURE(n);
    const std::size_t m = rotq::hadamard_base_order(n), p = n / m;
    const Eigen::MatrixXd expected =
        kronecker(base_matrix(m), sylvester_by_recursion(p)) / std::sqrt(double(n));
    CHECK((rotq::hadamard_matrix(n) - expected).cwiseAbs().maxCoeff() < 1e-15);
  }
  CHECK(rotq::hadamard_base_order(11008) == 172);
  CHECK(rotq::hadamard_base_order(14336) == 28);
  CHECK(rotq::hadamard_base_order(18944) == 148);
}

TEST_CASE("normalization none is the raw +-1 transform", "[hadamard]") {
  for (std::size_t n : {std::size_t{64}, std::size_t{176}}) {
    const Eigen::VectorXd x = random_vector(n, 3);
    Eigen::VectorXd raw = x, unit = x;
    rotq::fwht(raw.data(), n, rotq::normalization::none);
    rotq::fwht(unit.data(), n);
    CHECK((raw - std::sqrt(double(n)) * unit).cwiseAbs().maxCoeff() < 1e-11);
    CHECK((rotq::hadamard_matrix(n, rotq::normalization::none) * x - raw).cwiseAbs().maxCoeff() <
          1e-11);
  }
}

TEST_CASE("fwht_transposed undoes fwht", "[hadamard]") {
  for (std::size_t n : {std::size_t{1024}, std::size_t{172}, std::size_t{11008}}) {
    const Eigen::VectorXd x = random_vector(n, 5);
    Eigen::VectorXd y = x;
    rotq::fwht(y.data(), n);
    rotq::fwht_transposed(y.data(), n);
    CHECK((y - x).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("unsupported sizes are rejected with a message naming n", "[hadamard][errors]") {
  for (std::size_t n : {std::size_t{0}, std::size_t{6}, std::size_t{10}, std::size_t{18},
                        std::size_t{2672}, std::size_t{668}, std::size_t{2932}}) {
    CAPTURE(n);
    CHECK_FALSE(rotq::hadamard_supported(n));
    CHECK_THROWS_WITH(rotq::hadamard_base_order(n),
                      Catch::Contains("n = " + std::to_string(n) + " is not a supported"));
    // Each error names the function the caller called.
    const std::string unsupported = "n = " + std::to_string(n) + " is not a supported";
    std::vector<float> x(n + 1, 1.0f);
    CHECK_THROWS_WITH(rotq::fwht(x.data(), n),
                      Catch::StartsWith("rotq::fwht: ") && Catch::Contains(unsupported));
    CHECK_THROWS_WITH(rotq::fwht_transposed(x.data(), n),
                      Catch::StartsWith("rotq::fwht_transposed: ") && Catch::Contains(unsupported));
    CHECK_THROWS_WITH(rotq::fwht_rows(rotq::matrix_view<float>(x.data(), 1, n)),
                      Catch::StartsWith("rotq::fwht_rows: ") && Catch::Contains(unsupported));
    CHECK_THROWS_WITH(
        rotq::fwht_rows_transposed(rotq::matrix_view<float>(x.data(), 1, n)),
        Catch::StartsWith("rotq::fwht_rows_transposed: ") && Catch::Contains(unsupported));
    CHECK_THROWS_WITH(rotq::hadamard_matrix(n),
                      Catch::StartsWith("rotq::hadamard_matrix: ") && Catch::Contains(unsupported));
    // An empty batch of a bad width fails as a full one does, not only once rows arrive.
    CHECK_THROWS_WITH(rotq::fwht_rows(rotq::matrix_view<float>(x.data(), 0, n)),
                      Catch::Contains(unsupported));
  }
  CHECK_NOTHROW(rotq::fwht_rows(rotq::matrix_view<float>(nullptr, 0, 12)));
  CHECK_THROWS_WITH(rotq::random_signs(std::size_t{1} << 62, 1),
                    Catch::Contains("signs do not fit in memory"));
  // Supported sizes whose dense matrix could not be allocated: an error, not an Eigen assertion
  // or std::bad_alloc. 2^28 is addressable (2^59 bytes) but beyond any machine's memory.
  for (std::size_t n :
       {std::size_t{1} << 28, std::size_t{1} << 31, std::size_t{1} << 62, std::size_t{1} << 63}) {
    CAPTURE(n);
    CHECK_THROWS_WITH(rotq::hadamard_matrix(n), Catch::Contains("does not fit in memory"));
  }
}

TEST_CASE("NaN input propagates without a crash", "[hadamard]") {
  std::vector<float> pow2(64, 1.0f), mixed(172, 1.0f);
  pow2[5] = std::numeric_limits<float>::quiet_NaN();
  mixed[5] = std::numeric_limits<float>::quiet_NaN();
  rotq::fwht(pow2.data(), pow2.size());
  rotq::fwht(mixed.data(), mixed.size());
  // In S_n every output depends on every input; with H_m mixing, so does every output of 172.
  for (float v : pow2) CHECK(std::isnan(v));
  for (float v : mixed) CHECK(std::isnan(v));
}

TEST_CASE("fwht_rows transforms strided rows and leaves the padding alone", "[hadamard]") {
  for (std::size_t n : {std::size_t{128}, std::size_t{172}}) {
    const std::size_t rows = 5, stride = n + 3;
    std::vector<double> data(rows * stride);
    std::mt19937 gen(1);
    std::normal_distribution<double> dist;
    for (auto& v : data) v = dist(gen);
    const std::vector<double> original = data;
    rotq::fwht_rows(rotq::matrix_view<double>(data.data(), rows, n, stride));
    const Eigen::MatrixXd h = rotq::hadamard_matrix(n);
    for (std::size_t r = 0; r < rows; ++r) {
      const Eigen::Map<const Eigen::VectorXd> in(original.data() + r * stride, Eigen::Index(n));
      const Eigen::Map<const Eigen::VectorXd> out(data.data() + r * stride, Eigen::Index(n));
      CHECK((out - h * in).cwiseAbs().maxCoeff() < 1e-12);
      for (std::size_t c = n; c < stride; ++c)
        CHECK(data[r * stride + c] == original[r * stride + c]);
    }
    rotq::fwht_rows_transposed(rotq::matrix_view<double>(data.data(), rows, n, stride));
    for (std::size_t i = 0; i < data.size(); ++i)
      CHECK(data[i] == Approx(original[i]).margin(1e-12));
  }
}

namespace {

// fwht_rows over `rows` rows of n, `stride` apart, must give each row the bits that fwht gives
// it alone: contiguous rows of a power of two run as one batch that prefetches each next row
// (chunks of 8192 and 2^17 span several L1 blocks, whose first passes prefetch the block after).
template <class T>
void check_rows_as_single_transforms(std::size_t n, std::size_t rows, std::size_t stride) {
  CAPTURE(n, rows, stride);
  std::vector<T> batch(rows * stride);
  std::mt19937 gen(unsigned(n + rows + stride));
  std::normal_distribution<float> dist;
  for (auto& v : batch) v = static_cast<T>(dist(gen));
  std::vector<T> alone = batch;
  rotq::fwht_rows(rotq::matrix_view<T>(batch.data(), rows, n, stride));
  for (std::size_t r = 0; r < rows; ++r) rotq::fwht(alone.data() + r * stride, n);
  CHECK(std::memcmp(batch.data(), alone.data(), batch.size() * sizeof(T)) == 0);
}

}  // namespace

TEST_CASE("fwht_rows gives every row the bits of fwht on that row alone", "[hadamard]") {
  for (std::size_t n :
       {std::size_t{1}, std::size_t{2}, std::size_t{4}, std::size_t{16}, std::size_t{64},
        std::size_t{4096}, std::size_t{8192}, std::size_t{1} << 17, std::size_t{192}}) {
    for (std::size_t rows : {std::size_t{2}, std::size_t{5}}) {
      check_rows_as_single_transforms<float>(n, rows, n);
      check_rows_as_single_transforms<Eigen::bfloat16>(n, rows, n);
      if (n <= 8192) {
        check_rows_as_single_transforms<double>(n, rows, n);
        check_rows_as_single_transforms<Eigen::half>(n, rows, n);
        check_rows_as_single_transforms<float>(n, rows, n + 8);  // strided: row by row
      }
    }
  }
}

TEST_CASE("contiguous short rows transform as the dense matrix does, in double", "[hadamard]") {
  // Rows of 2, 4 and 16 share registers in the batch (2 and 4 floats, 2 rows of 4 doubles).
  for (std::size_t n : {std::size_t{2}, std::size_t{4}, std::size_t{16}}) {
    CAPTURE(n);
    const std::size_t rows = 7;
    const Eigen::MatrixXd x =
        rotq_test::gaussian<Eigen::MatrixXd>(Eigen::Index(n), Eigen::Index(rows), 5);
    std::vector<double> data(x.data(), x.data() + x.size());  // column r of x is row r here
    rotq::fwht_rows(rotq::matrix_view<double>(data.data(), rows, n));
    const Eigen::MatrixXd expected = rotq::hadamard_matrix(n) * x;
    const Eigen::Map<const Eigen::MatrixXd> actual(data.data(), Eigen::Index(n),
                                                   Eigen::Index(rows));
    CHECK((actual - expected).cwiseAbs().maxCoeff() < 1e-14);
  }
}

TEST_CASE("fwht_rows takes a row-major Eigen matrix directly", "[hadamard]") {
  using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  row_major x = row_major::Random(3, 256);
  const row_major original = x;
  rotq::fwht_rows(x);
  const Eigen::MatrixXf expected = original * rotq::hadamard_matrix(256).transpose().cast<float>();
  CHECK((x - expected).cwiseAbs().maxCoeff() < 1e-5f);
}

TEST_CASE("half and bfloat16 storage are transformed in float and rounded once", "[hadamard]") {
  const std::size_t n = 344;
  const Eigen::VectorXd x = random_vector(n, 9);
  const Eigen::VectorXd expected = rotq::hadamard_matrix(n) * x;
  std::vector<Eigen::half> h(n);
  std::vector<Eigen::bfloat16> b(n);
  for (std::size_t i = 0; i < n; ++i) {
    h[i] = Eigen::half(float(x[Eigen::Index(i)]));
    b[i] = Eigen::bfloat16(float(x[Eigen::Index(i)]));
  }
  rotq::fwht(h.data(), n);
  rotq::fwht(b.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    const double e = expected[Eigen::Index(i)];
    // Input rounding (relative 2^-11 / 2^-8 per element) spreads over the orthonormal map; output
    // rounding adds half an ulp of the result.
    CHECK(std::abs(double(float(h[i])) - e) <= 4e-3 * (1 + std::abs(e)));
    CHECK(std::abs(double(float(b[i])) - e) <= 3e-2 * (1 + std::abs(e)));
  }
}

TEST_CASE("random_signs follow the SplitMix64 stream of algorithms.md", "[hadamard]") {
  // Expected strings computed with an independent Python implementation of the stream.
  auto as_string = [](const std::vector<int>& s) {
    std::string out;
    for (int v : s) out += v < 0 ? '-' : '+';
    return out;
  };
  CHECK(rotq::detail::splitmix64_at(0, 0) == 0xe220a8397b1dcdafull);
  CHECK(as_string(rotq::random_signs(24, 0)) == "-++-+++-+-+-----+-+----+");
  CHECK(as_string(rotq::random_signs(24, 42)) == "-++++-+-+-++---++++--+--");
  CHECK(as_string(rotq::random_signs(24, ~std::uint64_t{0})) == "--++---+-++-+-+-+++++-++");
  // Signs are balanced over a long stream.
  const auto many = rotq::random_signs(1 << 16, 7);
  long sum = 0;
  for (int v : many) sum += v;
  CHECK(std::abs(sum) < 1500);
}

TEST_CASE("register_hadamard_base validates and then drives the transform", "[hadamard][errors]") {
  const std::vector<std::int8_t> original = rotq::hadamard_base_signs(12);
  // A different Hadamard matrix of order 12: the original with rows 0 and 1 swapped and column 3
  // negated.
  std::vector<std::int8_t> other = original;
  for (std::size_t j = 0; j < 12; ++j) std::swap(other[j], other[12 + j]);
  for (std::size_t i = 0; i < 12; ++i)
    other[i * 12 + 3] = static_cast<std::int8_t>(-other[i * 12 + 3]);
  // A transform of the size first: rotq keeps the last size's shape per thread, and the
  // replacement must still reach the next transform.
  const Eigen::VectorXd x = random_vector(48, 2);
  Eigen::VectorXd before = x;
  rotq::fwht(before.data(), 48);
  rotq::register_hadamard_base(12, other);
  CHECK(rotq::hadamard_base_signs(12) == other);
  Eigen::VectorXd y = x;
  rotq::fwht(y.data(), 48);
  CHECK((y - rotq::hadamard_matrix(48) * x).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((y - before).cwiseAbs().maxCoeff() > 0.1);
  // In float, 48 is a dense product (detail/dense_hadamard.hpp): its matrix comes from the
  // registered signs too, which unlike the original's do not have the paired form.
  CHECK(rotq::detail::has_paired_form(original, 12));
  CHECK_FALSE(rotq::detail::has_paired_form(other, 12));
  Eigen::VectorXf y_float = x.cast<float>();
  rotq::fwht(y_float.data(), 48);
  CHECK((y_float.cast<double>() - rotq::hadamard_matrix(48) * x).cwiseAbs().maxCoeff() < 1e-5);
  rotq::register_hadamard_base(12, original);  // restore for the rest of this process
  Eigen::VectorXd again = x;
  rotq::fwht(again.data(), 48);
  CHECK(again == before);
  Eigen::VectorXf again_float = x.cast<float>();  // paired again
  rotq::fwht(again_float.data(), 48);
  CHECK((again_float.cast<double>() - rotq::hadamard_matrix(48) * x).cwiseAbs().maxCoeff() < 1e-5);

  std::vector<std::int8_t> broken = original;
  broken[5] = static_cast<std::int8_t>(-broken[5]);
  CHECK_THROWS_WITH(rotq::register_hadamard_base(12, broken), Catch::Contains("not a Hadamard"));
  CHECK_THROWS_WITH(rotq::register_hadamard_base(12, std::vector<std::int8_t>(100, 1)),
                    Catch::Contains("signs.size() = 100"));
  CHECK_THROWS_WITH(rotq::register_hadamard_base(8, std::vector<std::int8_t>(64, 1)),
                    Catch::Contains("m = 8 is not a base order"));
  // 24 = 8 * 3 has a Hadamard matrix, but sizes 24 * 2^k are built on the base of order 12.
  const Eigen::MatrixXd h24 = rotq::hadamard_matrix(24) * std::sqrt(24.0);
  std::vector<std::int8_t> signs24;
  for (Eigen::Index r = 0; r < 24; ++r)
    for (Eigen::Index c = 0; c < 24; ++c) signs24.push_back(h24(r, c) > 0 ? 1 : -1);
  CHECK_THROWS_WITH(rotq::register_hadamard_base(24, signs24),
                    Catch::Contains("m = 24 is not a base order"));
  CHECK_THROWS_WITH(rotq::hadamard_base_signs(56), Catch::Contains("m = 56 is not a base order"));
  // m * m wraps around to 16 for this m: the size check must not be fooled into reading m * m
  // entries.
  const std::size_t huge = (std::size_t{1} << 63) - 4;
  CHECK_THROWS_WITH(rotq::register_hadamard_base(huge, std::vector<std::int8_t>(16, 1)),
                    Catch::Contains("signs.size() = 16, expected m * m"));
  std::vector<std::int8_t> zero = original;
  zero[0] = 0;
  CHECK_THROWS_WITH(rotq::register_hadamard_base(12, zero), Catch::Contains("signs[0] = 0"));
  CHECK_THROWS_WITH(rotq::load_hadamard_base("/nonexistent/had12.txt"),
                    Catch::Contains("cannot open '/nonexistent/had12.txt'"));
}

TEST_CASE("bases of symmetric circulant blocks are applied through their Fourier plans",
          "[hadamard]") {
  // The Williamson bases are 4 x 4 arrays of symmetric circulant blocks, which float transforms
  // with short chunks apply in a real Fourier basis (detail/circulant_blocks.hpp); other bases
  // are not. The plan comes from the signs in use, so a registered base gets one when it has the
  // form and none otherwise, and the transform equals the dense product of that base either way.
  for (std::size_t m : {92u, 116u, 156u, 172u}) {
    CAPTURE(m);
    const std::vector<std::int8_t> signs = rotq::hadamard_base_signs(m);
    CHECK(rotq::detail::circulant_plan(signs, m, false).order() == m / 4);
    CHECK(rotq::detail::circulant_plan(signs, m, true).order() == m / 4);
  }
  for (std::size_t m : {12u, 44u, 108u, 188u}) {  // Paley I and II, Goethals-Seidel
    CAPTURE(m);
    CHECK(rotq::detail::circulant_plan(rotq::hadamard_base_signs(m), m, false).order() == 0);
  }

  const std::size_t m = 92, t = 23;
  const std::vector<std::int8_t> original = rotq::hadamard_base_signs(m);
  auto swap_rows = [&](std::vector<std::int8_t> signs, std::size_t a, std::size_t b) {
    for (std::size_t j = 0; j < m; ++j) std::swap(signs[a * m + j], signs[b * m + j]);
    return signs;
  };
  // Block rows 0 and 1 exchanged keep the form; two rows inside a block do not.
  std::vector<std::int8_t> blocks_swapped = original;
  for (std::size_t i = 0; i < t; ++i) blocks_swapped = swap_rows(blocks_swapped, i, t + i);
  const std::vector<std::int8_t> rows_swapped = swap_rows(original, 0, 1);
  const std::vector<std::pair<std::vector<std::int8_t>, bool>> cases = {{blocks_swapped, true},
                                                                        {rows_swapped, false}};
  for (const auto& [signs, planned] : cases) {
    CAPTURE(planned);
    rotq::register_hadamard_base(m, signs);
    const auto base = rotq::detail::hadamard_registry::instance().find(m);
    CHECK((base->circulant_forward.order() == t) == planned);
    CHECK((base->circulant_transposed.order() == t) == planned);
    for (std::size_t n : {m, 2 * m, 4 * m}) {
      CAPTURE(n);
      check_float_transforms_against_matrix(n, 9);
    }
  }
  rotq::register_hadamard_base(m, original);  // restore for the rest of this process
  CHECK(rotq::detail::hadamard_registry::instance().find(m)->circulant_forward.order() == t);
}

TEST_CASE("bases with a circulant core are applied by shifted sums", "[hadamard]") {
  // Paley I over a prime field is [[alpha, beta 1^T], [gamma 1, C]] with C circulant; float
  // transforms with short chunks apply it by shifted sums (detail/bordered_circulant.hpp), in
  // both orientations. Its steps share additions: the plan of 132 (65 shifts of the quadratic
  // residues) adds fewer sequences than that.
  for (std::size_t m : {44u, 68u, 132u, 140u}) {
    CAPTURE(m);
    const std::vector<std::int8_t> signs = rotq::hadamard_base_signs(m);
    for (bool transpose : {false, true}) {
      const rotq::detail::bordered_circulant_plan plan(signs, m, transpose);
      CHECK(plan.order() == m - 1);
      CHECK(plan.steps().size() + plan.term_offsets().size() < (m - 1) / 2);
    }
  }
  for (std::size_t m : {12u, 92u, 108u, 188u}) {  // Paley II, Williamson, Goethals-Seidel
    CAPTURE(m);
    CHECK(rotq::detail::bordered_circulant_plan(rotq::hadamard_base_signs(m), m, false).order() ==
          0);
  }

  // Registered bases: every sign of the border and of the core's majority, and a base without
  // the form, against the dense product of that base.
  const std::size_t m = 68;
  const std::vector<std::int8_t> original = rotq::hadamard_base_signs(m);
  std::vector<std::int8_t> first_row_negated = original, columns_negated = original,
                           rows_swapped = original;
  for (std::size_t j = 0; j < m; ++j) {
    first_row_negated[j] = static_cast<std::int8_t>(-original[j]);
    std::swap(rows_swapped[m + j], rows_swapped[2 * m + j]);
    for (std::size_t i = 0; i < m; ++i)
      if (j > 0) columns_negated[i * m + j] = static_cast<std::int8_t>(-original[i * m + j]);
  }
  const std::vector<std::pair<std::vector<std::int8_t>, bool>> cases = {
      {first_row_negated, true}, {columns_negated, true}, {rows_swapped, false}};
  for (std::size_t c = 0; c < cases.size(); ++c) {
    CAPTURE(c);
    rotq::register_hadamard_base(m, cases[c].first);
    const auto base = rotq::detail::hadamard_registry::instance().find(m);
    CHECK((base->bordered_forward.order() == m - 1) == cases[c].second);
    CHECK((base->bordered_transposed.order() == m - 1) == cases[c].second);
    for (std::size_t n : {m, 2 * m, 4 * m}) {
      CAPTURE(n);
      CHECK((base->bordered<float>(false, n / m) != nullptr) == cases[c].second);
      check_float_transforms_against_matrix(n, 10);
    }
  }
  rotq::register_hadamard_base(m, original);  // restore for the rest of this process
  CHECK(rotq::detail::hadamard_registry::instance().find(m)->bordered_forward.order() == m - 1);
}

TEST_CASE("paired bases with a circulant core are applied by shifted sums of their quarter",
          "[hadamard]") {
  // Paley II over a prime field is [[A, A - 2I], [A - 2I, -A]] with A = [[1, 1^T], [1, C]], C
  // circulant of order m / 2 - 1: the bordered kernel applies the whole base from A's plan, on
  // u = z0 + z1 and v = z0 - z1. Over GF(25), GF(49) and GF(81) (52, 100, 164) C is developed over
  // a group that is not cyclic: no plan.
  auto& registry = rotq::detail::hadamard_registry::instance();
  for (std::size_t m : {12u, 28u, 36u, 60u, 76u, 84u, 108u, 124u, 148u}) {
    CAPTURE(m);
    const auto base = registry.find(m);
    REQUIRE(base->paired);
    for (bool transpose : {false, true}) {
      const rotq::detail::bordered_circulant_plan& plan =
          transpose ? base->bordered_transposed : base->bordered_forward;
      CHECK(plan.order() == m / 2 - 1);
      CHECK(plan.paired());
      // The non-residues' (m / 2 - 2) / 2 shifts, fewer once a step pairs some of them.
      if (m >= 60) CHECK(plan.steps().size() + plan.term_offsets().size() < (m / 2 - 2) / 2);
    }
  }
  for (std::size_t m : {52u, 100u, 164u}) {
    CAPTURE(m);
    CHECK(registry.find(m)->paired);
    CHECK(registry.find(m)->bordered_forward.order() == 0);
  }

  // The kernel itself, portable and active, for every chunk it takes, whichever product the
  // transform of that size uses.
  const rotq::detail::fwht_kernels<float>* kernels[] = {
      &rotq::detail::fwht_tables<float>::portable(), &rotq::detail::active_fwht_kernels<float>()};
  for (std::size_t m : {60u, 148u})
    for (std::size_t p : {1u, 2u, 4u})
      for (bool transpose : {false, true})
        for (const auto* k : kernels) {
          const std::size_t n = m * p;
          CAPTURE(m, p, transpose);
          const auto base = registry.find(m);
          const rotq::detail::bordered_circulant_plan* plan = base->bordered<float>(transpose, p);
          REQUIRE(plan != nullptr);
          const Eigen::VectorXd x = random_vector(n, 11);
          Eigen::VectorXf y = x.cast<float>();
          std::vector<float> work(plan->work_size(p));
          k->apply_bordered(*plan, y.data(), y.data(), p, float(1 / std::sqrt(double(n))),
                            work.data());
          const Eigen::MatrixXd h = rotq::hadamard_matrix(n);
          const Eigen::VectorXd expected =
              transpose ? Eigen::VectorXd(h.transpose() * x) : Eigen::VectorXd(h * x);
          CHECK((y.cast<double>() - expected).cwiseAbs().maxCoeff() < 1e-5);
        }

  // Registered bases that keep the paired form: A's border negated (D A D with
  // D = diag(1, -1, ..., -1) on both halves) keeps the circulant core, A's rows and columns 1
  // and 2 exchanged do not.
  const std::size_t m = 124, half = m / 2;
  const std::vector<std::int8_t> original = rotq::hadamard_base_signs(m);
  std::vector<std::int8_t> border_negated = original, exchanged = original;
  auto index = [&](std::size_t i) { return i % half == 1 ? i + 1 : i % half == 2 ? i - 1 : i; };
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      const bool flip = (i % half == 0) != (j % half == 0);
      border_negated[i * m + j] =
          static_cast<std::int8_t>(flip ? -original[i * m + j] : original[i * m + j]);
      exchanged[i * m + j] = original[index(i) * m + index(j)];
    }
  const std::vector<std::pair<std::vector<std::int8_t>, bool>> cases = {{border_negated, true},
                                                                        {exchanged, false}};
  for (std::size_t c = 0; c < cases.size(); ++c) {
    CAPTURE(c);
    rotq::register_hadamard_base(m, cases[c].first);
    const auto base = registry.find(m);
    CHECK(base->paired);
    CHECK((base->bordered_forward.order() == half - 1) == cases[c].second);
    CHECK((base->bordered_transposed.order() == half - 1) == cases[c].second);
    for (std::size_t n : {m, 2 * m, 4 * m}) {
      CAPTURE(n);
      check_float_transforms_against_matrix(n, 12);
    }
  }
  rotq::register_hadamard_base(m, original);  // restore for the rest of this process
  CHECK(registry.find(m)->bordered_forward.order() == half - 1);
}

TEST_CASE("concurrent first use of a base order builds it once and transforms correctly",
          "[hadamard]") {
  const std::size_t n = 236 * 4;
  const Eigen::VectorXd x = random_vector(n, 4);
  std::vector<Eigen::VectorXd> results(4, x);
  std::vector<std::thread> threads;
  for (auto& r : results)
    threads.emplace_back([&r] { rotq::fwht(r.data(), std::size_t(r.size())); });
  for (auto& t : threads) t.join();
  const Eigen::VectorXd expected = rotq::hadamard_matrix(n) * x;
  for (const auto& r : results) CHECK((r - expected).cwiseAbs().maxCoeff() < 1e-12);
}
