#pragma once
// H_m as a 4 x 4 array of symmetric circulant blocks of odd order t = m / 4 (the Williamson bases
// 92, 116, 156 and 172, or any registered base of that form), applied to float chunks of at most
// a few elements (circulant_kernel_applies) through a real Fourier basis of the blocks.
//
// Every symmetric circulant block B (B[i][j] = c_((j - i) mod t), c_d = c_(t-d)) has the vectors
// cos(2 pi j k / t) and sin(2 pi j k / t) as eigenvectors, with the real eigenvalue
// lambda(k) = sum_d c_d cos(2 pi d k / t). With h = (t - 1) / 2, for each input block x_c:
//   a_c(k) = x_0 + sum_{j=1..h} (x_j + x_{t-j}) cos(2 pi j k / t),          k = 0..h,
//   b_c(k) =       sum_{j=1..h} (x_j - x_{t-j}) sin(2 pi j k / t),          k = 1..h;
// per frequency a 4 x 4 mix by the blocks' eigenvalues, w_rc(k) = lambda_rc(k) (1 or 2) / t:
//   A_r(k) = sum_c w_rc(k) a_c(k),   B_r(k) = sum_c w_rc(k) b_c(k);
// and back, for each output block r:
//   u_r(i) = sum_{k=0..h} A_r(k) cos(2 pi i k / t),   v_r(i) = sum_{k=1..h} B_r(k) sin(2 pi i k /
//   t), y_r(0) = u_r(0),   y_r(i) = u_r(i) + v_r(i),   y_r(t - i) = u_r(i) - v_r(i).
// That is about m^2 / 4 multiply-adds per chunk element against the m^2 / 24 lookups of three
// columns each (fwht_lanes_avx2.hpp), which take several times as long as a multiply-add: 172 * 1
// in half the time (docs/performance.md). The results are rounded differently from the signed
// sums of the other kernels (cosines are not exact), within a few float roundings of H_m x.
//
// Every back end computes each product as one chain of fused multiply-adds over j (or k) in
// order, lane by lane, starting with a rounded product; the mix in order c = 0..3 the same way;
// the sums and differences around them as scalar code shared by all (circulant_presums,
// circulant_outputs), or the same operations lane by lane on whole registers, chunks of several
// elements copied apart first (fwht_circulant_simd.hpp). So every instruction set gives the
// portable kernel's bits.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/hadamard_constructions.hpp"

namespace rotq {
namespace detail {

/// Whether float chunks of p elements take the circulant kernel (where the base has its form).
/// It works one chunk element at a time, so its time grows with p where the lookups' tables serve
/// p elements at once. Measured on Zen 3 (AVX2) against them: p = 1 in 0.48-0.75 of their time;
/// with scalar sums and outputs p = 2 in 0.51-0.86 and p = 4 in 0.63-0.83 but 1.02 for 92 * 4,
/// which whole registers took to 0.75-0.85 and 0.84-0.89 of that, 92 * 4 to 0.85 of the lookups';
/// p = 8 in 1.25-1.83 of theirs (docs/performance.md).
constexpr bool circulant_kernel_applies(std::size_t p) { return p <= 4; }

/// The tables' rows are padded to whole registers of the widest back end (AVX-512: 16 floats).
constexpr std::size_t circulant_lane_padding = 16;

/// One orientation (H_m or H_m^T) of a base of that form, or none (order() == 0).
class circulant_plan {
public:
  circulant_plan() = default;

