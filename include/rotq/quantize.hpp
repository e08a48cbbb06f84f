#pragma once
// Quantisers (algorithms.md 6): b-bit integers (symmetric or asymmetric, per tensor, per row or
// per group, with an optional clip search) and the floating-point block formats FP8 e4m3, MXFP4
// and NVFP4. These host functions are the reference the CUDA kernels match bit for bit: every
// scale and code is computed in float by the functions of detail/quant_math.hpp, in the order the
// doc comments below state, and fake quantisation is exactly dequantize(quantize(x)).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "rotq/detail/expect_finite.hpp"
#include "rotq/detail/fp_block_formats.hpp"
#include "rotq/detail/int_group.hpp"
#include "rotq/detail/nibble_rows.hpp"
#include "rotq/detail/quant_math.hpp"
#include "rotq/error.hpp"
#include "rotq/view.hpp"

namespace rotq {

/// An integer quantiser. `bits` in 2..8. Symmetric: codes in [-2^(b-1), 2^(b-1) - 1], scale
/// clip * max|x| / (2^(b-1) - 1), code clamp(round_half_even(x / scale)), value code * scale.
/// Asymmetric: with [lo, hi] the group's range widened to include 0, scale
/// clip * (hi - lo) / (2^b - 1), zero point round_half_even(-(clip * lo) / scale), code
/// clamp(round_half_even(x / scale) + zero, 0, 2^b - 1), value (code - zero) * scale. An all-zero
/// group has scale 1 and zero point 0, and so has a group whose scale underflows to 0 in float
/// (clip * max |x| below about 2^b * 1e-45). `group_size` consecutive elements of a row share one
/// scale (0: the whole row); it must divide the row length. `clip` in (0, 1] shrinks the range; it
/// is converted to float once and all of the arithmetic above is float.
struct quant_spec {
  int bits = 4;
  bool symmetric = true;
  std::size_t group_size = 0;
  double clip = 1.0;
};

/// The clip search of algorithms.md 6: for each group try clip = spec.clip * (1 - i / 100),
/// i = 0 .. ratios - 1 (each product converted to float once), and keep the one with the smallest
/// sum over the group of |dequantised - x|^norm (in double); the largest ratio wins ties. The
/// defaults are GPTQ's and QuaRot's (80 ratios down to 0.21, norm 2.4). ratios in 1..100.
struct clip_search {
  std::size_t ratios = 80;
  double norm = 2.4;
};

/// Integer codes of a rows x cols matrix and what decodes them. `codes`: rows x cols, row-major.
/// `scales`: rows x groups_per_row(), row-major (scale of element (r, c) at
/// r * groups_per_row() + c / group_size), or a single scale when `per_tensor`. `zeros`: the
/// asymmetric zero points, the shape of `scales`; empty when symmetric. `group_size`: elements of
/// a row that share a scale (cols for per-row and per-tensor scales).
struct int_codes {
  std::size_t rows = 0;
  std::size_t cols = 0;
  int bits = 4;
  bool symmetric = true;
  std::size_t group_size = 0;
  bool per_tensor = false;
  std::vector<std::int32_t> codes;
  std::vector<float> scales;
  std::vector<std::int32_t> zeros;

