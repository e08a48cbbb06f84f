#pragma once
// H_m with a circulant core: H = [[alpha, beta 1^T], [gamma 1, C]], C[i][j] = c_((j - i) mod q)
// of order q = m - 1, signs alpha, beta, gamma. Paley I over a prime field has it (44, 68, 132,
// 140 among the orders up to 172, or any registered base of that form), in both orientations.
// Applied to float chunks of at most a few elements (bordered_kernel_applies) by shifted sums.
//
// With y the q chunks after the first (x_0), S = sum_j y_j and K the shifts s of the sign kappa
// that fewer entries of c have, C y = kappa (2 T - S) with T_i = sum_{s in K} y_(i+s mod q), so
//   out_0 = alpha x_0 + beta S,   out_(1+i) = (gamma x_0 - kappa S) + kappa (T_i + T_i).
// T is |K| (about q / 2) shifted copies of y added up. Shifts that many pairs of terms share are
// added once: a step forms z = u + (v shifted by d) for two sequences u, v (y, or a step's z), and
// every pair of terms (u, s), (v, s + d) becomes the one term (z, s). For Paley I, whose K (the
// quadratic residues, or the non-residues) is a difference set, the first step pairs about a
// third of the terms: 132 takes 4 steps and 26 terms instead of 65 terms. Each element of T is
// then a chain of additions in a fixed order, the same in every back end, whatever its width.
//
// Paley II over a prime field has the paired form H = [[A, A - 2I], [A - 2I, -A]]
// (hadamard_pairs.hpp) whose quarter A = C + I (C the conference matrix) has this form, of order
// m / 2 (12, 28, 36, 60, 76, 84, 108, 124, 148 among the orders up to 172). A plan of such a
// quarter ("paired") applies the whole H: with u = z0 + z1, v = z0 - z1,
//   y0 = A z0 + (A - 2I) z1 = A u + (v - u),   y1 = (A - 2I) z0 - A z1 = A v - (u + v),
// two sets of sequences (u's and v's) that share the plan, each of half the order: half the
// additions of an unpaired base of order m.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rotq/detail/fwht_portable.hpp"
#include "rotq/detail/hadamard_constructions.hpp"

namespace rotq {
namespace detail {

/// Whether float chunks of p elements take the bordered circulant kernel, where the base has its
/// form and no dense product applies (dense_product_applies): 44 * 2 took 1.02-1.11 times the
/// dense product's time with it, 68 * 1 0.83-1.32 (docs/performance.md).
constexpr bool bordered_kernel_applies(std::size_t p) { return p <= 4; }

/// The partial sums of S: lane l adds the elements l, l + 16, ... of the q chunks in order, then
/// the lanes meet in a fixed tree. Sixteen, the widest register's lanes (AVX-512), so that every
/// back end adds in that order.
constexpr std::size_t bordered_sum_lanes = 16;

/// A step pays where it pairs at least this many terms: it adds q p elements and stores them
/// twice, about what 3.6 terms cost on Zen 3 (two loads a cycle, one store).
constexpr std::size_t bordered_step_min_pairs = 4;

/// One orientation (H_m or H_m^T) of a base of that form, or none (order() == 0).
class bordered_circulant_plan {
public:
  /// The sequence after the steps before it: z = sequences[first] + sequences[second] shifted by
  /// `shift` chunks (z_i = first_i + second_(i+shift mod q)); sequence 0 is y.
  struct step {
    std::size_t first, second, shift;
  };

  bordered_circulant_plan() = default;

  /// From the m x m signs (row-major; `transpose` reads them as H^T): a plan when they have the
  /// form above with q >= 3, none otherwise. `paired`: the signs are the quarter A of a paired
  /// base of order 2 m, and the kernels apply that whole base.
  bordered_circulant_plan(const sign_matrix& h, std::size_t m, bool transpose, bool paired = false)
      : paired_(paired) {
    if (m < 4) return;
    const std::size_t q = m - 1;
    auto at = [&](std::size_t r, std::size_t c) { return transpose ? h[c * m + r] : h[r * m + c]; };
    for (std::size_t j = 2; j < m; ++j)
      if (at(0, j) != at(0, 1) || at(j, 0) != at(1, 0)) return;
    for (std::size_t i = 1; i < q; ++i)
      for (std::size_t j = 0; j < q; ++j)
        if (at(1 + i, 1 + j) != at(1, 1 + (j + q - i) % q)) return;
    std::size_t negative = 0;
    for (std::size_t s = 0; s < q; ++s) negative += at(1, 1 + s) < 0;
    q_ = q;
    alpha_ = at(0, 0);
    beta_ = at(0, 1);
    gamma_ = at(1, 0);
    kappa_ = 2 * negative <= q ? -1 : 1;
    for (std::size_t s = 0; s < q; ++s)
      if (at(1, 1 + s) == kappa_) terms_.push_back({0, s});
    if (terms_.empty()) {  // C of one sign: no Hadamard matrix, but no plan either
      q_ = 0;
      return;
    }
    while (add_best_step()) {
    }
    std::sort(terms_.begin(), terms_.end(), [](const term& a, const term& b) {
      return a.sequence != b.sequence ? a.sequence < b.sequence : a.shift < b.shift;
    });
    for (const term& t : terms_) term_offsets_.push_back(t.sequence * 2 * q + t.shift);
  }

