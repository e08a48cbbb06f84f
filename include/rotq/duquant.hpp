#pragma once
// DuQuant (algorithms.md 3): greedy block rotations built from calibration outliers, the zigzag
// permutation between them, and the whole dual transform ((x / s) R1)[perm] R2 as a pipeline.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "rotq/channel_scaling.hpp"
#include "rotq/detail/expect_finite.hpp"
#include "rotq/detail/splitmix64.hpp"
#include "rotq/permutation.hpp"
#include "rotq/pipeline.hpp"
#include "rotq/rotation.hpp"
#include "rotq/smoothing.hpp"

namespace rotq {

/// The default DuQuant block size for d channels: the largest divisor of d that is at most
/// min(128, d / 4), so large layers get 128 and small ones at least 4 blocks (64 -> 16,
/// 172 -> 43, 4096 -> 128, 11008 -> 128). Throws rotq::error when that divisor is below 2 (d < 8,
/// or d with no divisor in [2, d / 4], such as a prime).
inline std::size_t duquant_block_size(std::size_t d) {
  const std::size_t limit = std::min<std::size_t>(128, d / 4);
  std::size_t bs = limit;
  while (bs >= 2 && d % bs != 0) --bs;
  ROTQ_EXPECTS(bs >= 2, "d = " << d << " has no divisor between 2 and min(128, d / 4) = " << limit
                               << "; pass a block size explicitly");
  return bs;
}

/// DuQuant's deterministic base rotation of size bs (x <- x R convention): the Givens product
/// G_{bs-2} ... G_1 G_0, where G_i rotates the plane (i, i + 1) with c = 1 / sqrt(i + 2),
/// s = sqrt(i + 1) / sqrt(i + 2) (G[i][i] = G[i+1][i+1] = c, G[i][i+1] = -s, G[i+1][i] = s), with
/// row and column 0 then swapped with bs - 1. Row 0 is uniformly 1 / sqrt(bs): an outlier in
/// channel 0 is spread evenly over the block. Throws rotq::error for bs < 2.
inline Eigen::MatrixXd duquant_base_rotation(std::size_t block_size) {
  ROTQ_EXPECTS(block_size >= 2, "block_size = " << block_size << ", expected at least 2");
  const auto bs = static_cast<Eigen::Index>(block_size);
  Eigen::MatrixXd r = Eigen::MatrixXd::Identity(bs, bs);
  for (Eigen::Index i = 0; i + 1 < bs; ++i) {
    const double c = 1.0 / std::sqrt(double(i + 2));
    const double s = std::sqrt(double(i + 1)) / std::sqrt(double(i + 2));
    const Eigen::RowVectorXd upper = r.row(i), lower = r.row(i + 1);
    r.row(i) = c * upper - s * lower;  // left-multiplying by G_i mixes rows i and i + 1
    r.row(i + 1) = s * upper + c * lower;
  }
  r.row(0).swap(r.row(bs - 1));
  r.col(0).swap(r.col(bs - 1));
  return r;
}

/// The base rotation of one greedy_block_rotation call: duquant_base_rotation(bs) diag(1, Q')
/// with Q' = random_orthogonal(bs - 1, seed). Channel 0 still keeps exactly 1 / sqrt(bs) of
/// itself; the random Q' varies how the rest is spread. Throws rotq::error for bs < 2.
inline Eigen::MatrixXd duquant_random_base_rotation(std::size_t block_size, std::uint64_t seed) {
  Eigen::MatrixXd r = duquant_base_rotation(block_size);
  const auto rest = static_cast<Eigen::Index>(block_size) - 1;
  r.rightCols(rest) = r.rightCols(rest) * random_orthogonal(std::size_t(rest), seed);
  return r;
}

/// Which greedy_block_rotation: `per_block` (the paper, the default) builds each block's rotation
/// from that block's own outliers; `shared` (the public DuQuant code) builds one rotation for all
/// blocks from the rows of every block together, taking the outlier index from the row index of
/// the largest entry modulo bs, as that code does.
enum class greedy_rotation_variant { per_block, shared };

/// The knobs of greedy_block_rotation.
struct greedy_rotation_options {
  std::size_t steps = 256;  ///< N greedy steps; the best prefix of them is kept
  std::uint64_t seed = 0;   ///< seeds Q' of the base rotation
  greedy_rotation_variant variant = greedy_rotation_variant::per_block;
};

namespace detail {

/// The peak max A - min A of a working matrix and the column of its largest |entry|.
struct peak_scan {
  double peak;
  Eigen::Index column;
};

inline peak_scan scan_peak(const Eigen::MatrixXf& a) {
  const Eigen::RowVectorXf high = a.colwise().maxCoeff();
  const Eigen::RowVectorXf low = a.colwise().minCoeff();
  Eigen::Index column = 0;
  high.cwiseMax(-low).maxCoeff(&column);
  return {double(high.maxCoeff()) - double(low.minCoeff()), column};
}

/// E_c R E_c, E_c swapping index 0 with c: the base rotation aimed at channel c.
inline Eigen::MatrixXd aim_at_channel(const Eigen::MatrixXd& base, Eigen::Index c) {
  Eigen::MatrixXd r = base;
  r.row(0).swap(r.row(c));
  r.col(0).swap(r.col(c));
  return r;
}

/// The greedy search on rows `a` (rows x bs, double): N steps, each rotating by the base aimed at
/// outlier_index(working, column of the largest |entry|), then the product of the prefix of steps
/// with the smallest peak. The steps run in float (they only choose the channels); the chosen
/// product is formed in double and, should float rounding have misjudged a marginal gain, checked
/// against the peak of `a` itself: the identity is returned unless it strictly lowers the peak.
template <class OutlierIndex>
Eigen::MatrixXd greedy_prefix(const Eigen::MatrixXd& a, const Eigen::MatrixXd& base,
                              std::size_t steps, const OutlierIndex& outlier_index) {
  const Eigen::Index bs = base.rows();
  Eigen::MatrixXf working = a.cast<float>();
  Eigen::MatrixXf next(working.rows(), bs);
  std::vector<Eigen::Index> aimed;
  peak_scan scan = scan_peak(working);
  double best_peak = scan.peak;
  std::size_t best_length = 0;
  for (std::size_t step = 1; step <= steps; ++step) {
    aimed.push_back(outlier_index(working, scan.column));
    next.noalias() = working * aim_at_channel(base, aimed.back()).cast<float>();
    working.swap(next);
    scan = scan_peak(working);
    if (scan.peak < best_peak) {
      best_peak = scan.peak;
      best_length = step;
    }
  }
  Eigen::MatrixXd product = Eigen::MatrixXd::Identity(bs, bs);
  for (std::size_t step = 0; step < best_length; ++step)
    product = product * aim_at_channel(base, aimed[step]);
  const Eigen::MatrixXd rotated = a * product;
  const bool lowers = rotated.maxCoeff() - rotated.minCoeff() < a.maxCoeff() - a.minCoeff();
  return lowers ? product : Eigen::MatrixXd::Identity(bs, bs);
}

inline void expect_block_size(std::size_t block_size, std::size_t d, const char* function) {
  if (block_size < 2)
    throw_error(function, "block_size = " + std::to_string(block_size) +
                              ", expected at least 2 channels per block");
  if (d % block_size != 0)
    throw_error(function, "block_size = " + std::to_string(block_size) +
                              " does not divide the channel count d = " + std::to_string(d));
}

/// Columns [first, first + width) of x as a double matrix.
template <class T>
Eigen::MatrixXd column_block(matrix_view<const T> x, std::size_t first, std::size_t width) {
  Eigen::MatrixXd block(Eigen::Index(x.rows), Eigen::Index(width));
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t c = 0; c < width; ++c)
      block(Eigen::Index(r), Eigen::Index(c)) = static_cast<double>(x(r, first + c));
  return block;
}

template <class T>
block_rotation greedy_block_rotation(matrix_view<const T> x, std::size_t block_size,
                                     const greedy_rotation_options& options) {
  const char* function = "greedy_block_rotation";
  if (x.empty())
    throw_error(function, "the calibration rows are empty (" + std::to_string(x.rows) + " x " +
                              std::to_string(x.cols) + "), expected at least one row");
  expect_block_size(block_size, x.cols, function);
  expect_finite(x, "rows", function);
  const std::size_t blocks = x.cols / block_size;
  const Eigen::MatrixXd base = duquant_random_base_rotation(block_size, options.seed);
  if (options.variant == greedy_rotation_variant::per_block) {
    const auto largest_column = [](const Eigen::MatrixXf&, Eigen::Index column) { return column; };
    std::vector<Eigen::MatrixXd> rotations;
    for (std::size_t b = 0; b < blocks; ++b)
      rotations.push_back(greedy_prefix(column_block(x, b * block_size, block_size), base,
                                        options.steps, largest_column));
    return block_rotation(std::move(rotations));
  }
  // The public code reshapes X (T x d, row-major) to rows of length bs: row t * K + b is block b
  // of token t.
  Eigen::MatrixXd stacked(Eigen::Index(x.rows * blocks), Eigen::Index(block_size));
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t t = 0; t < x.rows; ++t)
      for (std::size_t c = 0; c < block_size; ++c)
        stacked(Eigen::Index(t * blocks + b), Eigen::Index(c)) = double(x(t, b * block_size + c));
  const auto row_modulo_bs = [&](const Eigen::MatrixXf& working, Eigen::Index column) {
    Eigen::Index row = 0;
    working.col(column).cwiseAbs().maxCoeff(&row);
    return row % Eigen::Index(block_size);
  };
  const Eigen::MatrixXd shared = greedy_prefix(stacked, base, options.steps, row_modulo_bs);
  return block_rotation(std::vector<Eigen::MatrixXd>(blocks, shared));
}

}  // namespace detail