  std::size_t groups_per_row() const { return group_size == 0 ? 0 : cols / group_size; }
  std::size_t scale_index(std::size_t r, std::size_t c) const {
    return per_tensor ? 0 : r * groups_per_row() + c / group_size;
  }
  matrix_view<const std::int32_t> code_view() const { return {codes.data(), rows, cols}; }
};

/// FP8 e4m3 (OCP "fn": max 448, no infinities) codes of a rows x cols matrix. `codes`: rows x cols
/// e4m3 bytes, row-major. `scales`: fp32, rows x (cols / block_size), row-major; the block of
/// element (r, c) is c / block_size. `block_size`: elements per scale (cols for per-token scales).
struct fp8_codes {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t block_size = 0;
  std::vector<std::uint8_t> codes;
  std::vector<float> scales;
};

/// MXFP4 codes of a rows x cols matrix (cols a multiple of 32). `packed`: rows x cols / 2 bytes,
/// row-major; byte i of a row holds the e2m1 codes of elements 2i (bits 0-3) and 2i + 1
/// (bits 4-7), each sign (bit 3) and magnitude index (bits 0-2: 0, 0.5, 1, 1.5, 2, 3, 4, 6).
/// `scales`: e8m0 bytes (value 2^(s - 127)), rows x cols / 32, row-major; block b of a row is its
/// elements [32 b, 32 b + 32).
struct mxfp4_codes {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::uint8_t> packed;
  std::vector<std::uint8_t> scales;
};

/// NVFP4 codes of a rows x cols matrix (cols a multiple of 16). `packed`: as mxfp4_codes.
/// `scales`: e4m3 bytes, rows x cols / 16, row-major; block b of a row is its elements
/// [16 b, 16 b + 16). `global_scale`: the fp32 second-level scale g; element value =
/// e2m1 value * (e4m3 block scale * g), the product in brackets rounded to float first.
struct nvfp4_codes {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::uint8_t> packed;
  std::vector<std::uint8_t> scales;
  float global_scale = 1.0f;
};

namespace detail {

/// The largest magnitude the integer quantisers accept: float's largest / 4. Below it the range
/// hi - lo, the scale and every dequantised value (at most about twice max |x|) stay finite.
inline constexpr float int_input_limit = std::numeric_limits<float>::max() / 4.0f;
inline constexpr const char* int_input_limit_reason =
    " (float's largest / 4, so that the quantisation grid stays finite)";

/// What is wrong with `spec` for rows of `cols` elements of the argument called `argument`, or "".
inline std::string spec_problem(const quant_spec& spec, std::size_t cols,
                                const char* argument = "x") {
  std::ostringstream problem;
  if (spec.bits < 2 || spec.bits > 8)
    problem << "spec.bits = " << spec.bits << ", expected 2 to 8";
  else if (!(spec.clip > 0.0 && spec.clip <= 1.0))
    problem << "spec.clip = " << spec.clip << ", expected a ratio in (0, 1]";
  else if (!(static_cast<float>(spec.clip) > 0.0f))
    problem << "spec.clip = " << spec.clip
            << " is 0 in float, expected a ratio in (0, 1] that float can hold";
  else if (spec.group_size != 0 && cols % spec.group_size != 0)
    problem << "spec.group_size = " << spec.group_size
            << " does not divide the row length " << argument << ".cols = " << cols;
  return problem.str();
}

inline void expect_int_input(matrix_view<const float> x, const quant_spec& spec, bool per_tensor,
                             const char* function) {
  const std::string problem = spec_problem(spec, x.cols);
  if (!problem.empty()) throw_error(function, problem);
  if (per_tensor && spec.group_size != 0)
    throw_error(function, "spec.group_size = " + std::to_string(spec.group_size) +
                              ", expected 0 for one scale per tensor");
  expect_finite(x, "x", function, int_input_limit, int_input_limit_reason);
}

/// The groups of a row of `cols` elements under `spec`, as int_codes lays out its scales and
/// search_clip_ratios its clips: one per spec.group_size elements, or one per row (none for an
/// empty row) when spec.group_size is 0.
inline std::size_t groups_per_row(const quant_spec& spec, std::size_t cols) {
  if (spec.group_size != 0) return cols / spec.group_size;
  return cols == 0 ? 0 : 1;
}

/// Per-group clips (rows x groups, row-major) must match x and lie in (0, 1].
inline void expect_clips(const std::vector<float>& clips, std::size_t rows, std::size_t groups,
                         const char* function) {
  if (clips.size() != rows * groups)
    throw_error(function, "clips.size() = " + std::to_string(clips.size()) + ", expected rows * " +
                              "groups = " + std::to_string(rows) + " * " + std::to_string(groups));
  for (std::size_t i = 0; i < clips.size(); ++i) {
    if (clips[i] > 0.0f && clips[i] <= 1.0f) continue;
    std::ostringstream message;
    message << "clips[" << i << "] = " << clips[i] << ", expected a ratio in (0, 1]";
    throw_error(function, message.str());
  }
}

/// Calls visit(r, g, params) for group g of every row r, after finding the group's parameters
/// with clip_of(r, g); a per-tensor quantiser finds one set from the whole of x with
/// clip_of(0, 0) and passes it for every row.
template <class ClipOf, class Visit>
void for_each_int_group(matrix_view<const float> x, std::size_t group_size, bool per_tensor,
                        int_format format, const ClipOf& clip_of, Visit&& visit) {
  if (x.empty()) return;
  const std::size_t groups = x.cols / group_size;
  const int_group_params tensor_params =
      per_tensor ? find_group_params(x, format, clip_of(0, 0)) : int_group_params{1.0f, 0};
  for (std::size_t r = 0; r < x.rows; ++r) {
    for (std::size_t g = 0; g < groups; ++g) {
      const matrix_view<const float> group(x.row(r) + g * group_size, 1, group_size);
      visit(r, g, per_tensor ? tensor_params : find_group_params(group, format, clip_of(r, g)));
    }
  }
}

/// The int_codes of a rows x cols matrix under `spec` before any group has been quantised: every
/// code 0, every scale 1 and, when asymmetric, every zero point 0.
inline int_codes make_int_codes(std::size_t rows, std::size_t cols, const quant_spec& spec,
                                bool per_tensor) {
  int_codes q;
  q.rows = rows;
  q.cols = cols;
  q.bits = spec.bits;
  q.symmetric = spec.symmetric;
  q.group_size = spec.group_size == 0 ? cols : spec.group_size;
  q.per_tensor = per_tensor;
  q.codes.assign(rows * cols, 0);
  q.scales.assign(per_tensor ? 1 : rows * q.groups_per_row(), 1.0f);
  if (!spec.symmetric) q.zeros.assign(q.scales.size(), 0);
  return q;
}

template <class ClipOf>
int_codes quantize_int_rows(matrix_view<const float> x, const quant_spec& spec, bool per_tensor,
                            const ClipOf& clip_of) {
  int_codes q = make_int_codes(x.rows, x.cols, spec, per_tensor);
  const int_format format{spec.bits, spec.symmetric};
  for_each_int_group(x, q.group_size, per_tensor, format, clip_of,
                     [&](std::size_t r, std::size_t g, int_group_params params) {
                       const std::size_t first = g * q.group_size;
                       const std::size_t slot = q.scale_index(r, first);
                       q.scales[slot] = params.scale;
                       if (!spec.symmetric) q.zeros[slot] = params.zero;
                       const float* in = x.row(r) + first;
                       std::int32_t* out = q.codes.data() + r * x.cols + first;
                       for (std::size_t k = 0; k < q.group_size; ++k)
                         out[k] = encode(in[k], params, format);
                     });
  return q;
}

template <class ClipOf>
void fake_quantize_int(matrix_view<float> x, const quant_spec& spec, bool per_tensor,
                       const ClipOf& clip_of) {
  const std::size_t group_size = spec.group_size == 0 ? x.cols : spec.group_size;
  const int_format format{spec.bits, spec.symmetric};
  for_each_int_group(matrix_view<const float>(x), group_size, per_tensor, format, clip_of,
                     [&](std::size_t r, std::size_t g, int_group_params params) {
                       float* values = x.row(r) + g * group_size;
                       for (std::size_t k = 0; k < group_size; ++k)
                         values[k] = decode(encode(values[k], params, format), params, format);
                     });
}

inline void expect_fp_input(matrix_view<const float> x, std::size_t block_size,
                            const char* block_name, const char* function) {
  if (block_size != 0 && x.cols % block_size != 0)
    throw_error(function, std::string(block_name) + " = " + std::to_string(block_size) +
                              " does not divide the row length x.cols = " + std::to_string(x.cols));
  expect_finite(x, "x", function);
}

inline void expect_global_scale(float global_scale, const char* function) {
  if (is_finite(global_scale) && global_scale > 0.0f) return;
  std::ostringstream message;
  message << "global_scale = " << global_scale << ", expected a finite positive fp32 scale";
  throw_error(function, message.str());
}

inline void expect_output_shape(matrix_view<float> out, std::size_t rows, std::size_t cols,
                                const char* function) {
  if (out.rows != rows || out.cols != cols)
    throw_error(function, "out is " + std::to_string(out.rows) + " x " + std::to_string(out.cols) +
                              ", expected the codes' shape " + std::to_string(rows) + " x " +
                              std::to_string(cols));
}

inline void expect_size(std::size_t actual, std::size_t expected, const char* what,
                        const char* function) {
  if (actual != expected)
    throw_error(function, std::string(what) + " = " + std::to_string(actual) + ", expected " +
                              std::to_string(expected) + " for the codes' shape");
}

}  // namespace detail

// ---- integers ----------------------------------------------------------------------------------

/// Integer codes of x (rows x cols, e.g. weights W with one output channel per row, or
/// activations with one token per row) with one scale per row, or per group of spec.group_size
/// consecutive elements of a row; the formulas are quant_spec's. Throws rotq::error for a bad
/// spec (bits outside 2..8, clip outside (0, 1], a group size not dividing x.cols) or an element
/// of x that is NaN/Inf or larger in magnitude than float's largest / 4 (naming its row and
/// element).
inline int_codes quantize_rows(matrix_view<const float> x, const quant_spec& spec) {
  detail::expect_int_input(x, spec, false, __func__);
  const float clip = static_cast<float>(spec.clip);
  return detail::quantize_int_rows(x, spec, false,
                                   [clip](std::size_t, std::size_t) { return clip; });
}

/// As quantize_rows(x, spec), with group g of row r clipped by clips[r * groups + g] (rows x
/// groups, row-major, each in (0, 1], groups = x.cols / group size) instead of spec.clip: the
/// output of search_clip_ratios.
inline int_codes quantize_rows(matrix_view<const float> x, const quant_spec& spec,
                               const std::vector<float>& clips) {
  detail::expect_int_input(x, spec, false, __func__);
  const std::size_t groups = detail::groups_per_row(spec, x.cols);
  detail::expect_clips(clips, x.rows, groups, __func__);
  return detail::quantize_int_rows(
      x, spec, false, [&](std::size_t r, std::size_t g) { return clips[r * groups + g]; });
}

/// Integer codes of x with one scale (and zero point) for the whole matrix; spec.group_size must
/// be 0. Errors as quantize_rows.
inline int_codes quantize_tensor(matrix_view<const float> x, const quant_spec& spec) {
  detail::expect_int_input(x, spec, true, __func__);
  const float clip = static_cast<float>(spec.clip);
  return detail::quantize_int_rows(x, spec, true,
                                   [clip](std::size_t, std::size_t) { return clip; });
}

/// out <- the values the codes stand for: (code - zero) * scale, or code * scale when symmetric,
/// in float. out must be q.rows x q.cols. Throws rotq::error if q is inconsistent (sizes that do
/// not match its shape, codes or zero points outside the grid) or out has another shape.
inline void dequantize(const int_codes& q, matrix_view<float> out) {
  detail::expect_output_shape(out, q.rows, q.cols, __func__);
  ROTQ_EXPECTS(q.bits >= 2 && q.bits <= 8, "q.bits = " << q.bits << ", expected 2 to 8");
  if (out.empty()) return;
  ROTQ_EXPECTS(q.group_size > 0 && q.cols % q.group_size == 0,
               "q.group_size = " << q.group_size << " does not divide q.cols = " << q.cols);
  detail::expect_size(q.codes.size(), q.rows * q.cols, "q.codes.size()", __func__);
  detail::expect_size(q.scales.size(), q.per_tensor ? 1 : q.rows * q.groups_per_row(),
                      "q.scales.size()", __func__);
  detail::expect_size(q.zeros.size(), q.symmetric ? 0 : q.scales.size(), "q.zeros.size()",
                      __func__);
  const detail::int_format format{q.bits, q.symmetric};
  const detail::int_grid grid = detail::make_int_grid(q.bits, q.symmetric);
  for (std::size_t i = 0; i < q.zeros.size(); ++i)
    ROTQ_EXPECTS(q.zeros[i] >= grid.low && q.zeros[i] <= grid.high,
                 "q.zeros[" << i << "] = " << q.zeros[i] << ", expected a code in [" << grid.low
                            << ", " << grid.high << "]");
  for (std::size_t r = 0; r < q.rows; ++r) {
    for (std::size_t c = 0; c < q.cols; ++c) {
      const std::int32_t code = q.codes[r * q.cols + c];
      ROTQ_EXPECTS(code >= grid.low && code <= grid.high,
                   "q.codes[" << r * q.cols + c << "] = " << code << " (row " << r << ", element "
                              << c << "), expected a " << q.bits << "-bit code in [" << grid.low
                              << ", " << grid.high << "]");
      const std::size_t slot = q.scale_index(r, c);
      const detail::int_group_params params{q.scales[slot], q.symmetric ? 0 : q.zeros[slot]};
      out(r, c) = detail::decode(code, params, format);
    }
  }
}

/// x <- dequantize(quantize_rows(x, spec)) in place, bit for bit, without storing the codes:
/// per row (per token for activations, per output channel for weights), per group when
/// spec.group_size > 0. Errors as quantize_rows.
inline void fake_quantize_rows(matrix_view<float> x, const quant_spec& spec) {
  detail::expect_int_input(x, spec, false, __func__);
  const float clip = static_cast<float>(spec.clip);
  detail::fake_quantize_int(x, spec, false, [clip](std::size_t, std::size_t) { return clip; });
}

/// x <- dequantize(quantize_rows(x, spec, clips)) in place, bit for bit.
inline void fake_quantize_rows(matrix_view<float> x, const quant_spec& spec,
                               const std::vector<float>& clips) {
  detail::expect_int_input(x, spec, false, __func__);
  const std::size_t groups = detail::groups_per_row(spec, x.cols);
  detail::expect_clips(clips, x.rows, groups, __func__);
  detail::fake_quantize_int(x, spec, false,
                            [&](std::size_t r, std::size_t g) { return clips[r * groups + g]; });
}

/// x <- dequantize(quantize_tensor(x, spec)) in place, bit for bit.
inline void fake_quantize_tensor(matrix_view<float> x, const quant_spec& spec) {
  detail::expect_int_input(x, spec, true, __func__);
  const float clip = static_cast<float>(spec.clip);
  detail::fake_quantize_int(x, spec, true, [clip](std::size_t, std::size_t) { return clip; });
}

/// The clip ratio of every group of x (rows x groups, row-major; one per row when
/// spec.group_size = 0) that minimises the group's error sum |dequantised - x|^norm over the ratios
/// of `search` (see clip_search); pass the result to quantize_rows or fake_quantize_rows. Meant
/// for weights (algorithms.md 6). Throws as quantize_rows, and for ratios outside 1..100 or a
/// norm that is not positive.
inline std::vector<float> search_clip_ratios(matrix_view<const float> x, const quant_spec& spec,
                                             const clip_search& search = {}) {
  detail::expect_int_input(x, spec, false, __func__);
  ROTQ_EXPECTS(search.ratios >= 1 && search.ratios <= 100,
               "search.ratios = " << search.ratios
                                  << ", expected 1 to 100 (ratio 1 - i / 100 "
                                     "must stay positive)");
  ROTQ_EXPECTS(search.norm > 0.0 && std::isfinite(search.norm),
               "search.norm = " << search.norm << ", expected a positive exponent");
  const std::size_t group_size = spec.group_size == 0 ? x.cols : spec.group_size;
  const std::size_t groups = detail::groups_per_row(spec, x.cols);
  const detail::int_format format{spec.bits, spec.symmetric};
  const detail::clip_grid grid{spec.clip, search.ratios, search.norm};
  std::vector<float> clips(x.rows * groups);
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t g = 0; g < groups; ++g)
      clips[r * groups + g] =
          detail::search_group_clip(x.row(r) + g * group_size, group_size, format, grid);
  return clips;
}

