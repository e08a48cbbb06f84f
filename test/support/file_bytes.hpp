#pragma once
// Whole files as byte strings, read and written in binary, independently of the loaders the tests
// exercise (rotq::model::read_file_bytes has tests of its own).

#include <fstream>
#include <iterator>
#include <string>

namespace rotq_test {

/// Every byte of the file at `path` (empty if it cannot be opened).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Replaces the file at `path` with `bytes`.
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace rotq_test