  /// q = m - 1; 0 where the signs do not have the form.
  std::size_t order() const { return q_; }
  /// Whether the plan is of a paired base's quarter A and applies that whole base.
  bool paired() const { return paired_; }
  int alpha() const { return alpha_; }
  int beta() const { return beta_; }
  int gamma() const { return gamma_; }
  /// The sign of the entries of c that T adds.
  int kappa() const { return kappa_; }
  const std::vector<step>& steps() const { return steps_; }
  /// The terms of T, where they start in units of p floats: sequence k lies at 2 q k (below), and
  /// the term (k, s) of shift s starts s further on. In the order of the additions.
  const std::vector<std::size_t>& term_offsets() const { return term_offsets_; }
  /// Floats of one set of sequences for chunks of p elements: each sequence twice over (q p
  /// elements, then the same again, so that every shift reads one contiguous run).
  std::size_t set_size(std::size_t p) const { return (steps_.size() + 1) * 2 * q_ * p; }
  /// Floats of work memory for chunks of p elements: the sets of sequences (two where paired),
  /// then for each set S's partial sums and its first chunk x_0 (bordered_sum_lanes each).
  std::size_t work_size(std::size_t p) const {
    return (paired_ ? 2 : 1) * (set_size(p) + 2 * bordered_sum_lanes);
  }

private:
  // T_i gets sequences[sequence]_(i+shift mod q).
  struct term {
    std::size_t sequence, shift;
  };

  // The pairs of terms (a, s), (b, s + d) that one step would merge, at most one per term:
  // along each run s, s + d, s + 2d, ... of a's shifts when a == b, every other one. Calls
  // f(s) for each pair when f is given; returns their number.
  template <class F>
  std::size_t pairs(const std::vector<char>& in_a, const std::vector<char>& in_b, bool same,
                    std::size_t d, F&& f) const {
    std::size_t count = 0;
    for (std::size_t s = 0; s < q_; ++s) {
      if (!in_a[s]) continue;
      if (!same) {
        if (in_b[(s + d) % q_]) {
          f(s);
          ++count;
        }
        continue;
      }
      if (in_a[(s + q_ - d) % q_]) continue;  // not the start of a run
      for (std::size_t u = s; in_a[u] && in_a[(u + d) % q_]; u = (u + 2 * d) % q_) {
        f(u);
        ++count;
      }
    }
    return count;
  }

  // The step that pairs the most terms (the first found among equals), if it pays: applied to
  // terms_, true; false otherwise.
  bool add_best_step() {
    const std::size_t sequences = steps_.size() + 1;
    std::vector<std::vector<char>> shifts(sequences, std::vector<char>(q_, 0));
    for (const term& t : terms_) shifts[t.sequence][t.shift] = 1;
    std::size_t best = 0, best_a = 0, best_b = 0, best_d = 0;
    auto none = [](std::size_t) {};
    for (std::size_t a = 0; a < sequences; ++a)
      for (std::size_t b = a; b < sequences; ++b)
        // d and q - d pair the same terms of one sequence (q odd or not, d < q - d suffices).
        for (std::size_t d = a == b ? 1 : 0; a == b ? 2 * d < q_ : d < q_; ++d) {
          const std::size_t count = pairs(shifts[a], shifts[b], a == b, d, none);
          if (count > best) {
            best = count;
            best_a = a;
            best_b = b;
            best_d = d;
          }
        }
    if (best < bordered_step_min_pairs) return false;
    std::vector<char> merged_a(q_, 0), merged_b(q_, 0);
    std::vector<term> kept;
    pairs(shifts[best_a], shifts[best_b], best_a == best_b, best_d, [&](std::size_t s) {
      merged_a[s] = 1;
      merged_b[(s + best_d) % q_] = 1;
      kept.push_back({sequences, s});
    });
    for (const term& t : terms_) {
      const bool merged = (t.sequence == best_a && merged_a[t.shift]) ||
                          (t.sequence == best_b && merged_b[t.shift]);
      if (!merged) kept.push_back(t);
    }
    terms_ = std::move(kept);
    steps_.push_back({best_a, best_b, best_d});
    return true;
  }

