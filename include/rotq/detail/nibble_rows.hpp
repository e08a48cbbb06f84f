#pragma once
// Rows of 4-bit codes packed two per byte (int4 and the e2m1 elements of MXFP4 / NVFP4), with the
// byte layout of quant_math.hpp's pack_nibbles: element 2i in the low nibble of byte i.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/quant_math.hpp"
#include "rotq/view.hpp"

namespace rotq {
namespace detail {

/// rows x cols codes (cols even) -> rows x cols / 2 bytes, row-major and contiguous.
template <class Code>
std::vector<std::uint8_t> pack_nibble_rows(matrix_view<const Code> codes) {
  const std::size_t bytes_per_row = codes.cols / 2;
  std::vector<std::uint8_t> packed(codes.rows * bytes_per_row);
  for (std::size_t r = 0; r < codes.rows; ++r) {
    const Code* row = codes.row(r);
    std::uint8_t* out = packed.data() + r * bytes_per_row;
    for (std::size_t i = 0; i < bytes_per_row; ++i)
      out[i] = pack_nibbles(static_cast<int>(row[2 * i]), static_cast<int>(row[2 * i + 1]));
  }
  return packed;
}

/// rows x bytes packed bytes -> rows x 2 * bytes codes, row-major; nibbles sign-extended when
/// `is_signed`.
template <class Code>
std::vector<Code> unpack_nibble_rows(matrix_view<const std::uint8_t> packed, bool is_signed) {
  std::vector<Code> codes(packed.rows * packed.cols * 2);
  for (std::size_t r = 0; r < packed.rows; ++r) {
    const std::uint8_t* row = packed.row(r);
    Code* out = codes.data() + r * packed.cols * 2;
    for (std::size_t i = 0; i < packed.cols; ++i) {
      out[2 * i] = static_cast<Code>(unpack_nibble(row[i], 0, is_signed));
      out[2 * i + 1] = static_cast<Code>(unpack_nibble(row[i], 1, is_signed));
    }
  }
  return codes;
}

}  // namespace detail
}  // namespace rotq
