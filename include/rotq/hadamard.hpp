#pragma once
// The Walsh-Hadamard family: which sizes exist, the fast transform, the dense matrix, random signs.
//
// H_n for n = m * 2^k is (H_m (x) S_p) / sqrt(n) with p = n / m and S_p the Sylvester matrix
// (algorithms.md 1.2): a row is viewed as m contiguous chunks of p ("K-major"), each chunk gets
// S_p, then the chunks are mixed by H_m. For powers of two m = 1 and H_n = S_n / sqrt(n), which is
// symmetric; for m > 1, H_n is orthogonal but not symmetric, and fwht_transposed applies H_n^T.

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "rotq/detail/float_storage.hpp"
#include "rotq/detail/fwht_kernels.hpp"
#include "rotq/detail/hadamard_registry.hpp"
#include "rotq/detail/kernel_dispatch.hpp"
#include "rotq/detail/simd_alignment.hpp"
#include "rotq/detail/splitmix64.hpp"
#include "rotq/error.hpp"
#include "rotq/view.hpp"

namespace rotq {

/// orthonormal: H_n / sqrt(n), its own inverse up to transposition (the default everywhere).
/// none: the raw +-1 butterflies, for callers that fold the 1/sqrt(n) scale elsewhere.
enum class normalization { orthonormal, none };

/// True iff rotq can build the order-n transform: n a power of two, or n = m * 2^k where
/// m = 4 * odd(n) divides n and rotq holds a Hadamard matrix of order m. rotq constructs every
/// multiple of 4 up to 664, and up to 4096 the m that Paley I (m - 1 a prime power, 3 mod 4),
/// Paley II (m / 2 - 1 a prime power, 1 mod 4), a stored design or Miyamoto's construction
/// (m = 4q, q a prime power, 1 mod 4, with H_{q-1} itself constructed) reaches; any order given
/// to register_hadamard_base is supported too. Never throws.
inline bool hadamard_supported(std::size_t n) {
  if (n == 0) return false;
  const std::size_t odd = detail::odd_part(n);
  if (odd == 1) return true;
  const std::size_t m = 4 * odd;
  return n % m == 0 && detail::hadamard_registry::instance().available(m);
}

namespace detail {

/// Throws rotq::error from `function` (the public function the caller called) unless n is a
/// supported size.
inline void expect_hadamard_size(std::size_t n, const char* function) {
  if (hadamard_supported(n)) return;
  std::ostringstream message;
  message << "n = " << n
          << " is not a supported Hadamard size; expected a power of two or n = m * 2^k with "
             "m = 4 * (odd part of n) dividing n and a Hadamard matrix of order m known to rotq "
             "(see rotq::register_hadamard_base)";
  throw_error(function, message.str());
}

/// hadamard_base_order for an n already known to be supported.
inline std::size_t base_order_of_supported(std::size_t n) {
  const std::size_t odd = odd_part(n);
  return odd == 1 ? 1 : 4 * odd;
}

}  // namespace detail

/// The m of n = m * 2^k that rotq uses: 1 for powers of two, else 4 * odd(n). Throws rotq::error
/// for an unsupported n.
inline std::size_t hadamard_base_order(std::size_t n) {
  detail::expect_hadamard_size(n, ROTQ_FUNCTION_SIGNATURE);
  return detail::base_order_of_supported(n);
}

/// Adds (or replaces) the base matrix of order m: `signs` holds m * m entries of +1 / -1,
/// row-major. Throws rotq::error unless m is a base order (4 * odd, odd > 1), every entry is +-1
/// and H H^T = m I exactly. Use it for orders no construction reaches (668, 716, ...) or to match
/// another project's exact matrix; it affects every later transform of a size with this base.
inline void register_hadamard_base(std::size_t m, const std::vector<std::int8_t>& signs) {
  ROTQ_EXPECTS(detail::is_base_order(m),
               "m = " << m
                      << " is not a base order; expected 4 * odd with odd > 1 (12, 20, 28, "
                         "...): powers of two always use the Sylvester matrix, and m * 2^k uses "
                         "the base of order 4 * odd");
  // Compared by division: m * m overflows for the largest m.
  ROTQ_EXPECTS(signs.size() % m == 0 && signs.size() / m == m,
               "signs.size() = " << signs.size() << ", expected m * m for m = " << m);
  for (std::size_t i = 0; i < signs.size(); ++i)
    ROTQ_EXPECTS(signs[i] == 1 || signs[i] == -1,
                 "signs[" << i << "] = " << int(signs[i]) << ", expected +1 or -1");
  ROTQ_EXPECTS(detail::is_hadamard(signs, m),
               "the " << m << " x " << m << " matrix given is not a Hadamard matrix (H H^T != " << m
                      << " I)");
  detail::hadamard_registry::instance().insert(m, signs);
}

/// Reads a base matrix from a text file of m lines of m characters, '+' for +1 and '-' for -1 (the
/// format of shared/hadamard/), registers it and returns m. Throws rotq::error naming the file and
/// line for a missing file or a malformed line, and as register_hadamard_base for a bad matrix.
inline std::size_t load_hadamard_base(const std::string& path) {
  std::ifstream in(path);
  ROTQ_EXPECTS(in.good(), "cannot open '" << path << "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  const std::size_t m = lines.size();
  ROTQ_EXPECTS(m > 0, "'" << path << "' holds no rows");
  for (std::size_t r = 0; r < m; ++r)
    ROTQ_EXPECTS(lines[r].size() == m, "'" << path << "' line " << r + 1 << " has "
                                           << lines[r].size() << " characters, expected " << m);
  std::vector<std::int8_t> signs;
  signs.reserve(m * m);  // the file holds m * m characters, so this cannot overflow
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t c = 0; c < m; ++c) {
      const char ch = lines[r][c];
      ROTQ_EXPECTS(ch == '+' || ch == '-', "'" << path << "' line " << r + 1 << " column " << c + 1
                                               << " is '" << ch << "', expected '+' or '-'");
      signs.push_back(ch == '+' ? 1 : -1);
    }
  }
  register_hadamard_base(m, signs);
  return m;
}

