#pragma once
// Where the tests find the project's shared data (models/, hadamard/): $ROTQ_SHARED_DIR, else the
// directory CMake was given (ROTQ_SHARED_DIR, default ../shared beside the source tree).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "file_bytes.hpp"

namespace rotq_test {

inline std::string shared_dir() {
  if (const char* env = std::getenv("ROTQ_SHARED_DIR"); env != nullptr && *env != '\0') return env;
  return ROTQ_TEST_SHARED_DIR;
}

/// The path of a shared data file; throws (failing the test) with a clear message if it is absent.
inline std::string shared_file(const std::string& relative) {
  const std::string path = shared_dir() + "/" + relative;
  if (!std::ifstream(path).good())
    throw std::runtime_error("test data '" + path +
                             "' not found: set ROTQ_SHARED_DIR to the folder holding models/ and "
                             "hadamard/");
  return path;
}

/// The contents of a shared data file (a text, byte for byte).
inline std::string shared_text(const std::string& relative) {
  return read_file(shared_file(relative));
}

/// The entries of hadamard/had<m>.txt, row after row: '+' is +1, any other character -1.
inline std::vector<std::int8_t> shared_hadamard_signs(std::size_t m) {
  std::ifstream in(shared_file("hadamard/had" + std::to_string(m) + ".txt"));
  std::vector<std::int8_t> signs;
  for (std::string line; std::getline(in, line);)
    for (char c : line) signs.push_back(c == '+' ? 1 : -1);
  return signs;
}

}  // namespace rotq_test
