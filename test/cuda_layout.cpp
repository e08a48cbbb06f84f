// Host tests of the GPU kernels' layout and arithmetic (cuda/include/rotq/cuda/detail/*.hpp),
// which run without a GPU or nvcc: the tiling covers every row exactly once and coalesces, a
// simulated CTA that moves data exactly as rows_kernel does (same ownership, shuffle partners,
// shared-memory exchange, H_m mixing, all through the same functions) reproduces rotq::fwht, the
// per-vector quantiser reproduces rotq/quantize.hpp bit for bit, and the launch checks reject bad
// arguments with the right status before anything would run.

#include <rotq/hadamard.hpp>
#include <rotq/quantize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../cuda/include/rotq/cuda/detail/butterflies.hpp"
#include "../cuda/include/rotq/cuda/detail/group_codes.hpp"
#include "../cuda/include/rotq/cuda/detail/kernel_params.hpp"
#include "../cuda/include/rotq/cuda/detail/launch_arguments.hpp"
#include "../cuda/include/rotq/cuda/detail/row_tiling.hpp"
#include "../cuda/include/rotq/cuda/detail/sign_tables.hpp"

namespace {

namespace cd = rotq::cuda::detail;
using rotq::cuda::status_code;

constexpr int slots = cd::library_row_slots;

/// Every n the GPU transforms take (2 <= n <= 32768) whose base order is at most max_m.
std::vector<int> supported_sizes(int max_m) {
  std::vector<int> sizes;
  for (int n = 2; n <= cd::max_row_length; ++n) {
    if (!rotq::hadamard_supported(static_cast<std::size_t>(n))) continue;
    if (static_cast<int>(rotq::hadamard_base_order(static_cast<std::size_t>(n))) > max_m) continue;
    sizes.push_back(n);
  }
  return sizes;
}

cd::row_tiling library_tiling(int n, int m, bool transform = true) {
  cd::row_tiling t;
  REQUIRE(cd::choose_row_tiling(n, m, transform, slots, cd::library_row_cta_threads, t));
  return t;
}

std::vector<float> gaussian_floats(std::size_t count, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(gen);
  return v;
}

// ---- a CTA of rows_kernel, simulated ------------------------------------------------------------

/// The registers of one thread.
struct thread_registers {
  float x[slots][8] = {};
};

/// One butterfly stage per lane bit 0 .. stages-1, as butterfly_lanes does with
/// __shfl_xor_sync: every thread reads its partner's value from before the stage.
void simulate_lane_stages(std::vector<thread_registers>& threads, int stages, int used) {
  for (int j = 0; j < stages; ++j) {
    const int mask = 1 << j;
    const std::vector<thread_registers> before = threads;
    for (std::size_t t = 0; t < threads.size(); ++t) {
      const std::size_t partner = t ^ static_cast<std::size_t>(mask);
      REQUIRE(partner < threads.size());
      REQUIRE(partner / cd::warp_threads == t / cd::warp_threads);  // a shuffle stays in its warp
      const float own_sign = (static_cast<int>(t % cd::warp_threads) & mask) != 0 ? -1.0f : 1.0f;
      for (int k = 0; k < used; ++k)
        for (int e = 0; e < 8; ++e)
          threads[t].x[k][e] =
              cd::butterfly_half(before[t].x[k][e], before[partner].x[k][e], own_sign);
    }
  }
}

void write_staged(std::vector<float>& staging, int n, int v, const float (&x)[8]) {
  for (int e = 0; e < 8; ++e) staging[cd::staged_offset(8 * v + e, n)] = x[e];
}

void read_staged(const std::vector<float>& staging, int n, int v, float (&x)[8]) {
  for (int e = 0; e < 8; ++e) x[e] = staging[cd::staged_offset(8 * v + e, n)];
}

/// rows_kernel's transform of one row (local row 0 of a CTA), step by step.
std::vector<float> simulate_rows_kernel(const cd::row_tiling& t, const std::vector<float>& row,
                                        const std::vector<std::uint32_t>& base,
                                        const std::vector<std::uint8_t>& signs, bool signs_after,
                                        float scale) {
  const int n = t.n;
  const int used = cd::used_slots(t);
  const int busy = cd::busy_threads(t);
  std::vector<thread_registers> threads(static_cast<std::size_t>(t.row_threads));
  auto flip = [&](float(&x)[8], int v) {
    for (int e = 0; e < 8; ++e) x[e] = cd::flip_sign(x[e], ((signs[v] >> e) & 1) != 0);
  };
  for (int th = 0; th < busy; ++th)
    for (int k = 0; k < used; ++k) {
      const int v = cd::owned_vector(t, th, k);
      for (int e = 0; e < 8; ++e) threads[th].x[k][e] = row[8 * v + e];
      if (!signs.empty() && !signs_after) flip(threads[th].x[k], v);
    }
  for (auto& th : threads)
    for (int k = 0; k < used; ++k) cd::butterfly_vector(th.x[k]);
  simulate_lane_stages(threads, cd::lane_stages(t), used);
  std::vector<float> staging(static_cast<std::size_t>(n), 0.0f);
  if (t.column_threads > cd::warp_threads) {
    for (int th = 0; th < busy; ++th)
      for (int k = 0; k < used; ++k)
        write_staged(staging, n, cd::owned_vector(t, th, k), threads[th].x[k]);
    for (int th = 0; th < busy; ++th)
      for (int k = 0; k < used; ++k)
        read_staged(staging, n, cd::exchanged_vector(t, th, k), threads[th].x[k]);
    simulate_lane_stages(threads, cd::log2_exact(cd::column_warps(t)), used);
    for (int th = 0; th < busy; ++th)
      for (int k = 0; k < used; ++k)
        write_staged(staging, n, cd::exchanged_vector(t, th, k), threads[th].x[k]);
    if (t.m == 1)
      for (int th = 0; th < busy; ++th)
        for (int k = 0; k < used; ++k)
          read_staged(staging, n, cd::owned_vector(t, th, k), threads[th].x[k]);
  }
  for (auto& th : threads) cd::butterfly_slots(th.x, t.column_slots);
  if (t.m > 1 && t.column_threads <= cd::warp_threads) {
    for (int th = 0; th < busy; ++th)
      for (int k = 0; k < used; ++k)
        write_staged(staging, n, cd::owned_vector(t, th, k), threads[th].x[k]);
  }
  if (t.m > 1) {
    const int words = cd::sign_words(t.m);
    for (int th = 0; th < busy; ++th) {
      const int g = th / t.column_threads;
      const int u = th % t.column_threads;
      thread_registers mixed;
      for (int b = 0; b < t.m; ++b) {
        float z[8];
        read_staged(staging, n, b * t.column_threads + u, z);
        for (int k = 0; k < t.chunk_slots; ++k) {
          const std::uint32_t word = base[(k * t.chunk_groups + g) * words + b / 32];
          cd::accumulate_signed(mixed.x[k], cd::sign_of(word, b % 32), z);
        }
      }
      threads[th] = mixed;
    }
  }
  std::vector<float> out(row.size());
  for (int th = 0; th < busy; ++th)
    for (int k = 0; k < used; ++k) {
      const int v = cd::owned_vector(t, th, k);
      for (int e = 0; e < 8; ++e) threads[th].x[k][e] *= scale;
      if (!signs.empty() && signs_after) flip(threads[th].x[k], v);
      for (int e = 0; e < 8; ++e) out[8 * v + e] = threads[th].x[k][e];
    }
  return out;
}

/// The simulated transform of rotq::fwht (forward, or inverse = H^T then signs) against the host
/// in double: max |error| relative to the largest output.
double simulated_error(int n, bool random_signs, bool inverse) {
  const int m = static_cast<int>(rotq::hadamard_base_order(static_cast<std::size_t>(n)));
  const cd::row_tiling t = library_tiling(n, m);
  const std::vector<float> row = gaussian_floats(static_cast<std::size_t>(n), 7u + n);
  const std::vector<std::uint32_t> base =
      m > 1 ? cd::pack_base_signs(rotq::hadamard_base_signs(static_cast<std::size_t>(m)),
                                  static_cast<std::size_t>(m), inverse)
            : std::vector<std::uint32_t>{};
  const std::uint64_t seed = 42;
  const std::vector<std::uint8_t> signs =
      random_signs ? cd::pack_random_signs(static_cast<std::size_t>(n), seed)
                   : std::vector<std::uint8_t>{};
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  const std::vector<float> gpu = simulate_rows_kernel(t, row, base, signs, inverse, scale);

  std::vector<double> reference(row.begin(), row.end());
  const std::vector<int> s = rotq::random_signs(static_cast<std::size_t>(n), seed);
  if (random_signs && !inverse)
    for (int i = 0; i < n; ++i) reference[i] *= s[i];
  if (inverse)
    rotq::fwht_transposed(reference.data(), reference.size());
  else
    rotq::fwht(reference.data(), reference.size());
  if (random_signs && inverse)
    for (int i = 0; i < n; ++i) reference[i] *= s[i];
  double worst = 0.0, largest = 0.0;
  for (int i = 0; i < n; ++i) {
    worst = std::max(worst, std::abs(gpu[i] - reference[i]));
    largest = std::max(largest, std::abs(reference[i]));
  }
  return worst / largest;
}

}  // namespace