/// The base matrix H_m (m = hadamard_base_order(n) for some supported n, or 1) as m * m signs,
/// row-major: what a GPU transform uploads. Throws rotq::error when rotq holds no matrix of
/// order m.
inline std::vector<std::int8_t> hadamard_base_signs(std::size_t m) {
  if (m == 1) return {1};
  ROTQ_EXPECTS(detail::is_base_order(m) && hadamard_supported(m),
               "m = " << m
                      << " is not a base order rotq holds; expected 1 or 4 * odd with a "
                         "known Hadamard matrix");
  return detail::hadamard_registry::instance().find(m)->signs;
}

/// The random Hadamard signs s_0..s_{n-1} (each +1 or -1) of `seed`: s_i = -1 when the top bit of
/// output i of the SplitMix64 stream seeded with `seed` is set (algorithms.md 1.3). The GPU
/// kernels derive the same signs from the same seed.
inline std::vector<int> random_signs(std::size_t n, std::uint64_t seed) {
  ROTQ_EXPECTS(n <= std::vector<int>().max_size(),
               "n = " << n << ": that many signs do not fit in memory");
  std::vector<int> signs(n);
  for (std::size_t i = 0; i < n; ++i) signs[i] = detail::random_sign_at(seed, i);
  return signs;
}

namespace detail {

/// What one transform size needs: n = m * p, p = 2^log2p, H_m when m > 1, and 1/sqrt(n).
struct fwht_shape {
  std::size_t n = 0, m = 1, p = 0, log2p = 0;
  /// Kept with the shape: a square root and a division on every call cost a transform of 8
  /// floats about 2 of its 13 ns (13.1 -> 11.2 ns), their latency exposed before its last pass.
  double inverse_sqrt_n = 0;
  std::shared_ptr<const hadamard_base> base;
};

/// The shape of size n, kept per thread for the last n asked: resolving it takes two passes
/// through the registry's lock, which cost a transform of 12 floats a third of its time.
/// The reference stays valid until this thread's next call.
inline const fwht_shape& resolve_fwht_shape(std::size_t n, const char* function) {
  thread_local fwht_shape last;
  thread_local std::uint64_t last_replacements = 0;
  hadamard_registry& registry = hadamard_registry::instance();
  const std::uint64_t replacements = registry.replacements();
  if (last.n == n && n != 0 && last_replacements == replacements) return last;
  expect_hadamard_size(n, function);
  fwht_shape shape;
  shape.n = n;
  shape.m = base_order_of_supported(n);  // checked just above: no second pass through the lock
  shape.p = n / shape.m;
  shape.log2p = log2_of(shape.p);
  shape.inverse_sqrt_n = 1 / std::sqrt(static_cast<double>(n));
  if (shape.m > 1) shape.base = registry.find(shape.m);
  last = std::move(shape);
  last_replacements = replacements;
  return last;
}

template <class T>
constexpr bool is_compute_type = std::is_same_v<T, float> || std::is_same_v<T, double>;
template <class T>
constexpr bool is_storage_type =
    std::is_same_v<T, Eigen::half> || std::is_same_v<T, Eigen::bfloat16>;

/// Per-thread working memory, grown on demand, so repeated transforms allocate nothing.
template <class T>
T* thread_scratch(std::size_t count) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

/// Work elements a transform of this shape needs: the mixed chunks, the group sums and for a
/// paired base the sums and differences of its halves (apply_paired_base_portable); or the
/// circulant kernel's vectors; or the bordered kernel's sequences.
inline std::size_t fwht_scratch_size(const fwht_shape& shape) {
  if (shape.m == 1) return 0;
  // Every plan of a base has the same order; their groups differ.
  const std::size_t group = std::max(shape.base->forward.group, lane_group);
  const std::size_t sums =
      (shape.base->paired ? 2 : 1) * shape.n + (std::size_t{1} << (group - 1)) * shape.p;
  std::size_t size = std::max(sums, shape.base->circulant_forward.work_size(shape.p));
  for (bool transposed : {false, true})
    if (const bordered_circulant_plan* plan = shape.base->bordered<float>(transposed, shape.p))
      size = std::max(size, plan->work_size(shape.p));
  return size;
}

/// The factor every output of a transform of this shape is multiplied by.
template <class T>
T fwht_scale(const fwht_shape& shape, normalization norm) {
  return norm == normalization::orthonormal ? T(shape.inverse_sqrt_n) : T(1);
}

/// x <- H_n x (or H_n^T x) for float / double with one back end's kernels (active_fwht_kernels
/// but in the tests), with `work` of fwht_scratch_size elements.
template <class T>
void fwht_compute(const fwht_kernels<T>& kernels, T* x, const fwht_shape& shape, normalization norm,
                  bool transposed, T* work) {
  const T scale = fwht_scale<T>(shape, norm);
  if (shape.m == 1) {
    kernels.sylvester(x, x, shape.log2p, 1, scale, chunk_source::cached);
    return;
  }
  if (const dense_sign_columns* dense = shape.base->dense<T>(transposed, shape.log2p)) {
    kernels.apply_dense(*dense, x, scale);
    return;
  }
  // H_m in place through the Fourier basis of its circulant blocks, then S_p on each chunk.
  if (const circulant_plan* circulant = shape.base->circulant<T>(transposed, shape.p)) {
    kernels.apply_circulant(*circulant, x, x, shape.p, scale, work);
    if (shape.p > 1) kernels.sylvester(x, x, shape.log2p, shape.m, T(1), chunk_source::cached);
    return;
  }
  // H_m in place by shifted sums of its circulant core (a paired base's: of its quarter's), and
  // S_p on each chunk on the way out.
  if (const bordered_circulant_plan* bordered = shape.base->bordered<T>(transposed, shape.p)) {
    kernels.apply_bordered(*bordered, x, x, shape.p, scale, work);
    return;
  }
  // Mix the chunks into `work`, then transform each chunk back into x: H_m and S_p act on
  // different indices, so the order is free, and this one needs no copy back.
  const base_group_plan& plan = shape.base->plan<T>(transposed, shape.p);
  if (shape.base->paired)
    kernels.apply_paired_base(plan, x, work, shape.p, scale, work + shape.n);
  else
    kernels.apply_base(plan, x, work, shape.p, scale, work + shape.n);
  kernels.sylvester(work, x, shape.log2p, shape.m, T(1), chunk_source::cached);
}

template <class T>
void fwht_rows_dispatch(matrix_view<T> x, normalization norm, bool transposed,
                        const char* function) {
  static_assert(is_compute_type<T> || is_storage_type<T>,
                "rotq::fwht supports float and double, and Eigen::half / Eigen::bfloat16 storage");
  if (x.rows == 0) {
    expect_hadamard_size(x.cols, function);  // an empty batch of a bad width is still an error
    return;
  }
  const fwht_shape& shape = resolve_fwht_shape(x.cols, function);
  const std::size_t n = shape.n;
  // Contiguous rows of a power of two are one run of chunks for the Sylvester kernel: one call
  // sets up once (a row of 16 floats took 8 ns on its own, 2 ns in a run) and, for more than one
  // row, prefetches each next row (rows of 1024 floats from memory: 0.35 -> 0.27 us each).
  const bool one_run = shape.m == 1 && (x.rows == 1 || x.stride == n);
  const chunk_source run_source = x.rows > 1 ? chunk_source::streamed : chunk_source::cached;
  if constexpr (is_compute_type<T>) {
    const fwht_kernels<T>& kernels = active_fwht_kernels<T>();
    if (one_run) {
      kernels.sylvester(x.data, x.data, shape.log2p, x.rows, fwht_scale<T>(shape, norm),
                        run_source);
      return;
    }
    // `work` starts on a cache line: the SIMD kernels store whole registers into it.
    T* work = cache_line_aligned(thread_scratch<T>(fwht_scratch_size(shape) + cache_line_slack<T>));
    for (std::size_t r = 0; r < x.rows; ++r)
      fwht_compute(kernels, x.row(r), shape, norm, transposed, work);
  } else if (shape.m == 1) {
    // Storage types, powers of two: the first pass widens the row to float as it loads it, the
    // last rounds it back once as it stores it.
    const storage_fwht_kernels<T>& kernels = active_kernels<storage_fwht_tables<T>>();
    const float scale = fwht_scale<float>(shape, norm);
    if (one_run) {
      kernels.sylvester(x.data, x.data, shape.log2p, x.rows, scale, run_source);
      return;
    }
    for (std::size_t r = 0; r < x.rows; ++r)
      kernels.sylvester(x.row(r), x.row(r), shape.log2p, 1, scale, chunk_source::cached);
  } else {
    // Storage types with a base H_m: widen each row to float, transform in float, round back
    // once. Here the conversions are about a tenth of the time (H_m dominates), so they stay
    // separate passes.
    float* work = cache_line_aligned(
        thread_scratch<float>(fwht_scratch_size(shape) + n + cache_line_slack<float>));
    float* row = work + fwht_scratch_size(shape);
    const fwht_kernels<float>& kernels = active_fwht_kernels<float>();
    const storage_kernels<T>& storage = active_kernels<storage_tables<T>>();
    for (std::size_t r = 0; r < x.rows; ++r) {
      storage.widen(x.row(r), row, n);
      fwht_compute(kernels, row, shape, norm, transposed, work);
      storage.round(row, x.row(r), n);
    }
  }
}

}  // namespace detail