/// DuQuant's greedy block rotation (algorithms.md 3) from calibration rows x (T tokens x d,
/// row-major, after smoothing if any): for each of the K = d / bs blocks, N times find the entry
/// of largest |value|, take its channel c as the outlier and rotate the block by
/// E_c R_base E_c (R_base = duquant_random_base_rotation(bs, seed), E_c swapping 0 and c), which
/// spreads channel c over the block; keep the prefix of steps whose result has the smallest peak
/// max - min, or the identity if no prefix lowers it, so the peak of each block never rises.
/// Returns the block_rotation (T = diag(R_0, ..., R_{K-1}), x <- x T). The `shared` variant
/// builds one rotation for all blocks as the public code does. Cost: O(N T d bs). Throws
/// rotq::error for empty rows, a block size below 2 or not dividing d, or a NaN or Inf entry
/// (naming it).
inline block_rotation greedy_block_rotation(matrix_view<const float> x, std::size_t block_size,
                                            const greedy_rotation_options& options = {}) {
  return detail::greedy_block_rotation(x, block_size, options);
}
inline block_rotation greedy_block_rotation(matrix_view<const double> x, std::size_t block_size,
                                            const greedy_rotation_options& options = {}) {
  return detail::greedy_block_rotation(x, block_size, options);
}

