#pragma once
// permutation (a channel gather, y_j = x_{perm[j]}) and DuQuant's zigzag_permutation.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include "rotq/detail/apply_check.hpp"

namespace rotq {

/// x <- x P with y_j = x_{perm[j]} (P[perm[j]][j] = 1): channel perm[j] moves to position j.
/// Orthogonal, so weights get the same gather. inverse() moves every channel back.
class permutation {
public:
  static constexpr const char* kind = "permutation";

  /// Throws rotq::error unless perm holds each of 0..n-1 exactly once (n >= 1).
  explicit permutation(std::vector<std::size_t> perm) : perm_(std::move(perm)) {
    ROTQ_EXPECTS(!perm_.empty(), "perm is empty");
    std::vector<bool> seen(perm_.size(), false);
    for (std::size_t j = 0; j < perm_.size(); ++j) {
      ROTQ_EXPECTS(
          perm_[j] < perm_.size(),
          "perm[" << j << "] = " << perm_[j] << ", expected an index below n = " << perm_.size());
      ROTQ_EXPECTS(!seen[perm_[j]],
                   "perm[" << j << "] = " << perm_[j] << " appears twice; expected a permutation");
      seen[perm_[j]] = true;
    }
  }

  std::size_t size() const { return perm_.size(); }
  const std::vector<std::size_t>& perm() const { return perm_; }

  void apply_activations(matrix_view<float> x) const { gather(x); }
  void apply_activations(matrix_view<double> x) const { gather(x); }
  void apply_weights(matrix_view<float> w) const { gather(w); }
  void apply_weights(matrix_view<double> w) const { gather(w); }

  Eigen::MatrixXd matrix() const {
    const auto n = static_cast<Eigen::Index>(size());
    Eigen::MatrixXd p = Eigen::MatrixXd::Zero(n, n);
    for (std::size_t j = 0; j < size(); ++j) p(Eigen::Index(perm_[j]), Eigen::Index(j)) = 1.0;
    return p;
  }

  permutation inverse() const {
    std::vector<std::size_t> back(size());
    for (std::size_t j = 0; j < size(); ++j) back[perm_[j]] = j;
    return permutation(std::move(back));
  }

private:
  template <class T>
  void gather(matrix_view<T> x) const {
    detail::expect_width(x, size(), "permutation::apply");
    thread_local std::vector<T> row_copy;
    row_copy.resize(size());
    for (std::size_t r = 0; r < x.rows; ++r) {
      T* row = x.row(r);
      std::copy(row, row + size(), row_copy.begin());
      for (std::size_t j = 0; j < size(); ++j) row[j] = row_copy[perm_[j]];
    }
  }

  std::vector<std::size_t> perm_;
};

/// DuQuant's zigzag permutation (algorithms.md 3): channels sorted by `channel_absmax` descending
/// (ties by index) are dealt to the K = d / block_size blocks in the order 0, 1, ..., K-1, K-1,
/// ..., 1, 0, 0, 1, ..., so every block receives a balanced share of the large channels; each block
/// keeps its channels in descending order, and the permutation is the blocks concatenated.
/// Throws rotq::error if block_size is 0 or does not divide d, or a value is negative or NaN.
inline permutation zigzag_permutation(const Eigen::VectorXd& channel_absmax,
                                      std::size_t block_size) {
  const auto d = static_cast<std::size_t>(channel_absmax.size());
  ROTQ_EXPECTS(d > 0, "channel_absmax is empty");
  ROTQ_EXPECTS(block_size > 0 && d % block_size == 0,
               "block_size = " << block_size << " does not divide the channel count d = " << d);
  for (std::size_t j = 0; j < d; ++j)
    ROTQ_EXPECTS(channel_absmax[Eigen::Index(j)] >= 0.0,  // false for NaN too
                 "channel_absmax[" << j << "] = " << channel_absmax[Eigen::Index(j)]
                                   << ", expected a non-negative number");
  std::vector<std::size_t> order(d);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return channel_absmax[Eigen::Index(a)] > channel_absmax[Eigen::Index(b)];
  });
  const std::size_t blocks = d / block_size;
  std::vector<std::vector<std::size_t>> dealt(blocks);
  for (std::size_t i = 0; i < d; ++i) {
    const std::size_t turn = i % (2 * blocks);
    const std::size_t block = turn < blocks ? turn : 2 * blocks - 1 - turn;
    dealt[block].push_back(order[i]);
  }
  std::vector<std::size_t> perm;
  perm.reserve(d);
  for (const auto& block : dealt) perm.insert(perm.end(), block.begin(), block.end());
  return permutation(std::move(perm));
}

}  // namespace rotq