TEST_CASE("tiling: every row element has exactly one owner, before and after the exchange") {
  for (const int n : supported_sizes(664))
    for (const bool decode : {false, true}) {
      const int m = static_cast<int>(rotq::hadamard_base_order(static_cast<std::size_t>(n)));
      cd::row_tiling t;
      const bool vectorised =
          decode ? cd::choose_decode_tiling(n, m, t)
                 : cd::choose_row_tiling(n, m, true, slots, cd::library_row_cta_threads, t);
      INFO("n = " << n << ", m = " << m << (decode ? ", decode tiling" : ""));
      // The vectorised kernel takes exactly the sizes whose chunks hold whole vectors.
      CHECK(vectorised == (n / m >= 8));
      if (!vectorised) continue;
      if (decode) {
        CHECK((t.rows_per_cta == 1 || t.rows_per_cta * t.row_threads == cd::warp_threads));
        CHECK((cd::used_slots(t) == slots || t.row_threads <= cd::decode_max_row_threads));
      }
      CHECK(t.m * t.p == n);
      CHECK(t.chunk_groups * t.chunk_slots == t.m);
      CHECK(cd::used_slots(t) <= slots);
      CHECK(cd::busy_threads(t) <= t.row_threads);
      CHECK(t.row_threads <= cd::max_cta_threads);
      CHECK((t.row_threads % cd::warp_threads == 0 ||
             (cd::is_power_of_two(t.row_threads) && t.row_threads < cd::warp_threads)));
      CHECK((t.rows_per_cta * t.row_threads) % cd::warp_threads == 0);
      CHECK(t.column_threads * t.column_slots * cd::vector_elements == t.p);
      // owned_vector's stride between slots holds only for these.
      CHECK((t.chunk_slots == 1 || t.column_slots == 1));
      std::vector<int> owners(static_cast<std::size_t>(n / 8), 0), exchanged(owners);
      for (int th = 0; th < cd::busy_threads(t); ++th)
        for (int k = 0; k < cd::used_slots(t); ++k) {
          ++owners.at(static_cast<std::size_t>(cd::owned_vector(t, th, k)));
          if (t.column_threads > cd::warp_threads)
            ++exchanged.at(static_cast<std::size_t>(cd::exchanged_vector(t, th, k)));
        }
      CHECK(std::all_of(owners.begin(), owners.end(), [](int c) { return c == 1; }));
      if (t.column_threads > cd::warp_threads)
        CHECK(std::all_of(exchanged.begin(), exchanged.end(), [](int c) { return c == 1; }));
    }
}

