#pragma once
// The floating-point block formats (FP8 e4m3, MXFP4, NVFP4) as one walk over row blocks: each
// block gets a scale from its magnitude maximum, each element a code in units of that scale. A
// format only says how a block maximum becomes a stored scale, how a stored scale becomes the
// element step, and how an element is encoded and decoded; all of it is quant_math.hpp.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/nibble_rows.hpp"
#include "rotq/detail/quant_math.hpp"
#include "rotq/view.hpp"

namespace rotq {
namespace detail {

/// FP8 e4m3 elements with an fp32 scale amax / 448 per block.
struct e4m3_blocks {
  using stored_scale = float;
  stored_scale block_scale(float amax) const { return e4m3_scale(amax); }
  float element_scale(stored_scale scale) const { return scale; }
  std::uint8_t encode(float x, float step) const { return quantize_e4m3(x, step); }
  float decode(std::uint8_t code, float step) const { return dequantize_e4m3(code, step); }
};

/// MXFP4: e2m1 elements with an e8m0 power-of-two scale per block of 32.
struct mxfp4_blocks {
  using stored_scale = std::uint8_t;
  stored_scale block_scale(float amax) const { return mxfp4_scale(amax); }
  float element_scale(stored_scale scale) const { return e8m0_to_float(scale); }
  std::uint8_t encode(float x, float step) const { return quantize_e2m1(x, step); }
  float decode(std::uint8_t code, float step) const { return dequantize_e2m1(code, step); }
};

/// NVFP4: e2m1 elements with an e4m3 scale per block of 16, times one fp32 scale `global`.
struct nvfp4_blocks {
  using stored_scale = std::uint8_t;
  float global;
  stored_scale block_scale(float amax) const { return nvfp4_block_scale(amax, global); }
  float element_scale(stored_scale scale) const { return nvfp4_element_scale(scale, global); }
  std::uint8_t encode(float x, float step) const { return quantize_e2m1(x, step); }
  float decode(std::uint8_t code, float step) const { return dequantize_e2m1(code, step); }
};

/// Walks the blocks of `block_size` consecutive elements of every row of x (block_size divides
/// x.cols), calling visit(row pointer, column of the block's first element, block index within
/// the row, block scale, element step). The elements must be finite (callers check first).
template <class Format, class Visit>
void for_each_block(matrix_view<const float> x, std::size_t block_size, const Format& format,
                    Visit&& visit) {
  const std::size_t blocks = x.cols / block_size;
  for (std::size_t r = 0; r < x.rows; ++r) {
    const float* row = x.row(r);
    for (std::size_t b = 0; b < blocks; ++b) {
      const float* block = row + b * block_size;
      float amax = 0.0f;
      for (std::size_t k = 0; k < block_size; ++k) amax = max_magnitude(amax, block[k]);
      const typename Format::stored_scale scale = format.block_scale(amax);
      visit(r, b, block, scale, format.element_scale(scale));
    }
  }
}

/// Codes (rows x cols, one byte each, row-major) and scales (rows x cols / block_size, row-major)
/// of x in `format`.
template <class Format>
void encode_blocks(matrix_view<const float> x, std::size_t block_size, const Format& format,
                   std::vector<std::uint8_t>& codes,
                   std::vector<typename Format::stored_scale>& scales) {
  const std::size_t blocks = x.cols / block_size;
  codes.assign(x.rows * x.cols, 0);
  scales.assign(x.rows * blocks, {});
  for_each_block(x, block_size, format,
                 [&](std::size_t r, std::size_t b, const float* block,
                     typename Format::stored_scale scale, float step) {
                   scales[r * blocks + b] = scale;
                   std::uint8_t* out = codes.data() + r * x.cols + b * block_size;
                   for (std::size_t k = 0; k < block_size; ++k)
                     out[k] = format.encode(block[k], step);
                 });
}

/// x <- decode(encode(x)) block by block, the same values decode_blocks gives from encode_blocks.
template <class Format>
void fake_quantize_blocks(matrix_view<float> x, std::size_t block_size, const Format& format) {
  for_each_block(
      matrix_view<const float>(x), block_size, format,
      [&](std::size_t r, std::size_t b, const float*, typename Format::stored_scale, float step) {
        float* block = x.row(r) + b * block_size;
        for (std::size_t k = 0; k < block_size; ++k)
          block[k] = format.decode(format.encode(block[k], step), step);
      });
}

/// out <- the values that `codes` (rows x cols bytes) and `scales` (rows x cols / block_size)
/// stand for in `format`; out is out.rows x out.cols with the codes' shape.
template <class Format>
void decode_blocks(const std::uint8_t* codes, const typename Format::stored_scale* scales,
                   std::size_t block_size, const Format& format, matrix_view<float> out) {
  const std::size_t blocks = out.cols / block_size;
  for (std::size_t r = 0; r < out.rows; ++r) {
    for (std::size_t b = 0; b < blocks; ++b) {
      const float step = format.element_scale(scales[r * blocks + b]);
      const std::uint8_t* in = codes + r * out.cols + b * block_size;
      float* block = out.row(r) + b * block_size;
      for (std::size_t k = 0; k < block_size; ++k) block[k] = format.decode(in[k], step);
    }
  }
}

/// encode_blocks for the e2m1 formats (MXFP4, NVFP4): the codes packed two to a byte (rows x
/// cols / 2, nibble_rows.hpp's layout) and the block scales.
template <class Format>
void encode_e2m1_blocks(matrix_view<const float> x, std::size_t block_size, const Format& format,
                        std::vector<std::uint8_t>& packed, std::vector<std::uint8_t>& scales) {
  std::vector<std::uint8_t> codes;
  encode_blocks(x, block_size, format, codes, scales);
  packed = pack_nibble_rows(matrix_view<const std::uint8_t>(codes.data(), x.rows, x.cols));
}

/// decode_blocks for the e2m1 formats, from codes packed as encode_e2m1_blocks packs them.
template <class Format>
void decode_e2m1_blocks(const std::vector<std::uint8_t>& packed,
                        const std::vector<std::uint8_t>& scales, std::size_t block_size,
                        const Format& format, matrix_view<float> out) {
  const std::vector<std::uint8_t> codes = unpack_nibble_rows<std::uint8_t>(
      matrix_view<const std::uint8_t>(packed.data(), out.rows, out.cols / 2), false);
  decode_blocks(codes.data(), scales.data(), block_size, format, out);
}

}  // namespace detail
}  // namespace rotq
