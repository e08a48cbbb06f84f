#pragma once
// Quantised rows in the tests: the host reference (rotq/quantize.hpp on float rows) and the
// device output of a rotq::cuda quantising launcher, both in the same compact layout, their
// bit-for-bit comparison, plus the padding checks of strided outputs.

#include <rotq/cuda.hpp>
#include <rotq/quantize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "cuda/comparisons.hpp"
#include "cuda/device_rows.hpp"

namespace rotq_test {

/// Codes (rows x code bytes), fp32 scales or scale bytes (rows x scales), zero points.
struct quantized_rows {
  std::vector<std::uint8_t> codes;
  std::vector<float> float_scales;
  std::vector<std::uint8_t> byte_scales;
  std::vector<std::int32_t> zeros;
};

inline bool is_integer(rotq::cuda::quant_format f) {
  return f == rotq::cuda::quant_format::int8 || f == rotq::cuda::quant_format::int4;
}

/// The host quantisers of rotq/quantize.hpp on y (rows x n, contiguous).
inline quantized_rows host_quantize(const std::vector<float>& y, std::size_t rows, std::size_t n,
                                    const rotq::cuda::quant_options& q) {
  using rotq::cuda::quant_format;
  const rotq::matrix_view<const float> view(y.data(), rows, n);
  quantized_rows out;
  switch (q.format) {
    case quant_format::int8:
    case quant_format::int4: {
      const int bits = q.format == quant_format::int8 ? 8 : 4;
      const rotq::int_codes c =
          rotq::quantize_rows(view, {bits, q.symmetric, q.group_size, q.clip});
      if (bits == 4) {
        out.codes = rotq::pack_int4(c.code_view(), q.symmetric);
      } else {
        for (std::int32_t code : c.codes)
          out.codes.push_back(static_cast<std::uint8_t>(code & 0xff));
      }
      out.float_scales = c.scales;
      out.zeros = c.zeros;
      break;
    }
    case quant_format::fp8_e4m3: {
      const rotq::fp8_codes c = rotq::quantize_fp8_rows(view, q.group_size);
      out.codes = c.codes;
      out.float_scales = c.scales;
      break;
    }
    case quant_format::mxfp4: {
      const rotq::mxfp4_codes c = rotq::quantize_mxfp4_rows(view);
      out.codes = c.packed;
      out.byte_scales = c.scales;
      break;
    }
    case quant_format::nvfp4: {
      const rotq::nvfp4_codes c = rotq::quantize_nvfp4_rows(view, q.global_scale);
      out.codes = c.packed;
      out.byte_scales = c.scales;
      break;
    }
  }
  return out;
}

/// The first `rows` rows of `all`, quantised rows of n elements.
inline quantized_rows first_rows(const quantized_rows& all, std::size_t rows, std::size_t n,
                                 const rotq::cuda::quant_options& q) {
  const std::size_t scales = rows * rotq::cuda::scales_per_row(q, n);
  const auto head = [](const auto& v, std::size_t count) {
    return std::decay_t<decltype(v)>(v.begin(), v.begin() + std::min(count, v.size()));
  };
  quantized_rows out;
  out.codes = head(all.codes, rows * rotq::cuda::code_bytes_per_row(q.format, n));
  out.float_scales = head(all.float_scales, scales);
  out.byte_scales = head(all.byte_scales, scales);
  out.zeros = head(all.zeros, scales);
  return out;
}

/// Checks that two quantised outputs of rows of n elements are bit-identical; a failure names the
/// first differing code byte, scale or zero point by row and column.
inline void check_same_codes(const quantized_rows& gpu, const quantized_rows& host, std::size_t n,
                             const rotq::cuda::quant_options& q) {
  const std::size_t code_bytes = rotq::cuda::code_bytes_per_row(q.format, n);
  const std::size_t scales = rotq::cuda::scales_per_row(q, n);
  CHECK(first_mismatch("code bytes", gpu.codes, host.codes, code_bytes) == "");
  CHECK(first_mismatch("fp32 scales", gpu.float_scales, host.float_scales, scales) == "");
  CHECK(first_mismatch("scale bytes", gpu.byte_scales, host.byte_scales, scales) == "");
  CHECK(first_mismatch("zero points", gpu.zeros, host.zeros, scales) == "");
}

/// Device buffers for a quantising launch, with `pad` extra bytes / entries after each row that
/// the kernel must leave alone.
class device_quantized {
public:
  device_quantized(std::size_t rows, std::size_t n, const rotq::cuda::quant_options& q,
                   std::size_t pad = 0)
      : rows_(rows),
        code_bytes_(rotq::cuda::code_bytes_per_row(q.format, n)),
        scale_count_(rotq::cuda::scales_per_row(q, n)),
        byte_scales_(q.format == rotq::cuda::quant_format::mxfp4 ||
                     q.format == rotq::cuda::quant_format::nvfp4),
        zero_points_(is_integer(q.format) && !q.symmetric),
        codes_stride_(code_bytes_ + 8 * pad),
        scales_stride_(scale_count_ + pad),
        codes_(rows * codes_stride_),
        scales_(rows * scales_stride_ * (byte_scales_ ? 1 : sizeof(float))),
        zeros_(zero_points_ ? rows * scales_stride_ * sizeof(std::int32_t) : 0) {
    const std::vector<std::uint8_t> marker_codes(codes_.size(), 0xab);
    codes_.upload(marker_codes.data(), marker_codes.size());
    const std::vector<std::uint8_t> marker_scales(scales_.size(), 0xab);
    scales_.upload(marker_scales.data(), marker_scales.size());
  }

