#pragma once
// Where the tests find the project's shared data (models/, hadamard/): $ROTQ_SHARED_DIR, else the
// directory CMake was given (ROTQ_SHARED_DIR, default ../shared beside the source tree).

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

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

}  // namespace rotq_test
