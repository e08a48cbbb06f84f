// Tests for <rotq/permutation.hpp>: DuQuant's zigzag permutation against hand-worked examples.

#include <rotq/permutation.hpp>

#include <catch2/catch.hpp>

TEST_CASE("zigzag deals sorted channels 0,1,1,0,0,1,1,0 over two blocks", "[permutation]") {
  // Channel j has absmax 8 - j... shuffled: absmax[c] gives the rank order below.
  Eigen::VectorXd absmax(8);
  absmax << 5, 80, 1, 60, 30, 7, 40, 20;  // sorted descending: 1, 3, 6, 4, 7, 5, 0, 2
  const rotq::permutation p = rotq::zigzag_permutation(absmax, 4);
  // Dealing 1,3,6,4,7,5,0,2 to blocks 0,1,1,0,0,1,1,0: block 0 gets 1,4,7,2; block 1 gets 3,6,5,0.
  CHECK(p.perm() == std::vector<std::size_t>{1, 4, 7, 2, 3, 6, 5, 0});
}

TEST_CASE("zigzag over three blocks repeats each end", "[permutation]") {
  Eigen::VectorXd absmax = Eigen::VectorXd::LinSpaced(12, 12, 1);  // already descending: 0..11
  const rotq::permutation p = rotq::zigzag_permutation(absmax, 4);
  // Order of dealing: blocks 0,1,2,2,1,0,0,1,2,2,1,0.
  CHECK(p.perm() == std::vector<std::size_t>{0, 5, 6, 11, 1, 4, 7, 10, 2, 3, 8, 9});
}

TEST_CASE("zigzag balances the block maxima", "[permutation]") {
  Eigen::VectorXd absmax = Eigen::VectorXd::Ones(64);
  absmax[3] = 100;
  absmax[9] = 90;
  absmax[40] = 80;
  absmax[41] = 70;
  const rotq::permutation p = rotq::zigzag_permutation(absmax, 16);
  // The four largest channels land in four different blocks.
  std::vector<int> block_of(64);
  for (std::size_t j = 0; j < 64; ++j) block_of[p.perm()[j]] = int(j / 16);
  CHECK(block_of[3] == 0);
  CHECK(block_of[9] == 1);
  CHECK(block_of[40] == 2);
  CHECK(block_of[41] == 3);
}

TEST_CASE("zigzag rejects a block size that does not divide d, and NaN", "[permutation][errors]") {
  CHECK_THROWS_WITH(rotq::zigzag_permutation(Eigen::VectorXd::Ones(10), 4),
                    Catch::Contains("block_size = 4 does not divide the channel count d = 10"));
  CHECK_THROWS_AS(rotq::zigzag_permutation(Eigen::VectorXd::Ones(10), 0), rotq::error);
  Eigen::VectorXd nan = Eigen::VectorXd::Ones(4);
  nan[1] = std::nan("");
  CHECK_THROWS_WITH(rotq::zigzag_permutation(nan, 2), Catch::Contains("channel_absmax[1] = nan"));
}