TEST_CASE("tiling: a row gets the same bits from the decode tiling as from the library's") {
  // Every supported size with m <= 172 (the sizes of the simulation test and more): the two
  // tilings split the row differently (here 1 or 2 slots a thread against 4), the arithmetic
  // must not change.
  int differing_tilings = 0;
  for (const int n : supported_sizes(172)) {
    const int m = static_cast<int>(rotq::hadamard_base_order(static_cast<std::size_t>(n)));
    cd::row_tiling library, decode;
    if (!cd::choose_row_tiling(n, m, true, slots, cd::library_row_cta_threads, library)) continue;
    REQUIRE(cd::choose_decode_tiling(n, m, decode));
    INFO("n = " << n << ", m = " << m);
    differing_tilings += cd::used_slots(decode) != cd::used_slots(library);
    const std::vector<float> row = gaussian_floats(static_cast<std::size_t>(n), 11u + n);
    const std::vector<std::uint32_t> base =
        m > 1 ? cd::pack_base_signs(rotq::hadamard_base_signs(static_cast<std::size_t>(m)),
                                    static_cast<std::size_t>(m), false)
              : std::vector<std::uint32_t>{};
    const std::vector<std::uint8_t> signs = cd::pack_random_signs(static_cast<std::size_t>(n), 5);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
    const std::vector<float> a = simulate_rows_kernel(library, row, base, signs, false, scale);
    const std::vector<float> b = simulate_rows_kernel(decode, row, base, signs, false, scale);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  }
  CHECK(differing_tilings > 10);
}

TEST_CASE("tiling: for every slot, neighbouring threads of a chunk hold neighbouring vectors") {
  for (const int n : {64, 1024, 4096, 32768, 96, 11008, 14336, 18944, 28672}) {
    const int m = static_cast<int>(rotq::hadamard_base_order(static_cast<std::size_t>(n)));
    const cd::row_tiling t = library_tiling(n, m);
    INFO("n = " << n);
    for (int th = 0; th + 1 < cd::busy_threads(t); ++th) {
      if ((th + 1) % t.column_threads == 0) continue;
      for (int k = 0; k < cd::used_slots(t); ++k)
        CHECK(cd::owned_vector(t, th + 1, k) == cd::owned_vector(t, th, k) + 1);
    }
  }
}

TEST_CASE("tiling: quantising alone covers any multiple of 8, slots past the row stay empty") {
  for (int n = 8; n <= cd::max_row_length; n += n < 512 ? 8 : 1016) {
    const cd::row_tiling t = library_tiling(n, 1, false);
    INFO("n = " << n);
    CHECK(t.row_threads <= cd::max_cta_threads);
    CHECK(cd::used_slots(t) <= slots);
    // Whole warps: the per-token reduction shuffles with a full mask.
    CHECK((t.rows_per_cta * t.row_threads) % cd::warp_threads == 0);
    CHECK(t.rows_per_cta * t.row_threads <= cd::max_cta_threads);
    std::vector<int> owners(static_cast<std::size_t>(n / 8), 0);
    for (int th = 0; th < cd::busy_threads(t); ++th)
      for (int k = 0; k < cd::used_slots(t); ++k) {
        const int v = cd::owned_vector(t, th, k);
        if (v < n / 8) ++owners[static_cast<std::size_t>(v)];
      }
    CHECK(std::all_of(owners.begin(), owners.end(), [](int c) { return c == 1; }));
  }
  cd::row_tiling t;
  CHECK_FALSE(cd::choose_row_tiling(12, 1, false, slots, 256, t));
  CHECK_FALSE(cd::choose_row_tiling(2 * cd::max_row_length, 1, false, slots, 256, t));
}

TEST_CASE("exchange: the column swap is an involution that trades warp bits for lane bits") {
  for (const int warps : {2, 4, 8, 16, 32}) {
    for (int u = 0; u < warps * cd::warp_threads; ++u) {
      const int swapped = cd::swapped_column_thread(u, warps);
      REQUIRE(swapped < warps * cd::warp_threads);
      CHECK(cd::swapped_column_thread(swapped, warps) == u);
      // The warp bits of the held column are the holder's low lane bits.
      CHECK(swapped / cd::warp_threads == (u % cd::warp_threads) % warps);
    }
  }
}