/// rows x cols codes of at most 4 bits (cols even) -> rows x cols / 2 bytes, row-major: byte i of
/// a row holds element 2i in bits 0-3 and element 2i + 1 in bits 4-7, signed codes as two's
/// complement nibbles. Throws rotq::error for an odd cols or a code outside [-8, 7] (is_signed) or
/// [0, 15].
inline std::vector<std::uint8_t> pack_int4(matrix_view<const std::int32_t> codes, bool is_signed) {
  ROTQ_EXPECTS(codes.cols % 2 == 0,
               "codes.cols = " << codes.cols << ", expected an even row length");
  const int low = is_signed ? -8 : 0;
  const int high = is_signed ? 7 : 15;
  for (std::size_t r = 0; r < codes.rows; ++r)
    for (std::size_t c = 0; c < codes.cols; ++c)
      ROTQ_EXPECTS(codes(r, c) >= low && codes(r, c) <= high,
                   "codes(" << r << ", " << c << ") = " << codes(r, c) << ", expected a code in ["
                            << low << ", " << high << "] (" << (is_signed ? "signed" : "unsigned")
                            << " 4-bit)");
  return detail::pack_nibble_rows(codes);
}

/// The inverse of pack_int4: rows x bytes -> rows x 2 * bytes codes, row-major, the nibbles
/// sign-extended when is_signed.
inline std::vector<std::int32_t> unpack_int4(matrix_view<const std::uint8_t> packed,
                                             bool is_signed) {
  return detail::unpack_nibble_rows<std::int32_t>(packed, is_signed);
}

