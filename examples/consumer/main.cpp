// Uses the installed rotq: transforms a vector with a non-power-of-two Hadamard, in double and in
// float, and checks that each transform preserved its length (an orthogonal map). Exits non-zero
// on failure.

#include <rotq/rotq.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

template <class T>
bool preserves_length(const char* type, double tolerance) {
  const std::size_t n = 172 * 64;  // LLaMA-2-7B's FFN size: H_172 (x) S_64
  std::vector<T> x(n);
  double before = 0;
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = T(std::sin(0.1 * double(i)) + (i == 42 ? 100.0 : 0.0));
    before += double(x[i]) * double(x[i]);
  }
  rotq::fwht(x.data(), n);
  double after = 0;
  for (T v : x) after += double(v) * double(v);
  std::printf("rotq %s, %s: |x|^2 = %.6f before, %.6f after H_%zu\n", ROTQ_VERSION_STRING, type,
              before, after, n);
  return std::abs(after - before) <= tolerance * before;
}

int main() {
  const bool in_double = preserves_length<double>("double", 1e-9);
  const bool in_float = preserves_length<float>("float", 1e-5);
  return in_double && in_float ? 0 : 1;
}