TEST_CASE("staging: a warp reading one vector per lane hits 32 distinct banks per quarter") {
  for (const int n : {64, 4096, 32768}) {
    std::set<int> offsets;
    for (int i = 0; i < n; ++i) offsets.insert(cd::staged_offset(i, n));
    CHECK(static_cast<int>(offsets.size()) == n);
    CHECK(*offsets.rbegin() == n - 1);
    // A 16-byte access per lane is served 8 lanes at a time: those 8 float4 must cover 32 banks.
    for (int first = 0; first + 8 <= n / 8; first += 8)
      for (const int half : {0, 4}) {
        std::set<int> banks;
        for (int v = first; v < first + 8; ++v)
          for (int e = 0; e < 4; ++e) banks.insert(cd::staged_offset(8 * v + half + e, n) % 32);
        CHECK(banks.size() == 32);
      }
  }
}

TEST_CASE("simulated rows_kernel equals rotq::fwht for powers of two and m * 2^k") {
  // Powers of two up to 32768 (1 to 32 warps a row, with and without the exchange), and base
  // orders from 12 to 172 with chunks from 8 to 1024 elements.
  for (const int n : {8,     16, 64,  256,  512,  1024,  2048,  4096,  8192,  16384,
                      32768, 96, 768, 3072, 5120, 11008, 13824, 14336, 18944, 28672}) {
    INFO("n = " << n);
    const double tolerance = 8 * std::numeric_limits<float>::epsilon() * std::log2(double(n));
    CHECK(simulated_error(n, false, false) < tolerance);
    CHECK(simulated_error(n, true, false) < tolerance);
    CHECK(simulated_error(n, true, true) < tolerance);
  }
}

TEST_CASE("butterflies: in-vector and in-slot stages are the Sylvester transform") {
  float x[8];
  for (int i = 0; i < 8; ++i) x[i] = static_cast<float>(i * i + 1);
  float expected[8];
  for (int r = 0; r < 8; ++r) {
    expected[r] = 0.0f;
    for (int c = 0; c < 8; ++c) expected[r] += (rotq::detail::parity(r & c) ? -1.0f : 1.0f) * x[c];
  }
  cd::butterfly_vector(x);
  for (int i = 0; i < 8; ++i) CHECK(x[i] == expected[i]);

  // Slots k and k + h pair up for every h below column_slots.
  float s[4][8] = {};
  for (int k = 0; k < 4; ++k) s[k][0] = static_cast<float>(k + 1);
  cd::butterfly_slots(s, 4);
  CHECK(s[0][0] == 10.0f);  // 1 + 2 + 3 + 4
  CHECK(s[1][0] == -2.0f);  // 1 - 2 + 3 - 4
  CHECK(s[2][0] == -4.0f);  // 1 + 2 - 3 - 4
  CHECK(s[3][0] == 0.0f);   // 1 - 2 - 3 + 4
  float t[4][8] = {};
  for (int k = 0; k < 4; ++k) t[k][0] = static_cast<float>(k + 1);
  cd::butterfly_slots(t, 2);  // only slots 0 and 1 hold data
  CHECK(t[0][0] == 3.0f);
  CHECK(t[1][0] == -1.0f);
  CHECK(t[2][0] == 3.0f);
  CHECK(t[3][0] == 4.0f);
}

TEST_CASE("sign tables: the packed bits are H_m, H_m^T and rotq::random_signs") {
  for (const std::size_t m : {12, 28, 172}) {
    const std::vector<std::int8_t> h = rotq::hadamard_base_signs(m);
    const int words = cd::sign_words(static_cast<int>(m));
    const std::vector<std::uint32_t> rows = cd::pack_base_signs(h, m, false);
    const std::vector<std::uint32_t> columns = cd::pack_base_signs(h, m, true);
    REQUIRE(rows.size() == m * static_cast<std::size_t>(words));
    for (std::size_t a = 0; a < m; ++a)
      for (std::size_t b = 0; b < m; ++b) {
        CHECK(cd::sign_of(rows[a * words + b / 32], static_cast<int>(b % 32)) == h[a * m + b]);
        CHECK(cd::sign_of(columns[a * words + b / 32], static_cast<int>(b % 32)) == h[b * m + a]);
      }
  }
  const std::vector<int> signs = rotq::random_signs(1000, 99);
  const std::vector<std::uint8_t> packed = cd::pack_random_signs(1000, 99);
  for (std::size_t i = 0; i < signs.size(); ++i)
    CHECK(((packed[i / 8] >> (i % 8)) & 1) == (signs[i] < 0 ? 1 : 0));
}

// ---- the quantiser: per-vector GPU arithmetic against rotq/quantize.hpp -------------------------

namespace {

/// Rows with the shapes quantisers meet: gaussian, an outlier channel, an all-zero group, values
/// on rounding ties, negative-only and positive-only groups.
std::vector<float> awkward_rows(std::size_t rows, std::size_t n, unsigned seed) {
  std::vector<float> x = gaussian_floats(rows * n, seed);
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x.data() + r * n;
    row[3] = 40.0f;                                                  // outlier channel
    if (n >= 64 && r % 3 == 1) std::fill(row + 32, row + 64, 0.0f);  // zero groups
    if (r % 3 == 2)
      for (std::size_t c = 0; c < 16; ++c) row[c] = std::abs(row[c]);  // one-signed group
    if (r % 4 == 3)
      for (std::size_t c = 16; c < n; ++c) row[c] = static_cast<float>((c % 15) - 7) * 0.5f;
  }
  return x;
}

struct gpu_codes {
  std::vector<std::uint8_t> codes;   // rows x code bytes per row
  std::vector<float> scales;         // fp32 steps (integer, e4m3)
  std::vector<std::uint8_t> stored;  // e8m0 / e4m3 bytes (mxfp4, nvfp4)
  std::vector<std::int32_t> zeros;
};

