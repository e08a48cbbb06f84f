#pragma once
// rotq::activation_statistics: what smoothing, DuQuant and DFRot need to know about one layer's
// input activations, collected batch by batch in bounded memory, mergeable across threads.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <utility>
#include <vector>

#include "rotq/detail/random.hpp"
#include "rotq/error.hpp"
#include "rotq/view.hpp"

namespace rotq {

/// The L2 norms of the tokens seen: smallest, largest and mean.
struct token_norm_summary {
  double min = 0.0;
  double max = 0.0;
  double mean = 0.0;
};

/// Statistics of the activations entering one layer, n channels wide, fed as batches of rows
/// (tokens x n, row-major): per-channel abs-max (smoothing's a_j, the zigzag order) and RMS,
/// a summary of the per-token norms, and a uniform random sample of at most `sample_capacity` of
/// the rows seen (reservoir sampling), the calibration rows of greedy_block_rotation and DFRot.
/// Memory is O(n * sample_capacity) however many rows stream through. The sample depends only on
/// the seed and the rows in order, so runs are reproducible. Two collectors fed from different
/// threads merge into the statistics of the union of their rows.
class activation_statistics {
public:
  /// Throws rotq::error if channels or sample_capacity is 0.
  explicit activation_statistics(std::size_t channels, std::size_t sample_capacity = 2048,
                                 std::uint64_t seed = 0)
      : channels_(channels),
        capacity_(sample_capacity),
        random_(seed),
        absmax_(Eigen::VectorXd::Zero(Eigen::Index(channels))),
        sum_squares_(Eigen::VectorXd::Zero(Eigen::Index(channels))) {
    ROTQ_EXPECTS(channels > 0, "channels = 0, expected at least one channel");
    ROTQ_EXPECTS(sample_capacity > 0, "sample_capacity = 0, expected room for at least one row");
  }

  /// Adds a batch of rows (tokens x n). Throws rotq::error, leaving the statistics unchanged, if
  /// the width is not n or an entry is NaN or Inf (naming its row and column in the batch and the
  /// row's index among all rows seen).
  void add(matrix_view<const float> x) { add_rows(x); }
  void add(matrix_view<const double> x) { add_rows(x); }

  /// Folds `other` (the same n and sample_capacity) into this collector: abs-max, RMS and token
  /// norms become those of the union of both row sets, and the sample a uniform sample of the
  /// union (each side contributes a hypergeometric share drawn with this collector's random
  /// stream). Throws rotq::error for a different n or sample_capacity.
  void merge(const activation_statistics& other) {
    ROTQ_EXPECTS(other.channels_ == channels_,
                 "other has " << other.channels_ << " channels, expected " << channels_);
    ROTQ_EXPECTS(other.capacity_ == capacity_,
                 "other has sample_capacity " << other.capacity_ << ", expected " << capacity_);
    std::vector<float> merged = merged_sample(other);
    absmax_ = absmax_.cwiseMax(other.absmax_);
    sum_squares_ += other.sum_squares_;
    if (other.rows_ > 0) {
      norm_min_ = rows_ > 0 ? std::min(norm_min_, other.norm_min_) : other.norm_min_;
      norm_max_ = std::max(norm_max_, other.norm_max_);
    }
    norm_sum_ += other.norm_sum_;
    rows_ += other.rows_;
    sample_ = std::move(merged);
  }

  std::size_t channels() const { return channels_; }
  std::size_t sample_capacity() const { return capacity_; }
  /// How many rows have been added (over all batches and merges).
  std::size_t rows_seen() const { return rows_; }
  bool empty() const { return rows_ == 0; }

  /// a_j = max_t |x_tj| over every row seen (n values). Throws rotq::error when empty.
  Eigen::VectorXd channel_absmax() const {
    expect_rows("activation_statistics::channel_absmax");
    return absmax_;
  }

  /// sqrt(mean_t x_tj^2) over every row seen (n values). Throws rotq::error when empty.
  Eigen::VectorXd channel_rms() const {
    expect_rows("activation_statistics::channel_rms");
    return (sum_squares_ / static_cast<double>(rows_)).cwiseSqrt();
  }

  /// Smallest, largest and mean ||x_t||_2 over every row seen. Throws rotq::error when empty.
  token_norm_summary token_norms() const {
    expect_rows("activation_statistics::token_norms");
    return {norm_min_, norm_max_, norm_sum_ / static_cast<double>(rows_)};
  }

