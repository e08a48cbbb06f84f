#pragma once
// Reading and writing safetensors files: an 8-byte little-endian header length N, N bytes of JSON
// naming every tensor's dtype, shape and byte range (plus an optional "__metadata__" object of
// string values), then the raw little-endian tensor bytes. Every LLM tool reads this format.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rotq/detail/json.hpp"
#include "rotq/error.hpp"

namespace rotq {

#if defined(__BYTE_ORDER__)
static_assert(
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
    "rotq's safetensors code copies tensor bytes as they are: it needs a little-endian host");
#endif

enum class tensor_dtype { f64, f32, f16, bf16, i64, i32, i16, i8, u8 };

inline const char* dtype_name(tensor_dtype dtype) {
  switch (dtype) {
    case tensor_dtype::f64: return "F64";
    case tensor_dtype::f32: return "F32";
    case tensor_dtype::f16: return "F16";
    case tensor_dtype::bf16: return "BF16";
    case tensor_dtype::i64: return "I64";
    case tensor_dtype::i32: return "I32";
    case tensor_dtype::i16: return "I16";
    case tensor_dtype::i8: return "I8";
    default: return "U8";
  }
}

inline std::size_t dtype_size(tensor_dtype dtype) {
  switch (dtype) {
    case tensor_dtype::f64:
    case tensor_dtype::i64: return 8;
    case tensor_dtype::f32:
    case tensor_dtype::i32: return 4;
    case tensor_dtype::f16:
    case tensor_dtype::bf16:
    case tensor_dtype::i16: return 2;
    default: return 1;
  }
}

/// One tensor: its name, element type, shape and raw little-endian bytes
/// (bytes.size() == product(shape) * dtype_size(dtype)).
struct tensor_record {
  std::string name;
  tensor_dtype dtype = tensor_dtype::f32;
  std::vector<std::size_t> shape;
  std::vector<std::uint8_t> bytes;

  std::size_t element_count() const {
    std::size_t count = 1;
    for (std::size_t d : shape) count *= d;
    return count;
  }

  /// The tensor from `count` values of an arithmetic type (the dtype must have its size).
  template <class T>
  static tensor_record from_values(std::string name, tensor_dtype dtype,
                                   std::vector<std::size_t> shape, const T* values,
                                   std::size_t count) {
    tensor_record t{std::move(name), dtype, std::move(shape), {}};
    ROTQ_EXPECTS(sizeof(T) == dtype_size(dtype) && count == t.element_count(),
                 "tensor '" << t.name << "': " << count << " values of " << sizeof(T)
                            << " bytes do not make a " << dtype_name(dtype) << " tensor of "
                            << t.element_count() << " elements");
    t.bytes.resize(count * sizeof(T));
    if (count != 0) std::memcpy(t.bytes.data(), values, t.bytes.size());
    return t;
  }

  /// The values as T, which must match the dtype's size.
  template <class T>
  std::vector<T> values() const {
    ROTQ_EXPECTS(sizeof(T) == dtype_size(dtype),
                 "tensor '" << name << "' holds " << dtype_name(dtype) << " elements, not "
                            << sizeof(T) << "-byte values");
    std::vector<T> out(element_count());
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
};

/// A whole file: string metadata and tensors (written in the order given).
struct safetensors_file {
  std::map<std::string, std::string> metadata;
  std::vector<tensor_record> tensors;