  /// From the m x m signs (row-major; `transpose` reads them as H^T): a plan when they form a
  /// 4 x 4 array of symmetric circulant blocks of odd order t >= 3, none otherwise.
  circulant_plan(const sign_matrix& h, std::size_t m, bool transpose) {
    if (m % 4 != 0 || (m / 4) % 2 == 0 || m < 12) return;
    const std::size_t t = m / 4;
    auto at = [&](std::size_t r, std::size_t c) { return transpose ? h[c * m + r] : h[r * m + c]; };
    std::vector<std::int8_t> first(16 * t);  // first row of block (r, c) at (r * 4 + c) * t
    for (std::size_t block = 0; block < 16; ++block) {
      const std::size_t r0 = block / 4 * t, c0 = block % 4 * t;
      std::int8_t* c = first.data() + block * t;
      for (std::size_t d = 0; d < t; ++d) c[d] = at(r0, c0 + d);
      for (std::size_t d = 1; d < t; ++d)
        if (c[d] != c[t - d]) return;
      for (std::size_t i = 1; i < t; ++i)
        for (std::size_t j = 0; j < t; ++j)
          if (at(r0 + i, c0 + j) != c[(j + t - i) % t]) return;
    }
    t_ = t;
    h_ = (t - 1) / 2;
    lanes_ = (h_ + circulant_lane_padding) / circulant_lane_padding * circulant_lane_padding;
    cosines_.assign((h_ + 1) * lanes_, 0.0f);
    sines_.assign((h_ + 1) * lanes_, 0.0f);
    weights_.assign(16 * lanes_, 0.0f);
    const double turn = 2 * 3.14159265358979323846 / double(t);
    // Reduced modulo t before the angle is formed, so that large j k lose no precision.
    auto angle = [&](std::size_t j, std::size_t k) { return turn * double(j * k % t); };
    for (std::size_t j = 0; j <= h_; ++j)
      for (std::size_t k = 0; k <= h_; ++k) {
        cosines_[j * lanes_ + k] = static_cast<float>(std::cos(angle(j, k)));
        sines_[j * lanes_ + k] = static_cast<float>(std::sin(angle(j, k)));
      }
    for (std::size_t block = 0; block < 16; ++block)
      for (std::size_t k = 0; k <= h_; ++k) {
        double lambda = 0;
        for (std::size_t d = 0; d < t; ++d) lambda += first[block * t + d] * std::cos(angle(d, k));
        weights_[block * lanes_ + k] =
            static_cast<float>(lambda * (k == 0 ? 1.0 : 2.0) / double(t));
      }
  }

  /// t, the blocks' order; 0 where the signs do not have the form.
  std::size_t order() const { return t_; }
  /// h = (t - 1) / 2: frequencies 0..h, and the pairs j, t - j for j = 1..h.
  std::size_t half() const { return h_; }
  /// The length of every row of the tables and of the work vectors: h + 1 rounded up to
  /// circulant_lane_padding, zeros past h.
  std::size_t lanes() const { return lanes_; }
  /// Row j (0..h): cos(2 pi j k / t) at lane k.
  const float* cosines(std::size_t j) const { return cosines_.data() + j * lanes_; }
  /// Row j (0..h): sin(2 pi j k / t) at lane k.
  const float* sines(std::size_t j) const { return sines_.data() + j * lanes_; }
  /// w_rc(k) at lane k.
  const float* weights(std::size_t r, std::size_t c) const {
    return weights_.data() + (r * 4 + c) * lanes_;
  }
  /// Floats of work memory a kernel needs for chunks of p elements: circulant_work's eight
  /// vectors of four blocks, then for p > 1 room for the m p elements, which the register kernels
  /// keep apart (fwht_circulant_simd.hpp).
  std::size_t work_size(std::size_t p) const { return 32 * lanes_ + (p > 1 ? 4 * t_ * p : 0); }

private:
  std::size_t t_ = 0, h_ = 0, lanes_ = 0;
  std::vector<float> cosines_, sines_, weights_;
};

/// The work vectors of the kernels, four blocks of plan.lanes() floats each, block c of vector
/// `e` at e + c * lanes: sums x_0, x_j + x_{t-j} (e) and differences x_j - x_{t-j} (o, lane 0
/// zero) of the input blocks; their cosine and sine coefficients (a, b); the mixed coefficients
/// (mixed_a, mixed_b); the output halves (u, v).
struct circulant_work {
  float *e, *o, *a, *b, *mixed_a, *mixed_b, *u, *v;