  bool paired_ = false;
  std::size_t q_ = 0;
  int alpha_ = 1, beta_ = 1, gamma_ = 1, kappa_ = -1;
  std::vector<step> steps_;
  std::vector<term> terms_;
  std::vector<std::size_t> term_offsets_;
};

/// S_e for e < p (p <= bordered_sum_lanes) into partial[0..p), from partial[l] = the sums of
/// elements l, l + 16, ... of the first qp16 = q p rounded down to 16 elements of y: the last
/// q p - qp16 elements, then the tree of lanes (lane l and l + half, half = 8, 4, ..., p).
inline void bordered_sums_finish(const float* y, std::size_t qp, float* partial, std::size_t p) {
  const std::size_t qp16 = qp / bordered_sum_lanes * bordered_sum_lanes;
  for (std::size_t f = qp16; f < qp; ++f) partial[f - qp16] += y[f];
  for (std::size_t half = bordered_sum_lanes / 2; half >= p; half /= 2)
    for (std::size_t l = 0; l < half; ++l) partial[l] += partial[l + half];
}

/// What one set of sequences makes: the whole H_m y of an unpaired base, or one half of a paired
/// base's output, y0 = A u + (v - u) from u's set or y1 = A v - (u + v) from v's.
enum class bordered_output_kind { whole, paired_first, paired_second };

/// Where the two sets of a paired base start in the work memory: u's and v's q chunks after the
/// first (each set's sequence 0), and their first chunks u_0, v_0; unused for an unpaired base.
struct bordered_pair_sources {
  const float *u = nullptr, *v = nullptr, *u0 = nullptr, *v0 = nullptr;
};

/// The difference a paired base's half adds to A's product: v - u to y0, -(u + v) to y1.
inline float bordered_pair_term(bordered_output_kind kind, float u, float v) {
  return kind == bordered_output_kind::paired_first ? v - u : -(u + v);
}

/// The first chunk of the output, scale (alpha x_0 + beta S) (plus its pair term), written to
/// y[0..p), and the bases gamma x_0 - kappa S of the others to base[0..p); y may be x_0.
inline void bordered_corner(const bordered_circulant_plan& plan, const float* x0, const float* sums,
                            std::size_t p, float scale, bordered_output_kind kind,
                            const bordered_pair_sources& pair, float* y, float* base) {
  for (std::size_t e = 0; e < p; ++e) {
    const float x = x0[e], s = sums[e];
    base[e] = (plan.gamma() > 0 ? x : -x) + (plan.kappa() > 0 ? -s : s);
    float out = (plan.alpha() > 0 ? x : -x) + (plan.beta() > 0 ? s : -s);
    if (kind != bordered_output_kind::whole)
      out += bordered_pair_term(kind, pair.u0[e], pair.v0[e]);
    y[e] = out * scale;
  }
}

/// One set's output elements after the first chunk, scale (base + kappa (t + t)) plus the pair
/// term, before S_p; t is element f of T.
inline float bordered_output(const bordered_circulant_plan& plan, float base, float t,
                             bordered_output_kind kind, const bordered_pair_sources& pair,
                             std::size_t f, float scale) {
  float out = plan.kappa() > 0 ? base + (t + t) : base - (t + t);
  if (kind != bordered_output_kind::whole) out += bordered_pair_term(kind, pair.u[f], pair.v[f]);
  return out * scale;
}

/// Where one transform's pieces lie in its work memory (work_size): each set's sequences (u's
/// and v's where paired), then each set's partial sums of S, then each set's first chunk (a
/// paired base's u_0 and v_0; an unpaired base reads x_0 from z and leaves x0[0] unused).
struct bordered_work {
  float* sets[2];
  float* partial[2];
  float* x0[2];
};

inline bordered_work bordered_work_layout(const bordered_circulant_plan& plan, float* work,
                                          std::size_t p) {
  const std::size_t sets = plan.paired() ? 2 : 1, set_size = plan.set_size(p);
  float* partial = work + sets * set_size;
  float* x0 = partial + sets * bordered_sum_lanes;
  return {{work, work + set_size},
          {partial, partial + bordered_sum_lanes},
          {x0, x0 + bordered_sum_lanes}};
}

/// A paired base's first chunks u_0 = z_0 + z_h and v_0 = z_0 - z_h, z_h starting hp floats on.
inline void bordered_pair_first_chunks(const float* z, std::size_t hp, std::size_t p, float* u0,
                                       float* v0) {
  for (std::size_t e = 0; e < p; ++e) {
    u0[e] = z[e] + z[hp + e];
    v0[e] = z[e] - z[hp + e];
  }
}

/// One set of sequences at `set` (sequence 0 filled, twice over, and its first chunk at x0) to
/// the m chunks at y, before S_p: S into `partial` (bordered_sum_lanes floats), the steps, T.
inline void apply_bordered_set_portable(const bordered_circulant_plan& plan, float* set,
                                        const float* x0, float* partial, std::size_t p, float scale,
                                        bordered_output_kind kind,
                                        const bordered_pair_sources& pair, float* y) {
  const std::size_t q = plan.order(), qp = q * p;
  auto sequence = [&](std::size_t k) { return set + k * 2 * qp; };
  const std::size_t qp16 = qp / bordered_sum_lanes * bordered_sum_lanes;
  for (std::size_t l = 0; l < bordered_sum_lanes; ++l) partial[l] = set[l];
  for (std::size_t f = bordered_sum_lanes; f < qp16; ++f) partial[f % bordered_sum_lanes] += set[f];
  bordered_sums_finish(set, qp, partial, p);
  float base[bordered_sum_lanes];
  bordered_corner(plan, x0, partial, p, scale, kind, pair, y, base);
  for (std::size_t k = 0; k < plan.steps().size(); ++k) {
    const auto& step = plan.steps()[k];
    const float* a = sequence(step.first);
    const float* b = sequence(step.second) + step.shift * p;
    float* to = sequence(k + 1);
    for (std::size_t f = 0; f < qp; ++f) to[f] = to[qp + f] = a[f] + b[f];
  }
  const std::vector<std::size_t>& offsets = plan.term_offsets();
  for (std::size_t f = 0; f < qp; ++f) {
    float t = set[offsets[0] * p + f];
    for (std::size_t k = 1; k < offsets.size(); ++k) t += set[offsets[k] * p + f];
    y[p + f] = bordered_output(plan, base[f % p], t, kind, pair, f, scale);
  }
}

/// y = scale (H_m (x) S_p) z for a base of the bordered circulant form, or of the paired form with
/// such a quarter (the whole transform: S_p too, unlike apply_base_portable), and the m chunks of
/// p at z, with `work` of plan.work_size(p) floats (p <= bordered_sum_lanes <= q p). y may be z.
/// The portable reference of every back end's kernel.
inline void apply_bordered_circulant_portable(const bordered_circulant_plan& plan, const float* z,
                                              float* y, std::size_t p, float scale, float* work) {
  const std::size_t qp = plan.order() * p, hp = qp + p;
  const std::size_t chunks = (plan.paired() ? 2 : 1) * (plan.order() + 1);
  const bordered_work w = bordered_work_layout(plan, work, p);
  if (!plan.paired()) {
    float* sequence0 = w.sets[0];
    for (std::size_t f = 0; f < qp; ++f) sequence0[f] = sequence0[qp + f] = z[p + f];
    apply_bordered_set_portable(plan, sequence0, z, w.partial[0], p, scale,
                                bordered_output_kind::whole, {}, y);
  } else {
    float *u = w.sets[0], *v = w.sets[1];
    bordered_pair_first_chunks(z, hp, p, w.x0[0], w.x0[1]);
    for (std::size_t f = 0; f < qp; ++f) {
      u[f] = u[qp + f] = z[p + f] + z[hp + p + f];
      v[f] = v[qp + f] = z[p + f] - z[hp + p + f];
    }
    const bordered_pair_sources pair{u, v, w.x0[0], w.x0[1]};
    apply_bordered_set_portable(plan, u, w.x0[0], w.partial[0], p, scale,
                                bordered_output_kind::paired_first, pair, y);
    apply_bordered_set_portable(plan, v, w.x0[1], w.partial[1], p, scale,
                                bordered_output_kind::paired_second, pair, y + hp);
  }
  for (std::size_t a = 0; a < chunks; ++a)
    sylvester_portable(y + a * p, y + a * p, log2_of(p), 1.0f);
}

}  // namespace detail
}  // namespace rotq