// ---- FP8 e4m3 ----------------------------------------------------------------------------------

/// FP8 e4m3 codes of x (rows x cols, one token per row) with one fp32 scale per row
/// (block_size = 0) or per 1 x block_size tile (128 in DeepSeek-style FP8; block_size must divide
/// cols): scale = amax / 448 over the block (1 for an all-zero block), code =
/// float_to_e4m3(x / scale) with round-to-nearest-even and saturation to +-448. Layout: fp8_codes.
/// Throws rotq::error for a block size not dividing cols or a NaN/Inf in x.
inline fp8_codes quantize_fp8_rows(matrix_view<const float> x, std::size_t block_size = 0) {
  detail::expect_fp_input(x, block_size, "block_size", __func__);
  fp8_codes q;
  q.rows = x.rows;
  q.cols = x.cols;
  q.block_size = block_size == 0 ? x.cols : block_size;
  if (!x.empty()) detail::encode_blocks(x, q.block_size, detail::e4m3_blocks{}, q.codes, q.scales);
  return q;
}

/// out <- e4m3 value * scale for every code; out must be q.rows x q.cols.
inline void dequantize(const fp8_codes& q, matrix_view<float> out) {
  detail::expect_output_shape(out, q.rows, q.cols, __func__);
  if (out.empty()) return;
  ROTQ_EXPECTS(q.block_size > 0 && q.cols % q.block_size == 0,
               "q.block_size = " << q.block_size << " does not divide q.cols = " << q.cols);
  detail::expect_size(q.codes.size(), q.rows * q.cols, "q.codes.size()", __func__);
  detail::expect_size(q.scales.size(), q.rows * (q.cols / q.block_size), "q.scales.size()",
                      __func__);
  detail::decode_blocks(q.codes.data(), q.scales.data(), q.block_size, detail::e4m3_blocks{}, out);
}