  circulant_work(const circulant_plan& plan, float* work) {
    const std::size_t block = 4 * plan.lanes();
    float** vectors[] = {&e, &o, &a, &b, &mixed_a, &mixed_b, &u, &v};
    for (std::size_t i = 0; i < 8; ++i) *vectors[i] = work + i * block;
  }
};

/// e and o from element `lane` of the m chunks of p at z.
inline void circulant_presums(const circulant_plan& plan, const float* z, std::size_t p,
                              std::size_t lane, const circulant_work& w) {
  const std::size_t t = plan.order(), h = plan.half(), lanes = plan.lanes();
  for (std::size_t c = 0; c < 4; ++c) {
    const float* x = z + c * t * p + lane;
    float* e = w.e + c * lanes;
    float* o = w.o + c * lanes;
    e[0] = x[0];
    o[0] = 0.0f;
    for (std::size_t j = 1; j <= h; ++j) {
      e[j] = x[j * p] + x[(t - j) * p];
      o[j] = x[j * p] - x[(t - j) * p];
    }
  }
}

/// Element `lane` of the m chunks of p at y from u and v, times the scale.
inline void circulant_outputs(const circulant_plan& plan, const circulant_work& w, float* y,
                              std::size_t p, std::size_t lane, float scale) {
  const std::size_t t = plan.order(), h = plan.half(), lanes = plan.lanes();
  for (std::size_t r = 0; r < 4; ++r) {
    float* out = y + r * t * p + lane;
    const float* u = w.u + r * lanes;
    const float* v = w.v + r * lanes;
    out[0] = u[0] * scale;
    for (std::size_t i = 1; i <= h; ++i) {
      out[i * p] = (u[i] + v[i]) * scale;
      out[(t - i) * p] = (u[i] - v[i]) * scale;
    }
  }
}

/// out_c(k) = sum_{j=first..h} in_c(j) table_j(k) for the four blocks c and k = 0..h, with row j
/// of the table (plan.cosines or plan.sines) at table + j * lanes: a rounded first product, then
/// fused multiply-adds in order of j.
inline void circulant_products_portable(const circulant_plan& plan, const float* table,
                                        const float* in, std::size_t first, float* out) {
  const std::size_t h = plan.half(), lanes = plan.lanes();
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t k = 0; k <= h; ++k) {
      float sum = in[c * lanes + first] * table[first * lanes + k];
      for (std::size_t j = first + 1; j <= h; ++j)
        sum = std::fma(in[c * lanes + j], table[j * lanes + k], sum);
      out[c * lanes + k] = sum;
    }
}

/// mixed_r(k) = sum_c w_rc(k) in_c(k) for k = 0..h: a rounded first product, then fused
/// multiply-adds in order of c.
inline void circulant_mix_portable(const circulant_plan& plan, const float* in, float* mixed) {
  const std::size_t h = plan.half(), lanes = plan.lanes();
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t k = 0; k <= h; ++k) {
      float sum = plan.weights(r, 0)[k] * in[k];
      for (std::size_t c = 1; c < 4; ++c)
        sum = std::fma(plan.weights(r, c)[k], in[c * lanes + k], sum);
      mixed[r * lanes + k] = sum;
    }
}

/// apply_base_portable's contract for a base of the circulant form: y_a = scale * sum_b H[a][b]
/// z_b for the m chunks of p at z, with `work` of plan.work_size(p) floats. y may be z: the kernel
/// takes one element of the chunks at a time and reads all of them before writing them. The
/// portable reference of every back end's kernel.
inline void apply_circulant_portable(const circulant_plan& plan, const float* z, float* y,
                                     std::size_t p, float scale, float* work) {
  const circulant_work w(plan, work);
  for (std::size_t lane = 0; lane < p; ++lane) {
    circulant_presums(plan, z, p, lane, w);
    circulant_products_portable(plan, plan.cosines(0), w.e, 0, w.a);
    circulant_products_portable(plan, plan.sines(0), w.o, 1, w.b);
    circulant_mix_portable(plan, w.a, w.mixed_a);
    circulant_mix_portable(plan, w.b, w.mixed_b);
    circulant_products_portable(plan, plan.cosines(0), w.mixed_a, 0, w.u);
    circulant_products_portable(plan, plan.sines(0), w.mixed_b, 1, w.v);
    circulant_outputs(plan, w, y, p, lane, scale);
  }
}

}  // namespace detail
}  // namespace rotq
