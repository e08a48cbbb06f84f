#pragma once
// Whole-file reads and a little-endian cursor over their bytes: what the checkpoint, tokenizer and
// text loaders share, so each reports an unreadable or short file the same way.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "rotq/error.hpp"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rotq::model reads little-endian files by copying bytes; a big-endian host needs byte swaps"
#endif

namespace rotq {
namespace model {

/// The whole content of the file at `path`, as bytes: a regular file, or a pipe that ends.
/// Throws rotq::error naming the file and the system's reason when it cannot be opened or read
/// (missing, a directory, no permission), and for a character device: /dev/zero would be read
/// until memory ran out, a terminal until someone typed an end of file.
inline std::string read_file_bytes(const std::string& path) {
  std::error_code status_error;
  ROTQ_EXPECTS(!std::filesystem::is_character_file(path, status_error),
               "'" << path << "' is a character device; expected a file");
  errno = 0;
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  ROTQ_EXPECTS(file != nullptr, "cannot open '" << path << "': " << std::strerror(errno));
  std::string bytes;
  std::error_code size_error;
  const std::uintmax_t size = std::filesystem::file_size(path, size_error);
  if (!size_error) bytes.reserve(static_cast<std::size_t>(size));  // one allocation, not log n
  char chunk[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) bytes.append(chunk, got);
  ROTQ_EXPECTS(!std::ferror(file.get()), "cannot read '" << path << "': " << std::strerror(errno));
  return bytes;
}

/// Reads little-endian int32 and float32 values in sequence from a byte buffer it does not own.
/// Callers check remaining() before each read, so they can say which record is short; reading
/// past the end is a programming error and throws.
class byte_reader {
public:
  byte_reader(const char* data, std::size_t size) : data_(data), size_(size) {}

  std::size_t remaining() const { return size_ - offset_; }
  std::size_t offset() const { return offset_; }

  std::int32_t read_int32() {
    std::int32_t value = 0;
    copy_out(&value, sizeof value);
    return value;
  }

  float read_float32() {
    float value = 0;
    copy_out(&value, sizeof value);
    return value;
  }

  /// The next `count` bytes, copied.
  std::string read_bytes(std::size_t count) {
    std::string bytes(count, '\0');
    copy_out(bytes.data(), count);
    return bytes;
  }

  void skip(std::size_t count) {
    expect_available(count);
    offset_ += count;
  }

  /// Copies the next `count` float32 values to `out`.
  void read_float32s(float* out, std::size_t count) { copy_out(out, count * sizeof(float)); }

private:
  void expect_available(std::size_t count) const {
    ROTQ_EXPECTS(count <= remaining(), "reading " << count << " bytes at offset " << offset_
                                                  << " of a " << size_ << "-byte buffer");
  }

  void copy_out(void* out, std::size_t count) {
    expect_available(count);
    if (count > 0) std::memcpy(out, data_ + offset_, count);
    offset_ += count;
  }

  const char* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
};

}  // namespace model
}  // namespace rotq