/// x <- dequantize(quantize_fp8_rows(x, block_size)) in place, bit for bit.
inline void fake_quantize_fp8_rows(matrix_view<float> x, std::size_t block_size = 0) {
  detail::expect_fp_input(x, block_size, "block_size", __func__);
  if (!x.empty())
    detail::fake_quantize_blocks(x, block_size == 0 ? x.cols : block_size, detail::e4m3_blocks{});
}

// ---- MXFP4 -------------------------------------------------------------------------------------

/// MXFP4 codes of x (rows x cols, cols a multiple of 32): every block of 32 consecutive elements
/// of a row gets the e8m0 scale 2^(floor(log2 amax) - 2) (2^0 for an all-zero block) and each
/// element the e2m1 code of x / 2^(...) (round to nearest, ties to the even code, saturating at 6).
/// Layout: mxfp4_codes. Throws rotq::error for cols not a multiple of 32 or a NaN/Inf in x.
inline mxfp4_codes quantize_mxfp4_rows(matrix_view<const float> x) {
  constexpr std::size_t block = detail::mxfp4_block_size;
  detail::expect_fp_input(x, block, "the MXFP4 block size", __func__);
  mxfp4_codes q;
  q.rows = x.rows;
  q.cols = x.cols;
  detail::encode_e2m1_blocks(x, block, detail::mxfp4_blocks{}, q.packed, q.scales);
  return q;
}

