#pragma once
// What every rotq::cuda launcher does before it launches: check shapes, strides, alignment,
// overlap and quantiser options, and turn the public arguments into kernel parameters. Host only,
// no CUDA call, so the host tests run it without a GPU. Each failure is a status whose message
// names the function, the argument, its value and what was expected.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernel_params.hpp"
#include "rotq/cuda.hpp"

namespace rotq {
namespace cuda {
namespace detail {

/// Bytes the vectorised kernels move per access: 8 elements of a 16-bit type, or two halves of 8
/// fp32 elements.
constexpr std::size_t vector_alignment = 16;

inline bool aligned_to(const void* pointer, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

inline const char* type_name(element_type type) {
  switch (type) {
    case element_type::float32: return "float32";
    case element_type::float16: return "float16";
    case element_type::bfloat16: return "bfloat16";
  }
  return "unknown";
}

inline bool valid_type(element_type type) {
  return type == element_type::float32 || type == element_type::float16 ||
         type == element_type::bfloat16;
}

/// Rows of n elements at `data` with `stride`: present, long enough and aligned to `alignment`
/// bytes (data and stride * element size). `name` is "in" or "out".
inline status check_rows(const char* function, const char* name, const void* data,
                         element_type type, std::size_t stride, std::size_t rows, std::size_t n,
                         std::size_t alignment) {
  if (!valid_type(type))
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: %s.type = %d, expected "
                        "float32, float16 or bfloat16",
                        function, name, static_cast<int>(type));
  if (rows == 0) return {};
  if (data == nullptr)
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: %s.data is null for %zu rows", function, name, rows);
  if (stride < n)
    return status::make(status_code::bad_shape, 0,
                        "rotq::cuda::%s: %s.stride = %zu is smaller than the row length n = %zu",
                        function, name, stride, n);
  if (!aligned_to(data, alignment))
    return status::make(status_code::misaligned_pointer, 0,
                        "rotq::cuda::%s: %s.data = %p is not %zu-byte aligned, as the kernel's "
                        "vectors need",
                        function, name, data, alignment);
  if (rows > 1 && (stride * element_bytes(type)) % alignment != 0)
    return status::make(status_code::misaligned_pointer, 0,
                        "rotq::cuda::%s: %s.stride = %zu %s elements is not a multiple of %zu "
                        "bytes, so rows after the first would be misaligned",
                        function, name, stride, type_name(type), alignment);
  return {};
}

/// The bytes [begin, end) that `rows` rows of `row_bytes` bytes, `stride_bytes` apart, cover from
/// `data`; end saturates at the top of the address space rather than wrap for absurd strides.
struct byte_span {
  std::uintptr_t begin = 0, end = 0;
};

inline byte_span rows_span(const void* data, std::size_t rows, std::size_t stride_bytes,
                           std::size_t row_bytes) {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t room = UINTPTR_MAX - begin;
  if (rows == 0 || row_bytes == 0) return {begin, begin};
  if (row_bytes > room ||
      (rows > 1 && stride_bytes != 0 && (rows - 1) > (room - row_bytes) / stride_bytes))
    return {begin, UINTPTR_MAX};
  return {begin, begin + (rows - 1) * stride_bytes + row_bytes};
}

inline bool overlap(const byte_span& a, const byte_span& b) {
  return a.begin < a.end && b.begin < b.end && a.begin < b.end && b.begin < a.end;
}

/// Output rows: as check_rows, of in's type, and either exactly in place (same data and stride,
/// when `in_place_allowed`) or not overlapping the input at all.
inline status check_output_rows(const char* function, const device_input& in,
                                const device_output& out, std::size_t rows, std::size_t n,
                                std::size_t alignment, bool in_place_allowed) {
  if (out.type != in.type)
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: out.type = %s, expected in.type = %s", function,
                        type_name(out.type), type_name(in.type));
  status s = check_rows(function, "out", out.data, out.type, out.stride, rows, n, alignment);
  if (!s || rows == 0) return s;
  if (in.data == out.data && in.stride == out.stride) {
    if (in_place_allowed) return {};
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: out.data == in.data, expected separate output rows (this "
                        "kernel does not run in place)",
                        function);
  }
  const std::size_t bytes = element_bytes(in.type);
  const byte_span input = rows_span(in.data, rows, in.stride * bytes, n * bytes);
  const byte_span output = rows_span(out.data, rows, out.stride * bytes, n * bytes);
  if (overlap(input, output))
    return status::make(status_code::bad_shape, 0,
                        "rotq::cuda::%s: out rows [%p, %p) overlap in rows [%p, %p); expected "
                        "exactly in place or disjoint",
                        function, out.data, reinterpret_cast<const void*>(output.end), in.data,
                        reinterpret_cast<const void*>(input.end));
  return {};
}

/// A named array the launch reads or writes, for the overlap check below.
struct named_span {
  const char* name;
  byte_span bytes;
};

/// Refuses any two of `spans` that share a byte: a kernel writing one while (another CTA) reads or
/// writes the other would give garbage that depends on scheduling.
template <std::size_t count>
status check_disjoint(const char* function, const named_span (&spans)[count]) {
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t j = i + 1; j < count; ++j)
      if (overlap(spans[i].bytes, spans[j].bytes))
        return status::make(
            status_code::bad_shape, 0,
            "rotq::cuda::%s: %s bytes [%p, %p) overlap %s bytes [%p, %p); expected disjoint "
            "arrays",
            function, spans[i].name, reinterpret_cast<const void*>(spans[i].bytes.begin),
            reinterpret_cast<const void*>(spans[i].bytes.end), spans[j].name,
            reinterpret_cast<const void*>(spans[j].bytes.begin),
            reinterpret_cast<const void*>(spans[j].bytes.end));
  return {};
}

/// The quantiser options for rows of n elements of `in` and the output they write, with `vector`
/// the elements each code store covers (8 for the vectorised kernels, 2 for the staged one). Codes,
/// scales and zero points must not overlap each other or the input rows.
inline status check_quantized_output(const char* function, const device_input& in,
                                     const quant_options& q, const quantized_output& out,
                                     std::size_t rows, std::size_t n, std::size_t vector) {
  const bool integer = q.format == quant_format::int8 || q.format == quant_format::int4;
  const bool known = integer || q.format == quant_format::fp8_e4m3 ||
                     q.format == quant_format::mxfp4 || q.format == quant_format::nvfp4;
  if (!known)
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: quant.format = %d, expected int8, int4, fp8_e4m3, mxfp4 "
                        "or nvfp4",
                        function, static_cast<int>(q.format));
  if (q.format == quant_format::mxfp4 || q.format == quant_format::nvfp4) {
    const std::size_t block = q.format == quant_format::mxfp4 ? 32 : 16;
    if (q.group_size != 0 && q.group_size != block)
      return status::make(status_code::unsupported_size, 0,
                          "rotq::cuda::%s: quant.group_size = %zu, expected 0 or %zu (the %s "
                          "block)",
                          function, q.group_size, block,
                          q.format == quant_format::mxfp4 ? "MXFP4" : "NVFP4");
  } else if (q.group_size != 0 && q.group_size != 16 && q.group_size != 32 && q.group_size != 64 &&
             q.group_size != 128) {
    return status::make(status_code::unsupported_size, 0,
                        "rotq::cuda::%s: quant.group_size = %zu, expected 0 (per token), 16, 32, "
                        "64 or 128",
                        function, q.group_size);
  }
  const std::size_t group = elements_per_scale(q, n);
  if (n % group != 0)
    return status::make(status_code::bad_shape, 0,
                        "rotq::cuda::%s: the scale group of %zu elements does not divide the row "
                        "length n = %zu",
                        function, group, n);
  if (integer && !(q.clip > 0.0f && q.clip <= 1.0f))
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: quant.clip = %g, expected a ratio in (0, 1]", function,
                        static_cast<double>(q.clip));
  if (q.format == quant_format::nvfp4 && !(std::isfinite(q.global_scale) && q.global_scale > 0.0f))
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: quant.global_scale = %g, expected a finite positive "
                        "fp32 scale",
                        function, static_cast<double>(q.global_scale));
  if (rows == 0) return {};
  const std::size_t code_bytes = code_bytes_per_row(q.format, n);
  const std::size_t store_bytes = code_bytes_per_row(q.format, vector);
  if (out.codes == nullptr || out.scales == nullptr)
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: out.codes = %p and out.scales = %p, expected device "
                        "pointers",
                        function, out.codes, out.scales);
  if (out.codes_stride < code_bytes)
    return status::make(status_code::bad_shape, 0,
                        "rotq::cuda::%s: out.codes_stride = %zu bytes is smaller than a row of "
                        "codes (%zu bytes)",
                        function, out.codes_stride, code_bytes);
  if (!aligned_to(out.codes, store_bytes) || (rows > 1 && out.codes_stride % store_bytes != 0))
    return status::make(status_code::misaligned_pointer, 0,
                        "rotq::cuda::%s: out.codes = %p with out.codes_stride = %zu, expected "
                        "both multiples of %zu bytes (one store of %zu codes)",
                        function, out.codes, out.codes_stride, store_bytes, vector);
  const std::size_t scale_count = scales_per_row(q, n);
  if (out.scales_stride < scale_count)
    return status::make(status_code::bad_shape, 0,
                        "rotq::cuda::%s: out.scales_stride = %zu is smaller than the %zu scales "
                        "of a row",
                        function, out.scales_stride, scale_count);
  const bool float_scales = q.format != quant_format::mxfp4 && q.format != quant_format::nvfp4;
  if (float_scales && !aligned_to(out.scales, alignof(float)))
    return status::make(status_code::misaligned_pointer, 0,
                        "rotq::cuda::%s: out.scales = %p, expected a 4-byte aligned float array",
                        function, out.scales);
  if (integer && !q.symmetric) {
    if (out.zero_points == nullptr)
      return status::make(status_code::invalid_argument, 0,
                          "rotq::cuda::%s: out.zero_points is null, expected a device array for "
                          "the asymmetric zero points",
                          function);
    if (out.zero_points_stride < scale_count)
      return status::make(status_code::bad_shape, 0,
                          "rotq::cuda::%s: out.zero_points_stride = %zu is smaller than the %zu "
                          "zero points of a row",
                          function, out.zero_points_stride, scale_count);
    if (!aligned_to(out.zero_points, alignof(std::int32_t)))
      return status::make(status_code::misaligned_pointer, 0,
                          "rotq::cuda::%s: out.zero_points = %p, expected 4-byte alignment",
                          function, static_cast<const void*>(out.zero_points));
  }
  const std::size_t in_bytes = element_bytes(in.type);
  const std::size_t scale_bytes = float_scales ? sizeof(float) : 1;
  const bool zero_points = integer && !q.symmetric;
  const named_span spans[] = {
      {"in", rows_span(in.data, rows, in.stride * in_bytes, n * in_bytes)},
      {"out.codes", rows_span(out.codes, rows, out.codes_stride, code_bytes)},
      {"out.scales",
       rows_span(out.scales, rows, out.scales_stride * scale_bytes, scale_count * scale_bytes)},
      {"out.zero_points",
       zero_points ? rows_span(out.zero_points, rows, out.zero_points_stride * sizeof(std::int32_t),
                               scale_count * sizeof(std::int32_t))
                   : byte_span{}},
  };
  return check_disjoint(function, spans);
}