/// The codes the kernels write, computed with their functions: statistics of E-element vectors
/// merged per group (or per row), then each vector encoded with its group's parameters.
template <int E>
gpu_codes quantize_like_gpu(const std::vector<float>& x, std::size_t rows, std::size_t n,
                            const cd::code_format& f) {
  const bool range = cd::tracks_range(f);
  const std::size_t group = static_cast<std::size_t>(f.group_size);
  const std::size_t groups = n / group;
  const int bytes = cd::vector_code_bytes<E>(f);
  gpu_codes out;
  out.codes.assign(rows * (n / E) * static_cast<std::size_t>(bytes), 0);
  out.scales.assign(rows * groups, 0.0f);
  out.stored.assign(rows * groups, 0);
  out.zeros.assign(rows * groups, 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g = 0; g < groups; ++g) {
      cd::group_stats s;
      for (std::size_t v = g * group / E; v < (g + 1) * group / E; ++v) {
        float values[E];
        std::copy_n(x.data() + r * n + v * E, E, values);
        s = cd::merge_stats(s, cd::vector_stats(values, range), range);
      }
      const cd::group_params p = cd::make_group_params(f, s);
      out.scales[r * groups + g] = p.step;
      out.stored[r * groups + g] = p.stored;
      out.zeros[r * groups + g] = p.zero;
      for (std::size_t v = g * group / E; v < (g + 1) * group / E; ++v) {
        float values[E];
        std::copy_n(x.data() + r * n + v * E, E, values);
        std::uint8_t code_bytes[E];
        cd::encode_vector(f, values, p, code_bytes);
        std::copy_n(code_bytes, bytes, out.codes.data() + (r * (n / E) + v) * bytes);
      }
    }
  return out;
}

cd::code_format integer_format(int bits, bool symmetric, int group, float clip) {
  cd::code_format f;
  f.kind = cd::code_kind::integer;
  f.bits = bits;
  f.symmetric = symmetric;
  f.group_size = group;
  f.clip = clip;
  return f;
}

template <int E>
void check_integer_codes(const std::vector<float>& x, std::size_t rows, std::size_t n, int bits,
                         bool symmetric, std::size_t group, float clip) {
  INFO("bits " << bits << (symmetric ? " symmetric" : " asymmetric") << ", group " << group
               << ", clip " << clip << ", vector " << E);
  const rotq::int_codes host = rotq::quantize_rows(
      rotq::matrix_view<const float>(x.data(), rows, n), {bits, symmetric, group, clip});
  const gpu_codes gpu = quantize_like_gpu<E>(
      x, rows, n, integer_format(bits, symmetric, static_cast<int>(host.group_size), clip));
  CHECK(gpu.scales == host.scales);
  if (!symmetric) CHECK(gpu.zeros == host.zeros);
  if (bits == 4) {
    CHECK(gpu.codes == rotq::pack_int4(host.code_view(), symmetric));
  } else {
    std::vector<std::uint8_t> bytes(host.codes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<std::uint8_t>(host.codes[i] & 0xff);
    CHECK(gpu.codes == bytes);
  }
}

}  // namespace

TEST_CASE("quantiser: integer codes, scales and zero points equal rotq::quantize_rows") {
  const std::size_t rows = 12, n = 256;
  const std::vector<float> x = awkward_rows(rows, n, 5);
  for (const int bits : {8, 4})
    for (const bool symmetric : {true, false})
      for (const std::size_t group :
           {std::size_t{0}, std::size_t{16}, std::size_t{32}, std::size_t{64}, std::size_t{128}})
        for (const float clip : {1.0f, 0.9f}) {
          check_integer_codes<8>(x, rows, n, bits, symmetric, group, clip);
          check_integer_codes<2>(x, rows, n, bits, symmetric, group, clip);
        }
}

TEST_CASE("quantiser: fp8, MXFP4 and NVFP4 codes and scales equal rotq/quantize.hpp") {
  const std::size_t rows = 12, n = 256;
  const std::vector<float> x = awkward_rows(rows, n, 6);
  const rotq::matrix_view<const float> view(x.data(), rows, n);
  for (const std::size_t block : {std::size_t{0}, std::size_t{128}, std::size_t{16}}) {
    INFO("fp8 block " << block);
    const rotq::fp8_codes host = rotq::quantize_fp8_rows(view, block);
    cd::code_format f;
    f.kind = cd::code_kind::e4m3;
    f.group_size = static_cast<int>(host.block_size);
    const gpu_codes gpu8 = quantize_like_gpu<8>(x, rows, n, f);
    CHECK(gpu8.codes == host.codes);
    CHECK(gpu8.scales == host.scales);
    CHECK(quantize_like_gpu<2>(x, rows, n, f).codes == host.codes);
  }
  {
    const rotq::mxfp4_codes host = rotq::quantize_mxfp4_rows(view);
    cd::code_format f;
    f.kind = cd::code_kind::mxfp4;
    f.group_size = 32;
    const gpu_codes gpu = quantize_like_gpu<8>(x, rows, n, f);
    CHECK(gpu.codes == host.packed);
    CHECK(gpu.stored == host.scales);
    CHECK(quantize_like_gpu<2>(x, rows, n, f).codes == host.packed);
  }
  for (const float global : {1.0f, rotq::nvfp4_global_scale(view), 1e-3f}) {
    INFO("nvfp4 global scale " << global);
    const rotq::nvfp4_codes host = rotq::quantize_nvfp4_rows(view, global);
    cd::code_format f;
    f.kind = cd::code_kind::nvfp4;
    f.group_size = 16;
    f.global_scale = global;
    const gpu_codes gpu = quantize_like_gpu<8>(x, rows, n, f);
    CHECK(gpu.codes == host.packed);
    CHECK(gpu.stored == host.scales);
    CHECK(quantize_like_gpu<2>(x, rows, n, f).codes == host.packed);
  }
}

