#pragma once
// How the GPU tests compare device results with host references so that a failure says where:
// the first element that differs (row, column, both values, how many differ) for results that
// must be bit-identical, and the worst error (row, column, both values) for results checked
// against a tolerance. Catch2 would otherwise print whole arrays, or only a number.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace rotq_test {

/// One element for a failure message: floats as decimal and hex-float (so one ulp shows), bytes
/// in hex, other integers in decimal.
template <class T>
std::string describe_value(T value) {
  std::ostringstream out;
  if constexpr (std::is_floating_point_v<T>) {
    out.precision(9);
    out << value << " (" << std::hexfloat << value << ")";
  } else if constexpr (sizeof(T) == 1) {
    out << "0x" << std::hex << static_cast<unsigned>(static_cast<std::uint8_t>(value));
  } else {
    out << static_cast<long long>(value);
  }
  return out.str();
}

/// "" when `gpu` and `host` are equal element for element (floats compared by bits, so NaNs equal
/// themselves); else where the first difference is, reading both as rows of `cols` elements.
template <class T>
std::string first_mismatch(const char* what, const std::vector<T>& gpu, const std::vector<T>& host,
                           std::size_t cols) {
  std::ostringstream out;
  if (gpu.size() != host.size()) {
    out << what << ": " << gpu.size() << " elements from the GPU, " << host.size()
        << " from the host";
    return out.str();
  }
  const auto same = [](T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      return a == b || (std::isnan(a) && std::isnan(b));
    else
      return a == b;
  };
  std::size_t first = gpu.size(), count = 0;
  for (std::size_t i = 0; i < gpu.size(); ++i) {
    if (same(gpu[i], host[i])) continue;
    if (count++ == 0) first = i;
  }
  if (count == 0) return "";
  const std::size_t row = cols == 0 ? 0 : first / cols, col = cols == 0 ? first : first % cols;
  out << what << ": first difference at row " << row << ", column " << col << ": GPU "
      << describe_value(gpu[first]) << ", host " << describe_value(host[first]) << " (" << count
      << " of " << gpu.size() << " elements differ)";
  return out.str();
}

/// The largest |value - reference| over rows x cols elements and where it is.
struct worst_difference {
  double error = 0.0;
  std::size_t row = 0, col = 0;
  double value = 0.0, reference = 0.0;

  std::string describe() const {
    std::ostringstream out;
    out.precision(9);
    out << "worst error " << error << " at row " << row << ", column " << col << ": GPU " << value
        << ", reference " << reference;
    return out.str();
  }
};

/// The worst difference between `values` (row r at r * stride) and `reference` (row-major, rows x
/// cols) as `reference_at(r, c)`.
template <class Values, class Reference>
worst_difference find_worst_difference(const Values& values, std::size_t stride, std::size_t rows,
                                       std::size_t cols, Reference&& reference_at) {
  worst_difference worst;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const double value = static_cast<double>(values[r * stride + c]);
      const double reference = reference_at(r, c);
      const double error = std::abs(value - reference);
      // A NaN error counts as the worst, so it is reported rather than skipped by the comparison.
      if (error > worst.error || (std::isnan(error) && !std::isnan(worst.error)))
        worst = {error, r, c, value, reference};
    }
  return worst;
}

}  // namespace rotq_test