/// In place, x <- H_n x for the n elements at x. T is float or double (computed in T), or
/// Eigen::half / Eigen::bfloat16 (computed in float, rounded once to nearest even, as static_cast
/// rounds, with the same bits on every instruction set). Every supported n works;
/// throws rotq::error otherwise. NaN or Inf in x propagates into the outputs it mixes into
/// (with H_m, all of them); nothing is checked on the hot path.
template <class T>
void fwht(T* x, std::size_t n, normalization norm = normalization::orthonormal) {
  detail::fwht_rows_dispatch(matrix_view<T>(x, 1, n), norm, false, ROTQ_FUNCTION_SIGNATURE);
}

/// In place, x <- H_n^T x: the inverse of fwht for the orthonormal normalisation. Equal to fwht
/// for powers of two.
template <class T>
void fwht_transposed(T* x, std::size_t n, normalization norm = normalization::orthonormal) {
  detail::fwht_rows_dispatch(matrix_view<T>(x, 1, n), norm, true, ROTQ_FUNCTION_SIGNATURE);
}

/// Every row r of x (n = x.cols) becomes H_n r, i.e. X <- X H_n^T; rows may be strided. Each row
/// gets the bits fwht gives it alone. Contiguous rows (stride == cols) of a power of two are one
/// batch, which is what streams many short rows at memory speed; strided rows go one by one.
template <class T>
void fwht_rows(matrix_view<T> x, normalization norm = normalization::orthonormal) {
  detail::fwht_rows_dispatch(x, norm, false, ROTQ_FUNCTION_SIGNATURE);
}