TEST_CASE("quantiser: partial statistics merge to the sequential scan in any order") {
  const std::vector<float> x = awkward_rows(1, 64, 8);
  for (const bool range : {false, true}) {
    cd::group_stats sequential, reversed;
    for (float v : x) sequential = cd::add_value(sequential, v, range);
    for (std::size_t i = x.size(); i-- > 0;) {
      cd::group_stats one;
      one = cd::add_value(one, x[i], range);
      reversed = cd::merge_stats(reversed, one, range);
    }
    CHECK(sequential.first == reversed.first);
    CHECK(sequential.second == reversed.second);
  }
  cd::group_stats with_nan;
  with_nan = cd::add_value(with_nan, std::numeric_limits<float>::quiet_NaN(), false);
  with_nan = cd::add_value(with_nan, 5.0f, false);
  CHECK(std::isnan(with_nan.first));  // a NaN group is not hidden
}

// ---- shapes of the shared-memory kernels
// ---------------------------------------------------------

TEST_CASE("staged and block shapes fit their shared memory and cover the CTA") {
  constexpr int budget = 160 * 1024 / 4;
  auto check_staged = [&](int n, int m) {
    cd::staged_shape s;
    INFO("n = " << n << ", m = " << m);
    REQUIRE(cd::choose_staged_shape(n, m, cd::staged_cta_threads, budget, s));
    // The kernel finds a thread's row as threadIdx.x / row_threads in a CTA of exactly this size.
    CHECK(s.rows_per_cta * s.row_threads == cd::staged_cta_threads);
    CHECK(s.row_threads >= 8);
    CHECK(s.total_floats <= budget);
    CHECK(s.row_floats >= (m > 1 ? 2 * n : n) + n / 8);
    CHECK(s.row_floats % 4 == 0);  // every row's area and its float2 parameters stay aligned
  };
  // What the staged kernel serves: transforms whose chunks are shorter than a vector (any base
  // order rotq constructs), and quantising alone rows of any even length.
  for (const int n : supported_sizes(4096)) {
    const int m = static_cast<int>(rotq::hadamard_base_order(static_cast<std::size_t>(n)));
    if (n / m < 8) check_staged(n, m);
  }
  for (int n = 2; n <= cd::max_row_length; n += n < 256 ? 2 : 998) check_staged(n, 1);
  for (const int bs : {16, 64, 128, 256})
    for (const int blocks : {1, 3, 32, 128}) {
      const int n = bs * blocks;
      cd::block_shape s;
      if (n > cd::max_row_length) {
        CHECK_FALSE(cd::choose_block_shape(n, bs, cd::block_cta_threads, s));
        continue;
      }
      REQUIRE(cd::choose_block_shape(n, bs, cd::block_cta_threads, s));
      CHECK(s.rows_per_cta * s.row_threads == cd::block_cta_threads);
      CHECK(s.rows_per_cta <= cd::max_block_rows_per_cta);
      CHECK(s.rows_per_cta * s.row_floats * 4 <= 160 * 1024);
      CHECK(s.row_floats % 4 == 0);
    }
  cd::block_shape s;
  CHECK_FALSE(cd::choose_block_shape(96, 12, cd::block_cta_threads, s));
  CHECK_FALSE(cd::choose_block_shape(512, 512, cd::block_cta_threads, s));
}

TEST_CASE(
    "shared memory: every vectorised launch fits one sm_80 CTA, and what passes 48 KiB opts in") {
  // A100 lets a CTA opt into 163 KiB (H100: 227 KiB); the launchers opt in above 48 KiB.
  constexpr int sm80_cta_bytes = 163 * 1024;
  int largest = 0, past_default = 0;
  auto check = [&](const cd::row_tiling& t, bool transform) {
    for (const bool quantize : {false, true})
      for (const bool per_group : {false, true}) {
        if (per_group && !quantize) continue;
        const cd::row_smem_layout smem = cd::row_smem(t, transform, quantize, per_group);
        INFO("n = " << t.n << ", m = " << t.m << (transform ? "" : ", no transform")
                    << (quantize ? (per_group ? ", per-group" : ", per-token") : ""));
        CHECK(smem.total_floats * 4 <= sm80_cta_bytes);
        CHECK(smem.row_floats % 2 == 0);  // float2 statistics stay aligned in every row's area
        if (transform && (t.m > 1 || t.column_threads > cd::warp_threads))
          CHECK(smem.row_floats % 4 == 0);  // the float4 staging too
        largest = std::max(largest, smem.total_floats * 4);
        past_default += smem.total_floats * 4 > 48 * 1024;
      }
  };
  for (const int n : supported_sizes(664)) {
    const int m = static_cast<int>(rotq::hadamard_base_order(static_cast<std::size_t>(n)));
    cd::row_tiling t;
    if (cd::choose_row_tiling(n, m, true, slots, cd::library_row_cta_threads, t)) check(t, true);
    if (cd::choose_decode_tiling(n, m, t)) check(t, true);
  }
  for (int n = 8; n <= cd::max_row_length; n += 8) check(library_tiling(n, 1, false), false);
  // The largest is a 32768-element row staged in fp32 (128 KiB) with the per-token partials.
  CHECK(largest == 32768 * 4 + 2 * 32 * 4);
  CHECK(past_default > 0);
}