/// The smoothing stage of the DuQuant transform: s = smoothing_scales(act_absmax, weight_absmax,
/// alpha, floor), with act_absmax taken from the calibration rows when left empty.
struct duquant_smoothing {
  Eigen::VectorXd weight_absmax;  ///< weight_column_absmax of the layers reading this input
  Eigen::VectorXd act_absmax;     ///< empty: max |x| per channel of the calibration rows
  double alpha = 0.6;
  double floor = 1e-2;
};

/// The knobs of duquant_transform; the defaults are the paper's (block size by
/// duquant_block_size, 256 steps, one permutation round, no smoothing).
struct duquant_options {
  std::size_t block_size = 0;          ///< 0: duquant_block_size(d)
  std::size_t steps = 256;             ///< greedy steps of each block rotation
  std::size_t permutation_rounds = 1;  ///< n in (R P)^n R
  std::uint64_t seed = 0;              ///< rotation k draws its Q' from splitmix64_at(seed, k)
  greedy_rotation_variant variant = greedy_rotation_variant::per_block;
  std::optional<duquant_smoothing> smoothing;  ///< none: no smoothing stage
};

namespace detail {

template <class T>
pipeline duquant_transform(matrix_view<const T> x, const duquant_options& options) {
  const char* function = "duquant_transform";
  if (x.empty()) throw_error(function, "the calibration rows are empty, expected at least one row");
  expect_finite(x, "rows", function);
  const std::size_t bs = options.block_size != 0 ? options.block_size : duquant_block_size(x.cols);
  expect_block_size(bs, x.cols, function);
  row_major_f working(Eigen::Index(x.rows), Eigen::Index(x.cols));
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t c = 0; c < x.cols; ++c)
      working(Eigen::Index(r), Eigen::Index(c)) = static_cast<float>(x(r, c));
  const auto channel_absmax = [&] {
    return Eigen::VectorXd(working.cwiseAbs().colwise().maxCoeff().cast<double>().transpose());
  };
  pipeline result;
  if (options.smoothing) {
    const duquant_smoothing& smooth = *options.smoothing;
    const Eigen::VectorXd act = smooth.act_absmax.size() > 0 ? smooth.act_absmax : channel_absmax();
    const channel_scaling scaling(
        smoothing_scales(act, smooth.weight_absmax, smooth.alpha, smooth.floor));
    scaling.apply_activations(working);
    result.then(scaling);
  }
  for (std::size_t round = 0; round <= options.permutation_rounds; ++round) {
    const greedy_rotation_options greedy{options.steps, splitmix64_at(options.seed, round),
                                         options.variant};
    const block_rotation rotation =
        greedy_block_rotation(matrix_view<const float>(working), bs, greedy);
    rotation.apply_activations(working);
    result.then(rotation);
    if (round == options.permutation_rounds) break;
    const permutation zigzag = zigzag_permutation(channel_absmax(), bs);
    zigzag.apply_activations(working);
    result.then(zigzag);
  }
  return result;
}

}  // namespace detail

/// The whole DuQuant transform of one layer input (algorithms.md 3), calibrated on rows x
/// (T tokens x d, row-major): optional smoothing s, a greedy block rotation R_1, the zigzag
/// permutation P of the channel abs-max after R_1, and another greedy block rotation R_2, with
/// the permutation rounds repeating as (R P)^n R; each stage is calibrated on the rows as the
/// earlier stages leave them. Returns the pipeline channel_scaling(s), R_1, P, R_2, ... so that
/// activations get x <- ((x / s) R_1)[perm] R_2 and weights diag(s) and the same orthogonal
/// part. Throws rotq::error for empty rows, NaN or Inf (naming the entry), a block size that does
/// not divide d, and as smoothing_scales does for a bad smoothing stage.
inline pipeline duquant_transform(matrix_view<const float> x, const duquant_options& options = {}) {
  return detail::duquant_transform(x, options);
}
inline pipeline duquant_transform(matrix_view<const double> x,
                                  const duquant_options& options = {}) {
  return detail::duquant_transform(x, options);
}

}  // namespace rotq