  /// The tensor called `name`, or null.
  const tensor_record* find(const std::string& name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

/// Writes `file` to `path`. Throws rotq::error on duplicate or reserved names, a tensor whose byte
/// count does not match its shape, or an I/O failure.
inline void write_safetensors(const std::string& path, const safetensors_file& file) {
  std::string header = "{";
  bool first = true;
  auto comma = [&] {
    if (!first) header += ",";
    first = false;
  };
  if (!file.metadata.empty()) {
    comma();
    header += "\"__metadata__\":{";
    bool first_entry = true;
    for (const auto& [key, value] : file.metadata) {
      if (!first_entry) header += ",";
      first_entry = false;
      header += detail::json_quote(key) + ":" + detail::json_quote(value);
    }
    header += "}";
  }
  std::size_t offset = 0;
  std::map<std::string, bool> seen;
  for (const auto& t : file.tensors) {
    ROTQ_EXPECTS(t.name != "__metadata__" && !t.name.empty(),
                 "tensor name '" << t.name << "' is reserved or empty");
    ROTQ_EXPECTS(!seen[t.name], "tensor name '" << t.name << "' appears twice");
    seen[t.name] = true;
    ROTQ_EXPECTS(t.bytes.size() == t.element_count() * dtype_size(t.dtype),
                 "tensor '" << t.name << "' has " << t.bytes.size() << " bytes, expected "
                            << t.element_count() * dtype_size(t.dtype) << " for its shape");
    comma();
    header +=
        detail::json_quote(t.name) + ":{\"dtype\":\"" + dtype_name(t.dtype) + "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i)
      header += (i ? "," : "") + std::to_string(t.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + t.bytes.size()) + "]}";
    offset += t.bytes.size();
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // keeps the tensor data 8-byte aligned

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  ROTQ_EXPECTS(out.good(), "cannot open '" << path << "' for writing");
  std::uint8_t size_bytes[8];
  const std::uint64_t size = header.size();
  for (int i = 0; i < 8; ++i) size_bytes[i] = static_cast<std::uint8_t>(size >> (8 * i));
  out.write(reinterpret_cast<const char*>(size_bytes), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& t : file.tensors)
    out.write(reinterpret_cast<const char*>(t.bytes.data()),
              static_cast<std::streamsize>(t.bytes.size()));
  out.flush();
  ROTQ_EXPECTS(out.good(), "writing '" << path << "' failed");
}

namespace detail {

inline bool parse_dtype(const std::string& name, tensor_dtype& out) {
  for (tensor_dtype d : {tensor_dtype::f64, tensor_dtype::f32, tensor_dtype::f16,
                         tensor_dtype::bf16, tensor_dtype::i64, tensor_dtype::i32,
                         tensor_dtype::i16, tensor_dtype::i8, tensor_dtype::u8})
    if (name == dtype_name(d)) {
      out = d;
      return true;
    }
  return false;
}

/// The bytes of a tensor of `shape` and `dtype`, or nothing when that count overflows 64 bits
/// (a shape with a 0 dimension holds 0 bytes whatever the others are).
inline std::optional<std::uint64_t> tensor_bytes(const std::vector<std::size_t>& shape,
                                                 tensor_dtype dtype) {
  if (std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end()) return 0;
  std::uint64_t bytes = dtype_size(dtype);
  for (const std::size_t d : shape) {
    if (bytes > std::numeric_limits<std::uint64_t>::max() / d) return std::nullopt;
    bytes *= d;
  }
  return bytes;
}

inline std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace detail

/// Reads a safetensors file. Throws rotq::error naming the file and the problem for anything
/// malformed: missing or truncated file, a header length beyond the file, bad JSON, an unknown
/// dtype, a shape whose byte count overflows or differs from its data_offsets, offsets that are
/// not integers, outside the data or overlapping, non-string metadata, or a path that is not a
/// regular file.
inline safetensors_file read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  ROTQ_EXPECTS(in.good(), "cannot open '" << path << "'");
  // A directory opens too, and its "size" can be anything; a device or pipe has none.
  std::error_code status_error;
  ROTQ_EXPECTS(std::filesystem::is_regular_file(path, status_error),
               "'" << path << "' is not a regular file");
  const std::streamoff end_position = in.tellg();
  ROTQ_EXPECTS(end_position >= 0, "cannot find the size of '" << path << "'");
  const auto file_size = static_cast<std::uint64_t>(end_position);
  in.seekg(0);
  ROTQ_EXPECTS(file_size >= 8, "'" << path << "' is " << file_size
                                   << " bytes: too short for a safetensors header length");
  std::uint8_t size_bytes[8];
  in.read(reinterpret_cast<char*>(size_bytes), 8);
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | size_bytes[i];
  ROTQ_EXPECTS(header_size <= file_size - 8,
               "'" << path << "': header length " << header_size << " exceeds the " << file_size - 8
                   << " bytes that follow it (truncated or not a safetensors file)");
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  const std::uint64_t data_size = file_size - 8 - header_size;
  std::vector<std::uint8_t> data(data_size);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data_size));
  ROTQ_EXPECTS(in.good() || data_size == 0, "reading '" << path << "' failed");

  const detail::json_value root = detail::json_parser(header, "'" + path + "'").parse_document();
  ROTQ_EXPECTS(root.kind == detail::json_value::type::object,
               "'" << path << "': the header is not a JSON object");
  safetensors_file file;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const auto& [name, entry] : root.object) {
    if (name == "__metadata__") {
      ROTQ_EXPECTS(entry.kind == detail::json_value::type::object,
                   "'" << path << "': __metadata__ is not an object");
      for (const auto& [key, value] : entry.object) {
        ROTQ_EXPECTS(value.kind == detail::json_value::type::string,
                     "'" << path << "': metadata '" << key << "' is not a string");
        file.metadata[key] = value.string;
      }
      continue;
    }
    const detail::json_value* dtype = entry.find("dtype");
    const detail::json_value* shape = entry.find("shape");
    const detail::json_value* offsets = entry.find("data_offsets");
    ROTQ_EXPECTS(entry.kind == detail::json_value::type::object && dtype && shape && offsets &&
                     dtype->kind == detail::json_value::type::string &&
                     shape->kind == detail::json_value::type::array &&
                     offsets->kind == detail::json_value::type::array && offsets->array.size() == 2,
                 "'" << path << "': tensor '" << name
                     << "' needs a string dtype, an array shape and two data_offsets");
    tensor_record t;
    t.name = name;
    ROTQ_EXPECTS(detail::parse_dtype(dtype->string, t.dtype),
                 "'" << path << "': tensor '" << name << "' has dtype '" << dtype->string
                     << "', expected one of F64 F32 F16 BF16 I64 I32 I16 I8 U8");
    for (const auto& d : shape->array) {
      ROTQ_EXPECTS(d.kind == detail::json_value::type::integer,
                   "'" << path << "': tensor '" << name << "' has a non-integer dimension");
      t.shape.push_back(static_cast<std::size_t>(d.integer));
    }
    ROTQ_EXPECTS(offsets->array[0].kind == detail::json_value::type::integer &&
                     offsets->array[1].kind == detail::json_value::type::integer,
                 "'" << path << "': tensor '" << name << "' has non-integer data_offsets");
    const std::uint64_t begin = offsets->array[0].integer, end = offsets->array[1].integer;
    ROTQ_EXPECTS(begin <= end && end <= data_size,
                 "'" << path << "': tensor '" << name << "' data_offsets [" << begin << ", " << end
                     << "] fall outside the " << data_size << " data bytes");
    const std::optional<std::uint64_t> needed = detail::tensor_bytes(t.shape, t.dtype);
    ROTQ_EXPECTS(needed.has_value(), "'" << path << "': tensor '" << name << "' has shape "
                                         << detail::shape_text(t.shape)
                                         << ", whose byte count overflows 64 bits");
    ROTQ_EXPECTS(end - begin == *needed, "'" << path << "': tensor '" << name << "' spans "
                                             << end - begin
                                             << " bytes, but its shape and dtype need " << *needed);
    t.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(begin),
                   data.begin() + static_cast<std::ptrdiff_t>(end));
    ranges.emplace_back(begin, end);
    file.tensors.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    ROTQ_EXPECTS(ranges[i].first >= ranges[i - 1].second,
                 "'" << path << "': two tensors share bytes " << ranges[i].first << ".."
                     << ranges[i - 1].second);
  return file;
}

}  // namespace rotq