// ---- launch checks (what every launcher returns before launching) -------------------------------

namespace {

using rotq::cuda::device_input;
using rotq::cuda::device_output;
using rotq::cuda::element_type;
using rotq::cuda::quant_format;
using rotq::cuda::quant_options;
using rotq::cuda::quantized_output;

// Fake device addresses: the checks look at values only, never dereference.
const void* address(std::uintptr_t a) { return reinterpret_cast<const void*>(a); }
void* mutable_address(std::uintptr_t a) { return reinterpret_cast<void*>(a); }

bool mentions(const rotq::cuda::status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("launch checks: rows need data, length, alignment and a known type") {
  const auto check = [](const void* data, element_type type, std::size_t stride, std::size_t rows) {
    return cd::check_rows("hadamard", "in", data, type, stride, rows, 128, 16);
  };
  CHECK(check(address(0x1000), element_type::bfloat16, 128, 4).ok());
  CHECK(check(nullptr, element_type::bfloat16, 128, 0).ok());  // nothing to read
  const rotq::cuda::status null = check(nullptr, element_type::bfloat16, 128, 4);
  CHECK(null.code() == status_code::invalid_argument);
  CHECK(mentions(null, "in.data is null"));
  const rotq::cuda::status short_stride = check(address(0x1000), element_type::float32, 100, 4);
  CHECK(short_stride.code() == status_code::bad_shape);
  CHECK(mentions(short_stride, "rotq::cuda::hadamard: in.stride = 100"));
  CHECK(mentions(short_stride, "n = 128"));
  CHECK(check(address(0x1008), element_type::float16, 128, 4).code() ==
        status_code::misaligned_pointer);
  // 132 bf16 elements = 264 bytes: the second row would start misaligned; one row is fine.
  CHECK(check(address(0x1000), element_type::bfloat16, 132, 2).code() ==
        status_code::misaligned_pointer);
  CHECK(check(address(0x1000), element_type::bfloat16, 132, 1).ok());
  CHECK(check(address(0x1000), static_cast<element_type>(7), 128, 1).code() ==
        status_code::invalid_argument);
}

TEST_CASE("launch checks: outputs match the input's type and are in place or disjoint") {
  const device_input in{address(0x10000), element_type::float16, 256};
  const auto check = [&](device_output out, bool in_place_allowed) {
    return cd::check_output_rows("hadamard", in, out, 4, 256, 16, in_place_allowed);
  };
  CHECK(check({mutable_address(0x10000), element_type::float16, 256}, true).ok());
  CHECK(check({mutable_address(0x10000), element_type::float16, 256}, false).code() ==
        status_code::invalid_argument);
  CHECK(check({mutable_address(0x20000), element_type::float16, 256}, false).ok());
  const rotq::cuda::status overlap =
      check({mutable_address(0x10100), element_type::float16, 256}, true);
  CHECK(overlap.code() == status_code::bad_shape);
  CHECK(mentions(overlap, "overlap"));
  const rotq::cuda::status type =
      check({mutable_address(0x20000), element_type::float32, 256}, true);
  CHECK(type.code() == status_code::invalid_argument);
  CHECK(mentions(type, "out.type = float32, expected in.type = float16"));
}

TEST_CASE("launch checks: quantiser options and outputs") {
  const std::uintptr_t base = 0x100000;
  const device_input in{address(0x800000), element_type::float32, 4096};
  quantized_output out;
  out.codes = mutable_address(base);
  out.codes_stride = 4096;
  out.scales = mutable_address(base + 0x10000);
  out.scales_stride = 256;
  const auto check = [&](const quant_options& q, const quantized_output& o, std::size_t n = 4096,
                         std::size_t vector = 8) {
    return cd::check_quantized_output("hadamard_quantize", in, q, o, 16, n, vector);
  };
  quant_options q;
  CHECK(check(q, out).ok());
  q.group_size = 48;
  const rotq::cuda::status group = check(q, out);
  CHECK(group.code() == status_code::unsupported_size);
  CHECK(mentions(group, "quant.group_size = 48"));
  q.group_size = 128;
  CHECK(check(q, out, 192).code() == status_code::bad_shape);  // 128 does not divide 192
  q = {};
  q.clip = 0.0f;
  CHECK(check(q, out).code() == status_code::invalid_argument);
  q.clip = 1.5f;
  CHECK(check(q, out).code() == status_code::invalid_argument);
  q = {};
  q.format = quant_format::mxfp4;
  q.group_size = 16;
  CHECK(check(q, out).code() == status_code::unsupported_size);
  q.group_size = 32;
  CHECK(check(q, out).ok());
  q = {};
  q.format = quant_format::nvfp4;
  q.global_scale = 0.0f;
  CHECK(check(q, out).code() == status_code::invalid_argument);
  q.global_scale = std::numeric_limits<float>::infinity();
  CHECK(check(q, out).code() == status_code::invalid_argument);
  q = {};
  q.symmetric = false;
  const rotq::cuda::status zeros = check(q, out);
  CHECK(zeros.code() == status_code::invalid_argument);
  CHECK(mentions(zeros, "zero_points"));
  q = {};
  quantized_output narrow = out;
  narrow.codes_stride = 4000;
  CHECK(check(q, narrow).code() == status_code::bad_shape);
  q.format = quant_format::int4;
  narrow.codes_stride = 2048;
  CHECK(check(q, narrow).ok());  // int4: half a byte a code
  narrow.codes = mutable_address(base + 2);
  CHECK(check(q, narrow).code() == status_code::misaligned_pointer);  // 4-byte stores
  CHECK(check(q, narrow, 4096, 2).ok());                              // 1-byte stores
  q = {};
  quantized_output few = out;
  few.scales_stride = 1;
  q.group_size = 64;
  CHECK(check(q, few).code() == status_code::bad_shape);
  few.scales = mutable_address(base + 0x10001);
  q.group_size = 0;
  CHECK(check(q, few).code() == status_code::misaligned_pointer);
  CHECK(
      cd::check_divisor("hadamard_quantize", reinterpret_cast<const float*>(base + 4), 16).code() ==
      status_code::misaligned_pointer);
  CHECK(cd::check_divisor("hadamard_quantize", nullptr, 16).ok());
}

TEST_CASE(
    "launch checks: codes, scales and zero points are disjoint from each other and the input") {
  // 16 rows of 4096 fp32 inputs at 0x800000 (256 KiB); int8 codes of 4096 bytes a row.
  const device_input in{address(0x800000), element_type::float32, 4096};
  const auto check = [&](const quant_options& q, const quantized_output& o) {
    return cd::check_quantized_output("hadamard_quantize", in, q, o, 16, 4096, 8);
  };
  quant_options q;
  q.symmetric = false;
  quantized_output out;
  out.codes = mutable_address(0x100000);
  out.codes_stride = 4096;
  out.scales = mutable_address(0x200000);
  out.scales_stride = 1;
  out.zero_points = reinterpret_cast<std::int32_t*>(0x300000);
  out.zero_points_stride = 1;
  CHECK(check(q, out).ok());

  // Codes written over the last input row: another CTA may still be reading it.
  quantized_output over_input = out;
  over_input.codes = mutable_address(0x800000 + 15 * 4096 * 4);
  const rotq::cuda::status input = check(q, over_input);
  CHECK(input.code() == status_code::bad_shape);
  CHECK(mentions(input, "in bytes"));
  CHECK(mentions(input, "overlap out.codes bytes"));
  // Codes that end exactly where the input begins are fine.
  over_input.codes = mutable_address(0x800000 - 16 * 4096);
  CHECK(check(q, over_input).ok());

  // Scales inside the codes: the 16 scales of 4 bytes land in row 3's codes.
  quantized_output scales_in_codes = out;
  scales_in_codes.scales = mutable_address(0x100000 + 3 * 4096 + 8);
  const rotq::cuda::status scales = check(q, scales_in_codes);
  CHECK(scales.code() == status_code::bad_shape);
  CHECK(mentions(scales, "out.codes bytes"));
  CHECK(mentions(scales, "overlap out.scales bytes"));

  // Zero points sharing the scales' array, as a single float/int32 buffer misused.
  quantized_output shared = out;
  shared.zero_points = reinterpret_cast<std::int32_t*>(0x200000 + 4);
  CHECK(mentions(check(q, shared), "out.scales bytes"));
  // Symmetric formats have no zero points; whatever the pointer holds is not looked at.
  q.symmetric = true;
  CHECK(check(q, shared).ok());

  // A codes stride so large that the rows' extent would wrap around the address space.
  quantized_output wrapping = out;
  wrapping.codes_stride = (SIZE_MAX / 8) & ~std::size_t{15};
  CHECK(check(q, wrapping).code() == status_code::bad_shape);
}

TEST_CASE("launch checks: public options become the kernels' code format") {
  quant_options q;
  q.format = quant_format::int4;
  q.symmetric = false;
  q.clip = 0.8f;
  q.group_size = 64;
  const cd::code_format f = cd::to_code_format(q, 4096);
  CHECK(f.kind == cd::code_kind::integer);
  CHECK(f.bits == 4);
  CHECK_FALSE(f.symmetric);
  CHECK(f.clip == 0.8f);
  CHECK(f.group_size == 64);
  q.group_size = 0;
  CHECK(cd::to_code_format(q, 4096).group_size == 4096);
  q.format = quant_format::nvfp4;
  q.global_scale = 0.25f;
  CHECK(cd::to_code_format(q, 4096).group_size == 16);
  CHECK(cd::to_code_format(q, 4096).global_scale == 0.25f);
  CHECK(rotq::cuda::scales_per_row(q, 4096) == 256);
  CHECK(rotq::cuda::code_bytes_per_row(quant_format::fp8_e4m3, 4096) == 4096);
  CHECK(rotq::cuda::code_bytes_per_row(quant_format::mxfp4, 4096) == 2048);
}

TEST_CASE("status: success by default, failures carry code, native error and message") {
  const rotq::cuda::status ok;
  CHECK(ok.ok());
  CHECK(static_cast<bool>(ok));
  CHECK(std::string(ok.message()).empty());
  const rotq::cuda::status failed = rotq::cuda::status::make(
      status_code::cuda_error, 2, "rotq::cuda::%s: %s", "hadamard", "out of memory");
  CHECK_FALSE(failed.ok());
  CHECK(failed.code() == status_code::cuda_error);
  CHECK(failed.native_error() == 2);
  CHECK(std::string(failed.message()) == "rotq::cuda::hadamard: out of memory");
}