  /// The sampled rows: min(rows_seen, sample_capacity) x n, row-major, a uniform random subset of
  /// the rows seen (in no particular order). The view is valid until the next add or merge.
  /// Throws rotq::error when empty.
  matrix_view<const float> sample() const {
    expect_rows("activation_statistics::sample");
    return {sample_.data(), sample_.size() / channels_, channels_};
  }

private:
  void expect_rows(const char* function) const {
    if (rows_ == 0)
      detail::throw_error(function, "no rows have been added: calibration data is empty");
  }

  std::size_t sample_rows() const { return sample_.size() / channels_; }

  // Uniform in [0, bound): the modulo bias is below bound / 2^64, far under any sampling noise.
  std::uint64_t uniform_below(std::uint64_t bound) { return random_.next() % bound; }

  template <class T>
  void add_rows(matrix_view<const T> x) {
    const std::size_t n = channels_;
    if (x.cols != n) {
      std::ostringstream message;
      message << "x has " << x.cols << " columns, expected the collector's " << n << " channels";
      detail::throw_error("activation_statistics::add", message.str());
    }
    for (std::size_t r = 0; r < x.rows; ++r)
      for (std::size_t c = 0; c < n; ++c)
        if (!std::isfinite(x(r, c))) {
          std::ostringstream message;
          message << "x(" << r << ", " << c << ") = " << x(r, c) << " (row " << rows_ + r
                  << " of the calibration data), expected a finite value";
          detail::throw_error("activation_statistics::add", message.str());
        }
    for (std::size_t r = 0; r < x.rows; ++r) {
      const T* row = x.row(r);
      double norm_squared = 0.0;
      for (std::size_t c = 0; c < n; ++c) {
        const double v = static_cast<double>(row[c]);
        absmax_[Eigen::Index(c)] = std::max(absmax_[Eigen::Index(c)], std::abs(v));
        sum_squares_[Eigen::Index(c)] += v * v;
        norm_squared += v * v;
      }
      const double norm = std::sqrt(norm_squared);
      norm_min_ = rows_ == 0 ? norm : std::min(norm_min_, norm);
      norm_max_ = std::max(norm_max_, norm);
      norm_sum_ += norm;
      offer_to_sample(row);
      ++rows_;
    }
  }

  // Algorithm R: row i (0-based) replaces a uniformly chosen slot with probability k / (i + 1).
  template <class T>
  void offer_to_sample(const T* row) {
    std::size_t slot = sample_rows();
    if (slot == capacity_) {
      slot = static_cast<std::size_t>(uniform_below(rows_ + 1));
      if (slot >= capacity_) return;
    } else {
      sample_.resize(sample_.size() + channels_);
    }
    std::transform(row, row + channels_, sample_.begin() + std::ptrdiff_t(slot * channels_),
                   [](T v) { return static_cast<float>(v); });
  }

  // A uniform sample of min(k, n_a + n_b) rows of the union: each draw comes from side a with
  // probability (rows of a not yet drawn) / (rows of both not yet drawn), which makes the count
  // from each side hypergeometric, as for a sample of the union, and takes a uniformly chosen
  // unused row of that side's sample, itself a uniform sample of that side.
  std::vector<float> merged_sample(const activation_statistics& other) {
    const std::vector<float>* sides[2] = {&sample_, &other.sample_};
    std::vector<std::size_t> pools[2];
    std::uint64_t undrawn[2] = {rows_, other.rows_};
    for (int s = 0; s < 2; ++s) {
      pools[s].resize(sides[s]->size() / channels_);
      for (std::size_t i = 0; i < pools[s].size(); ++i) pools[s][i] = i;
    }
    const std::size_t draws =
        static_cast<std::size_t>(std::min<std::uint64_t>(capacity_, undrawn[0] + undrawn[1]));
    std::vector<float> merged;
    merged.reserve(draws * channels_);
    for (std::size_t d = 0; d < draws; ++d) {
      const int s = uniform_below(undrawn[0] + undrawn[1]) < undrawn[0] ? 0 : 1;
      --undrawn[s];
      std::vector<std::size_t>& pool = pools[s];
      const std::size_t pick = static_cast<std::size_t>(uniform_below(pool.size()));
      const auto first = sides[s]->begin() + std::ptrdiff_t(pool[pick] * channels_);
      merged.insert(merged.end(), first, first + std::ptrdiff_t(channels_));
      pool[pick] = pool.back();
      pool.pop_back();
    }
    return merged;
  }

  std::size_t channels_;
  std::size_t capacity_;
  detail::random_stream random_;
  std::size_t rows_ = 0;
  Eigen::VectorXd absmax_;
  Eigen::VectorXd sum_squares_;
  double norm_min_ = 0.0;
  double norm_max_ = 0.0;
  double norm_sum_ = 0.0;
  std::vector<float> sample_;  // sample_rows() x channels_, row-major
};

}  // namespace rotq