/// out <- e2m1 value * 2^(scale - 127) for every element; out must be q.rows x q.cols.
inline void dequantize(const mxfp4_codes& q, matrix_view<float> out) {
  constexpr std::size_t block = detail::mxfp4_block_size;
  detail::expect_output_shape(out, q.rows, q.cols, __func__);
  ROTQ_EXPECTS(q.cols % block == 0, "q.cols = " << q.cols << ", expected a multiple of 32");
  detail::expect_size(q.packed.size(), q.rows * q.cols / 2, "q.packed.size()", __func__);
  detail::expect_size(q.scales.size(), q.rows * q.cols / block, "q.scales.size()", __func__);
  detail::decode_e2m1_blocks(q.packed, q.scales, block, detail::mxfp4_blocks{}, out);
}

/// x <- dequantize(quantize_mxfp4_rows(x)) in place, bit for bit.
inline void fake_quantize_mxfp4_rows(matrix_view<float> x) {
  constexpr std::size_t block = detail::mxfp4_block_size;
  detail::expect_fp_input(x, block, "the MXFP4 block size", __func__);
  detail::fake_quantize_blocks(x, block, detail::mxfp4_blocks{});
}

// ---- NVFP4 -------------------------------------------------------------------------------------

/// NVFP4's fp32 second-level scale of a whole tensor: g = amax / (448 * 6) over every element
/// (1 for an all-zero tensor), so the block holding the maximum gets block scale 448. A kernel that
/// quantises row by row cannot see the tensor maximum in one pass; it takes g from the caller (for
/// example computed here on calibration data). Throws rotq::error for a NaN/Inf in x.
inline float nvfp4_global_scale(matrix_view<const float> x) {
  detail::expect_finite(x, "x", __func__);
  float amax = 0.0f;
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t c = 0; c < x.cols; ++c) amax = detail::max_magnitude(amax, x(r, c));
  return detail::nvfp4_global_scale(amax);
}

