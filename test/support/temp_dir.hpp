#pragma once
// Scratch space for one test case, removed afterwards: a directory, or a file in one of its own.

#include <filesystem>
#include <random>
#include <string>

#include "file_bytes.hpp"

namespace rotq_test {

class temp_dir {
public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("rotq-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// A file named `name` holding `bytes`, in a temp_dir of its own.
class temp_file {
public:
  temp_file(const std::string& name, const std::string& bytes) : path_(dir_.file(name)) {
    write_file(path_, bytes);
  }

  const std::string& path() const { return path_; }

private:
  temp_dir dir_;
  std::string path_;
};

}  // namespace rotq_test
