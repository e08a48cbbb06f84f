#pragma once
// Where the examples find stories260K.bin, tok512.bin and the evaluation text: the folder given
// on the command line, else $ROTQ_MODEL_DIR, else ./models, else the shared data folder the
// examples were built with (CMake's ROTQ_SHARED_DIR).

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rotq_example {

inline std::string find_model_dir(const char* given = nullptr) {
  std::vector<std::string> candidates;
  if (given != nullptr && *given != '\0') candidates.emplace_back(given);
  if (const char* env = std::getenv("ROTQ_MODEL_DIR"); env != nullptr && *env != '\0')
    candidates.emplace_back(env);
  candidates.emplace_back("models");
  candidates.emplace_back(std::string(ROTQ_DEFAULT_SHARED_DIR) + "/models");
  for (const std::string& dir : candidates)
    if (std::ifstream(dir + "/stories260K.bin").good()) return dir;
  std::string message = "stories260K.bin not found in:";
  for (const std::string& dir : candidates) message += " '" + dir + "'";
  throw std::runtime_error(message + " (give the folder as an argument or set ROTQ_MODEL_DIR)");
}

}  // namespace rotq_example