/// NVFP4 codes of x (rows x cols, cols a multiple of 16) with second-level scale g =
/// global_scale: every block of 16 consecutive elements of a row gets the e4m3 block scale
/// s = float_to_e4m3(amax / (6 * g)) (saturating at 448), and each element the e2m1 code of
/// x / (e4m3 value of s * g), or 0 when that step is 0. Layout: nvfp4_codes. Throws rotq::error
/// for cols not a multiple of 16, a NaN/Inf in x, or a global_scale that is not finite and
/// positive.
inline nvfp4_codes quantize_nvfp4_rows(matrix_view<const float> x, float global_scale) {
  constexpr std::size_t block = detail::nvfp4_block_size;
  detail::expect_fp_input(x, block, "the NVFP4 block size", __func__);
  detail::expect_global_scale(global_scale, __func__);
  nvfp4_codes q;
  q.rows = x.rows;
  q.cols = x.cols;
  q.global_scale = global_scale;
  detail::encode_e2m1_blocks(x, block, detail::nvfp4_blocks{global_scale}, q.packed, q.scales);
  return q;
}

/// out <- e2m1 value * (e4m3 block scale * g) for every element; out must be q.rows x q.cols.
inline void dequantize(const nvfp4_codes& q, matrix_view<float> out) {
  constexpr std::size_t block = detail::nvfp4_block_size;
  detail::expect_output_shape(out, q.rows, q.cols, __func__);
  ROTQ_EXPECTS(q.cols % block == 0, "q.cols = " << q.cols << ", expected a multiple of 16");
  detail::expect_global_scale(q.global_scale, __func__);
  detail::expect_size(q.packed.size(), q.rows * q.cols / 2, "q.packed.size()", __func__);
  detail::expect_size(q.scales.size(), q.rows * q.cols / block, "q.scales.size()", __func__);
  detail::decode_e2m1_blocks(q.packed, q.scales, block, detail::nvfp4_blocks{q.global_scale}, out);
}

/// x <- dequantize(quantize_nvfp4_rows(x, global_scale)) in place, bit for bit.
inline void fake_quantize_nvfp4_rows(matrix_view<float> x, float global_scale) {
  constexpr std::size_t block = detail::nvfp4_block_size;
  detail::expect_fp_input(x, block, "the NVFP4 block size", __func__);
  detail::expect_global_scale(global_scale, __func__);
  detail::fake_quantize_blocks(x, block, detail::nvfp4_blocks{global_scale});
}

}  // namespace rotq
