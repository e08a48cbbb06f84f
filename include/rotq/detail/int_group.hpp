#pragma once
// One group of the integer quantiser: its scale and zero point, its codes, and the search for the
// clip ratio that minimises its error. Round-to-nearest (quantize.hpp) and GPTQ (gptq.hpp) both
// go through these functions, so both put weights on exactly the same grid, and every number is
// computed by the float arithmetic of quant_math.hpp that the CUDA kernels share.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "rotq/detail/quant_math.hpp"
#include "rotq/view.hpp"

namespace rotq {
namespace detail {

/// The b-bit integer grid: symmetric codes in [-2^(b-1), 2^(b-1) - 1], asymmetric in [0, 2^b - 1].
struct int_format {
  int bits;
  bool symmetric;
};

/// A group's step and zero point; the zero point is 0 on the symmetric grid.
struct int_group_params {
  float scale;
  int zero;
};

/// The parameters of the group made of every element of `group` (one row segment, or a whole
/// tensor): symmetric from the magnitude maximum, asymmetric from the range widened to include 0.
/// The elements must be finite (callers check first).
inline int_group_params find_group_params(matrix_view<const float> group, int_format format,
                                          float clip) {
  if (format.symmetric) {
    float amax = 0.0f;
    for (std::size_t r = 0; r < group.rows; ++r)
      for (std::size_t c = 0; c < group.cols; ++c) amax = max_magnitude(amax, group(r, c));
    return {symmetric_scale(amax, clip, format.bits), 0};
  }
  float lo = 0.0f;
  float hi = 0.0f;
  for (std::size_t r = 0; r < group.rows; ++r) {
    for (std::size_t c = 0; c < group.cols; ++c) {
      lo = std::min(lo, group(r, c));
      hi = std::max(hi, group(r, c));
    }
  }
  const asymmetric_params params = asymmetric_scale(lo, hi, clip, format.bits);
  return {params.scale, params.zero};
}

inline int encode(float x, int_group_params params, int_format format) {
  return quantize_int(x, params.scale, params.zero, format.bits, format.symmetric);
}

inline float decode(int code, int_group_params params, int_format format) {
  return dequantize_int(code, params.scale, params.zero, format.symmetric);
}

/// The grid of clip ratios to try: clip_i = base * (1 - i / 100) for i = 0 .. ratios - 1, and the
/// exponent p of the error sum |q - x|^p.
struct clip_grid {
  double base;
  std::size_t ratios;
  double norm;
};

/// The clip ratio of `grid` whose quantisation of the group (a 1 x g row segment) has the smallest
/// sum |dequantised - x|^norm; the largest ratio wins ties, so a group that no clipping helps keeps
/// grid.base.
inline float search_group_clip(const float* group, std::size_t count, int_format format,
                               const clip_grid& grid) {
  const matrix_view<const float> values(group, 1, count);
  float best_clip = static_cast<float>(grid.base);
  double best_error = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < grid.ratios; ++i) {
    const float clip = static_cast<float>(grid.base * (1.0 - static_cast<double>(i) / 100.0));
    const int_group_params params = find_group_params(values, format, clip);
    double error = 0.0;
    // The terms are non-negative: once the sum passes the best, this ratio cannot win.
    for (std::size_t k = 0; k < count && error < best_error; ++k) {
      const double x = group[k];
      const double difference =
          std::abs(decode(encode(group[k], params, format), params, format) - x);
      if (difference > 0.0) error += std::pow(difference, grid.norm);
    }
    if (error < best_error) {
      best_error = error;
      best_clip = clip;
    }
  }
  return best_clip;
}

}  // namespace detail
}  // namespace rotq