/// Every row r of x becomes H_n^T r, i.e. X <- X H_n: undoes fwht_rows (orthonormal).
template <class T>
void fwht_rows_transposed(matrix_view<T> x, normalization norm = normalization::orthonormal) {
  detail::fwht_rows_dispatch(x, norm, true, ROTQ_FUNCTION_SIGNATURE);
}

/// fwht_rows on a row-major Eigen matrix, map or block.
template <class Dense, std::enable_if_t<is_row_major_dense_v<Dense>, int> = 0>
void fwht_rows(Dense&& x, normalization norm = normalization::orthonormal) {
  fwht_rows(as_view(std::forward<Dense>(x)), norm);
}

/// fwht_rows_transposed on a row-major Eigen matrix, map or block.
template <class Dense, std::enable_if_t<is_row_major_dense_v<Dense>, int> = 0>
void fwht_rows_transposed(Dense&& x, normalization norm = normalization::orthonormal) {
  fwht_rows_transposed(as_view(std::forward<Dense>(x)), norm);
}

/// The dense H_n with exactly the map of fwht: fwht(x) == hadamard_matrix(n) * x. Built entry by
/// entry from the definition, H_m[a][b] * (-1)^popcount(i & j) at (a*p + i, b*p + j), so it is an
/// independent reference for the fast transform. Throws rotq::error for an unsupported n.
inline Eigen::MatrixXd hadamard_matrix(std::size_t n,
                                       normalization norm = normalization::orthonormal) {
  const detail::fwht_shape shape = detail::resolve_fwht_shape(n, ROTQ_FUNCTION_SIGNATURE);
  ROTQ_EXPECTS(n <= std::size_t(PTRDIFF_MAX) / sizeof(double) / n,
               "n = " << n << ": an n x n matrix of doubles does not fit in memory");
  const std::vector<std::int8_t> base = hadamard_base_signs(shape.m);
  const double scale = norm == normalization::orthonormal ? 1.0 / std::sqrt(double(n)) : 1.0;
  const auto size = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd h;
  try {
    h.resize(size, size);
  } catch (const std::bad_alloc&) {  // addressable, but more than the machine gives
    detail::throw_error(ROTQ_FUNCTION_SIGNATURE,
                        "n = " + std::to_string(n) + ": an n x n matrix of doubles (" +
                            std::to_string(n * n * sizeof(double)) +
                            " bytes) does not fit in memory: its allocation failed");
  }
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t a = r / shape.p, i = r % shape.p;
    for (std::size_t c = 0; c < n; ++c) {
      const std::size_t b = c / shape.p, j = c % shape.p;
      const int sylvester = detail::parity(i & j) ? -1 : 1;
      h(Eigen::Index(r), Eigen::Index(c)) = scale * base[a * shape.m + b] * sylvester;
    }
  }
  return h;
}

}  // namespace rotq