/// The optional per-channel divisor: null, or `alignment`-byte aligned.
inline status check_divisor(const char* function, const float* divisor, std::size_t alignment) {
  if (divisor != nullptr && !aligned_to(divisor, alignment))
    return status::make(status_code::misaligned_pointer, 0,
                        "rotq::cuda::%s: channel_divisor = %p is not %zu-byte aligned", function,
                        static_cast<const void*>(divisor), alignment);
  return {};
}

/// The kernels' view of checked quantiser options for rows of n elements.
inline code_format to_code_format(const quant_options& q, std::size_t n) {
  code_format f;
  switch (q.format) {
    case quant_format::int8:
    case quant_format::int4:
      f.kind = code_kind::integer;
      f.bits = q.format == quant_format::int8 ? 8 : 4;
      f.symmetric = q.symmetric;
      f.clip = q.clip;
      break;
    case quant_format::fp8_e4m3: f.kind = code_kind::e4m3; break;
    case quant_format::mxfp4: f.kind = code_kind::mxfp4; break;
    case quant_format::nvfp4:
      f.kind = code_kind::nvfp4;
      f.global_scale = q.global_scale;
      break;
  }
  f.group_size = static_cast<int>(elements_per_scale(q, n));
  return f;
}

inline code_target to_code_target(const quant_options& q, const quantized_output& out,
                                  std::size_t n) {
  code_target t;
  t.format = to_code_format(q, n);
  t.codes = static_cast<std::uint8_t*>(out.codes);
  t.codes_stride = static_cast<std::int64_t>(out.codes_stride);
  t.scales = out.scales;
  t.scales_stride = static_cast<std::int64_t>(out.scales_stride);
  if (tracks_range(t.format)) {
    t.zeros = out.zero_points;
    t.zeros_stride = static_cast<std::int64_t>(out.zero_points_stride);
  }
  return t;
}

}  // namespace detail
}  // namespace cuda
}  // namespace rotq
