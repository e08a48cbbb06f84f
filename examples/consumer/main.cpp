// Uses the installed rotq: transforms a vector with a non-power-of-two Hadamard and checks that
// the transform preserved its length (an orthogonal map). Exits non-zero on failure.

#include <rotq/rotq.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  const std::size_t n = 172 * 64;  // LLaMA-2-7B's FFN size: H_172 (x) S_64
  std::vector<double> x(n);
  double before = 0;
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = std::sin(0.1 * double(i)) + (i == 42 ? 100.0 : 0.0);
    before += x[i] * x[i];
  }
  rotq::fwht(x.data(), n);
  double after = 0;
  for (double v : x) after += v * v;
  std::printf("rotq %s: |x|^2 = %.6f before, %.6f after H_%zu\n", ROTQ_VERSION_STRING, before,
              after, n);
  return std::abs(after - before) <= 1e-9 * before ? 0 : 1;
}