  rotq::cuda::quantized_output output() {
    rotq::cuda::quantized_output out;
    out.codes = codes_.get();
    out.codes_stride = codes_stride_;
    out.scales = scales_.get();
    out.scales_stride = scales_stride_;
    if (zero_points_) {
      out.zero_points = zeros_.get<std::int32_t>();
      out.zero_points_stride = scales_stride_;
    }
    return out;
  }

  /// Where row `row`'s codes and scales start on the device.
  const void* codes_at(std::size_t row) const { return codes_.get<char>() + row * codes_stride_; }
  const void* scales_at(std::size_t row) const {
    return scales_.get<char>() + row * scales_stride_ * (byte_scales_ ? 1 : sizeof(float));
  }

  /// The written codes and scales, compact; and whether the padding still holds its marker.
  quantized_rows compact(bool& padding_intact) const {
    quantized_rows out;
    const std::vector<std::uint8_t> codes = codes_.download<std::uint8_t>();
    const std::vector<std::uint8_t> scale_bytes = scales_.download<std::uint8_t>();
    padding_intact = true;
    for (std::size_t r = 0; r < rows_; ++r) {
      for (std::size_t c = 0; c < codes_stride_; ++c) {
        const std::uint8_t byte = codes[r * codes_stride_ + c];
        if (c < code_bytes_)
          out.codes.push_back(byte);
        else
          padding_intact = padding_intact && byte == 0xab;
      }
    }
    if (byte_scales_) {
      for (std::size_t r = 0; r < rows_; ++r)
        for (std::size_t g = 0; g < scales_stride_; ++g) {
          const std::uint8_t byte = scale_bytes[r * scales_stride_ + g];
          if (g < scale_count_)
            out.byte_scales.push_back(byte);
          else
            padding_intact = padding_intact && byte == 0xab;
        }
    } else {
      const std::vector<float> scales = scales_.download<float>();
      for (std::size_t r = 0; r < rows_; ++r)
        for (std::size_t g = 0; g < scale_count_; ++g)
          out.float_scales.push_back(scales[r * scales_stride_ + g]);
    }
    if (zero_points_) {
      const std::vector<std::int32_t> zeros = zeros_.download<std::int32_t>();
      for (std::size_t r = 0; r < rows_; ++r)
        for (std::size_t g = 0; g < scale_count_; ++g)
          out.zeros.push_back(zeros[r * scales_stride_ + g]);
    }
    return out;
  }

private:
  std::size_t rows_, code_bytes_, scale_count_;
  bool byte_scales_, zero_points_;
  std::size_t codes_stride_, scales_stride_;
  device_bytes codes_, scales_, zeros_;
};

/// Every quantiser configuration the kernels take for rows of n elements (group sizes that divide
/// n; clip below 1 and asymmetric grids on the integer formats).
inline std::vector<rotq::cuda::quant_options> quantisers_for(std::size_t n) {
  using rotq::cuda::quant_format;
  std::vector<rotq::cuda::quant_options> all;
  for (const std::size_t group : {0, 16, 32, 64, 128}) {
    if (group != 0 && n % group != 0) continue;
    for (const quant_format format : {quant_format::int8, quant_format::int4})
      for (const bool symmetric : {true, false}) {
        rotq::cuda::quant_options q;
        q.format = format;
        q.symmetric = symmetric;
        q.group_size = group;
        q.clip = symmetric ? 1.0f : 0.9f;
        all.push_back(q);
      }
    rotq::cuda::quant_options fp8;
    fp8.format = quant_format::fp8_e4m3;
    fp8.group_size = group;
    all.push_back(fp8);
  }
  if (n % 32 == 0) {
    rotq::cuda::quant_options mx;
    mx.format = quant_format::mxfp4;
    all.push_back(mx);
  }
  if (n % 16 == 0) {
    rotq::cuda::quant_options nv;
    nv.format = quant_format::nvfp4;
    nv.global_scale = 0.002f;
    all.push_back(nv);
  }
  return all;
}

inline const char* format_name(rotq::cuda::quant_format f) {
  switch (f) {
    case rotq::cuda::quant_format::int8: return "int8";
    case rotq::cuda::quant_format::int4: return "int4";
    case rotq::cuda::quant_format::fp8_e4m3: return "fp8_e4m3";
    case rotq::cuda::quant_format::mxfp4: return "mxfp4";
    case rotq::cuda::quant_format::nvfp4: return "nvfp4";
  }
  return "?";
}

}  // namespace rotq_test
