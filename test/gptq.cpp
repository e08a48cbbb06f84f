// Tests for <rotq/gptq.hpp>: the Hessian accumulator against the dense 2 X^T X, GPTQ against a
// textbook implementation (no Cholesky, no blocks: the inverse Hessian of the remaining columns,
// updated by Gaussian elimination after each column), the cases where GPTQ must equal
// round-to-nearest exactly, and its purpose: a smaller layer-output error than round-to-nearest,
// on synthetic correlated inputs and on the real stories260K model.

#include <rotq/gptq.hpp>
#include <rotq/model/forward.hpp>
#include <rotq/model/llama2_checkpoint.hpp>
#include <rotq/model/perplexity.hpp>
#include <rotq/model/stories.hpp>
#include <rotq/model/tokenizer.hpp>

#include <Eigen/Core>
#include <Eigen/LU>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "support/matrices.hpp"
#include "support/quantization_checks.hpp"
#include "support/shared_model.hpp"

namespace {

using rotq_test::bitwise_equal;
using rotq_test::dequantized;
using rotq_test::gaussian;
using rotq_test::row_major_d;
using rotq_test::row_major_f;

// Correlated calibration inputs with channels of very different size, as real activations have:
// X = Z A diag(s), Z Gaussian, A a random mixing matrix, s spread over two decades.
row_major_f correlated_inputs(Eigen::Index tokens, Eigen::Index n, unsigned seed) {
  const row_major_d mixing =
      gaussian(n, n, seed + 1) / std::sqrt(double(n)) + 0.5 * row_major_d::Identity(n, n);
  Eigen::VectorXd spread(n);
  for (Eigen::Index j = 0; j < n; ++j)
    spread[j] = std::pow(10.0, 2.0 * double((j * 7) % n) / double(n) - 1.0);
  const row_major_d x = gaussian(tokens, n, seed) * mixing * spread.asDiagonal();
  return x.cast<float>();
}

// Inputs of low effective rank, as LLM activations are: rank-16 signal plus 10 % noise.
row_major_f low_rank_inputs(Eigen::Index tokens, Eigen::Index n, unsigned seed) {
  const row_major_d x =
      gaussian(tokens, 16, seed) * gaussian(16, n, seed + 1) + 0.1 * gaussian(tokens, n, seed + 2);
  return x.cast<float>();
}

Eigen::MatrixXd hessian_of(const row_major_f& x) {
  rotq::hessian_accumulator accumulator(std::size_t(x.cols()));
  accumulator.add(x);
  return accumulator.hessian();
}

double output_error(const row_major_f& x, const row_major_f& w, const row_major_f& w_hat) {
  const Eigen::MatrixXd xd = x.cast<double>();
  return (xd * (w.cast<double>() - w_hat.cast<double>()).transpose()).norm();
}

// The textbook quantiser on one value with a group's (scale, zero): clamp(round(x / s) + z) in
// float, the formula of algorithms.md 6 written out here independently.
struct grid_point {
  int code;
  float value;
};
grid_point quantize_value(float x, float scale, int zero, const rotq::quant_spec& spec) {
  const int low = spec.symmetric ? -(1 << (spec.bits - 1)) : 0;
  const int high = spec.symmetric ? (1 << (spec.bits - 1)) - 1 : (1 << spec.bits) - 1;
  const float position = std::nearbyint(x / scale) + float(zero);
  const int code = int(std::min(std::max(position, float(low)), float(high)));
  return {code, float(code - zero) * scale};
}

// A group's (scale, zero) as round-to-nearest finds them (its own tests check those).
std::pair<float, int> group_params(const std::vector<float>& values, const rotq::quant_spec& spec) {
  const row_major_f row =
      Eigen::Map<const row_major_f>(values.data(), 1, Eigen::Index(values.size()));
  const rotq::int_codes q = rotq::quantize_rows(row, {spec.bits, spec.symmetric, 0, spec.clip});
  return {q.scales[0], spec.symmetric ? 0 : q.zeros[0]};
}

// GPTQ the slow way: quantise column after column (act order: by descending diag H), spread each
// column's error over the remaining columns with the inverse Hessian of the remaining columns,
// then remove the column from that inverse by Gaussian elimination (the OBS update).
rotq::int_codes textbook_gptq(const row_major_f& w, Eigen::MatrixXd h, const rotq::quant_spec& spec,
                              bool act_order, bool static_groups, double damping) {
  const Eigen::Index m = w.rows(), n = w.cols();
  const std::size_t group = spec.group_size == 0 ? std::size_t(n) : spec.group_size;
  const std::size_t groups = std::size_t(n) / group;
  rotq::int_codes q;
  q.rows = std::size_t(m);
  q.cols = std::size_t(n);
  q.bits = spec.bits;
  q.symmetric = spec.symmetric;
  q.group_size = group;
  q.codes.assign(q.rows * q.cols, 0);
  q.scales.assign(q.rows * groups, 1.0f);
  if (!spec.symmetric) q.zeros.assign(q.scales.size(), 0);
  auto set_params = [&](Eigen::Index r, std::size_t g, const std::vector<float>& values) {
    const auto [scale, zero] = group_params(values, spec);
    q.scales[std::size_t(r) * groups + g] = scale;
    if (!spec.symmetric) q.zeros[std::size_t(r) * groups + g] = zero;
  };
  row_major_d weights = w.cast<double>();
  if (spec.group_size == 0)
    for (Eigen::Index r = 0; r < m; ++r)
      set_params(r, 0, std::vector<float>(w.row(r).data(), w.row(r).data() + n));
  for (Eigen::Index j = 0; j < n; ++j) {
    if (h(j, j) != 0.0) continue;
    h(j, j) = 1.0;
    weights.col(j).setZero();
  }
  auto current_group = [&](Eigen::Index r, Eigen::Index first) {
    std::vector<float> values;
    for (Eigen::Index k = first; k < first + Eigen::Index(group); ++k)
      values.push_back(float(weights(r, k)));
    return values;
  };
  if (spec.group_size > 0 && static_groups)
    for (Eigen::Index r = 0; r < m; ++r)
      for (std::size_t g = 0; g < groups; ++g)
        set_params(r, g, current_group(r, Eigen::Index(g * group)));
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  if (act_order)
    std::stable_sort(order.begin(), order.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return h(a, a) > h(b, b); });
  h.diagonal().array() += damping * h.diagonal().mean();
  Eigen::MatrixXd inverse = h.inverse();
  for (std::size_t p = 0; p < order.size(); ++p) {
    const Eigen::Index column = order[p];
    if (spec.group_size > 0 && !static_groups && std::size_t(column) % group == 0)
      for (Eigen::Index r = 0; r < m; ++r)
        set_params(r, std::size_t(column) / group, current_group(r, column));
    const std::size_t g = std::size_t(column) / group;
    for (Eigen::Index r = 0; r < m; ++r) {
      const std::size_t slot = std::size_t(r) * groups + g;
      const grid_point point = quantize_value(float(weights(r, column)), q.scales[slot],
                                              spec.symmetric ? 0 : q.zeros[slot], spec);
      q.codes[std::size_t(r) * q.cols + std::size_t(column)] = point.code;
      const double error = (weights(r, column) - double(point.value)) / inverse(column, column);
      for (std::size_t later = p + 1; later < order.size(); ++later)
        weights(r, order[later]) -= error * inverse(column, order[later]);
    }
    const Eigen::VectorXd pivot_column = inverse.col(column);
    inverse -= pivot_column * pivot_column.transpose() / pivot_column[column];
  }
  return q;
}

}  // namespace

// ---- the Hessian -------------------------------------------------------------------------------

TEST_CASE("the accumulator sums 2 X^T X over batches, merges, and counts rows", "[gptq][hessian]") {
  const row_major_f x = gaussian(700, 24, 1).cast<float>();
  const Eigen::MatrixXd expected = 2.0 * x.cast<double>().transpose() * x.cast<double>();
  rotq::hessian_accumulator first(24), second(24);
  first.add(rotq::matrix_view<const float>(x.data(), 300, 24));
  second.add(rotq::matrix_view<const float>(x.data() + 300 * 24, 400, 24));
  CHECK(first.count() == 300);
  first.merge(second);
  CHECK(first.count() == 700);
  CHECK(first.size() == 24);
  const Eigen::MatrixXd h = first.hessian();
  CHECK((h - expected).cwiseAbs().maxCoeff() <= 1e-12 * expected.cwiseAbs().maxCoeff());
  CHECK(h == h.transpose());
  // Doubles go in as they are.
  const row_major_d xd = gaussian(50, 24, 2);
  rotq::hessian_accumulator exact(24);
  exact.add(xd);
  CHECK((exact.hessian() - 2.0 * xd.transpose() * xd).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("the accumulator rejects empty data, wrong widths and NaN", "[gptq][hessian][errors]") {
  rotq::hessian_accumulator accumulator(8);
  CHECK_THROWS_WITH(accumulator.hessian(),
                    Catch::Contains("no calibration rows were added; expected at least one"));
  row_major_f x = row_major_f::Ones(3, 7);
  CHECK_THROWS_WITH(accumulator.add(x),
                    Catch::Contains("x.cols = 7, expected the accumulator's width n = 8"));
  row_major_f nan = row_major_f::Ones(3, 8);
  nan(2, 5) = std::nanf("");
  CHECK_THROWS_WITH(accumulator.add(nan), Catch::Contains("x(2, 5) = nan (row 2, element 5)"));
  CHECK_THROWS_WITH(accumulator.merge(rotq::hessian_accumulator(9)),
                    Catch::Contains("other.size() = 9, expected this size n = 8"));
  CHECK_THROWS_AS(rotq::hessian_accumulator(0), rotq::error);
}

// ---- exact properties --------------------------------------------------------------------------

TEST_CASE("with a diagonal Hessian GPTQ is round-to-nearest, bit for bit", "[gptq]") {
  // H diagonal makes the inverse Cholesky factor diagonal: no error reaches another column, so
  // every column is quantised as it is, on the grid round-to-nearest uses. Damping keeps H
  // diagonal, so this holds with and without it.
  const row_major_f w = gaussian(12, 64, 3).cast<float>();
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(64, 64);
  for (Eigen::Index j = 0; j < 64; ++j) h(j, j) = 0.5 + double((j * 13) % 64);
  for (const rotq::quant_spec& spec :
       {rotq::quant_spec{4, true, 0, 1.0}, rotq::quant_spec{3, false, 16, 1.0},
        rotq::quant_spec{2, true, 32, 0.8}, rotq::quant_spec{8, false, 0, 0.9}}) {
    for (bool act_order : {false, true}) {
      for (double damping : {0.0, 0.01}) {
        rotq::gptq_options options;
        options.act_order = act_order;
        options.static_groups = act_order;
        options.damping = damping;
        options.block_size = 24;
        INFO("bits " << spec.bits << " group " << spec.group_size << " act order " << act_order);
        const rotq::int_codes q = rotq::gptq_quantize(w, h, spec, options);
        const rotq::int_codes rtn = rotq::quantize_rows(w, spec);
        CHECK(q.codes == rtn.codes);
        CHECK(q.scales == rtn.scales);
        CHECK(q.zeros == rtn.zeros);
        row_major_f fake = w;
        rotq::gptq_fake_quantize(fake, h, spec, options);
        row_major_f rtn_fake = w;
        rotq::fake_quantize_rows(rtn_fake, spec);
        CHECK(bitwise_equal(fake, rtn_fake));
      }
    }
  }
}

TEST_CASE("GPTQ's clip search is round-to-nearest's when no error propagates", "[gptq][clip]") {
  // With a diagonal H the walk never changes a weight, so each row (or group) searches its clip
  // on the weights as given, as search_clip_ratios does.
  row_major_f w = gaussian(6, 64, 4).cast<float>();
  w(1, 9) = 8.0f;
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(64, 64);
  for (Eigen::Index j = 0; j < 64; ++j) h(j, j) = 1.0 + double(j % 5);
  const rotq::clip_search search{40, 2.4};
  for (const rotq::quant_spec& spec :
       {rotq::quant_spec{4, true, 0, 1.0}, rotq::quant_spec{3, false, 16, 0.95}}) {
    rotq::gptq_options options;
    options.search_clip = search;
    row_major_f gptq = w;
    rotq::gptq_fake_quantize(gptq, h, spec, options);
    row_major_f rtn = w;
    rotq::fake_quantize_rows(rtn, spec, rotq::search_clip_ratios(w, spec, search));
    CHECK(bitwise_equal(gptq, rtn));
    row_major_f unclipped = w;
    rotq::fake_quantize_rows(unclipped, spec);
    CHECK(!bitwise_equal(gptq, unclipped));  // the search did change something
  }
}

TEST_CASE("GPTQ matches the textbook algorithm for every order, grouping and block size",
          "[gptq]") {
  const Eigen::Index n = 96;
  row_major_f x = correlated_inputs(400, n, 5);
  x.col(17).setZero();  // a dead input: H_jj = 0
  const Eigen::MatrixXd h = hessian_of(x);
  row_major_f w = gaussian(10, n, 6).cast<float>();
  w(3, 17) = 5.0f;  // the dead column holds row 3's largest weight: its per-row scale keeps it

  struct variant {
    rotq::quant_spec spec;
    bool act_order;
    bool static_groups;
  };
  const variant variants[] = {
      {{4, true, 0, 1.0}, false, false},  {{3, false, 0, 1.0}, false, false},
      {{4, true, 24, 1.0}, false, false}, {{4, true, 32, 0.9}, false, false},
      {{3, false, 48, 1.0}, false, true}, {{4, true, 0, 1.0}, true, false},
      {{4, false, 16, 1.0}, true, true},
  };
  for (const variant& v : variants) {
    for (double damping : {0.01, 0.1}) {
      const rotq::int_codes expected =
          textbook_gptq(w, h, v.spec, v.act_order, v.static_groups, damping);
      for (std::size_t block : {1u, 7u, 32u, 128u}) {
        rotq::gptq_options options;
        options.damping = damping;
        options.block_size = block;
        options.act_order = v.act_order;
        options.static_groups = v.static_groups;
        INFO("bits " << v.spec.bits << " symmetric " << v.spec.symmetric << " group "
                     << v.spec.group_size << " act order " << v.act_order << " static "
                     << v.static_groups << " damping " << damping << " block " << block);
        const rotq::int_codes q = rotq::gptq_quantize(w, h, v.spec, options);
        CHECK(q.codes == expected.codes);
        CHECK(q.scales == expected.scales);
        CHECK(q.zeros == expected.zeros);
      }
    }
  }
}

TEST_CASE("GPTQ zeroes dead columns and keeps per-row scales from the weights as given", "[gptq]") {
  row_major_f x = correlated_inputs(200, 32, 7);
  x.col(4).setZero();
  x.col(30).setZero();
  row_major_f w = gaussian(6, 32, 8).cast<float>();
  w(0, 4) = 10.0f;
  const rotq::quant_spec spec{4, true, 0, 1.0};
  const rotq::int_codes q = rotq::gptq_quantize(w, hessian_of(x), spec);
  const row_major_f y = dequantized(q);
  CHECK(y.col(4).isZero(0));
  CHECK(y.col(30).isZero(0));
  CHECK(q.scales[0] == 10.0f / 7.0f);  // as the reference: scales before the dead columns go
  CHECK(q.scales == rotq::quantize_rows(w, spec).scales);
}

TEST_CASE("act order is permutation-equivariant: permuted inputs give permuted codes", "[gptq]") {
  const Eigen::Index n = 48;
  const row_major_f x = correlated_inputs(300, n, 9);
  const Eigen::MatrixXd h = hessian_of(x);
  const row_major_f w = gaussian(8, n, 10).cast<float>();
  std::vector<Eigen::Index> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), Eigen::Index{0});
  std::shuffle(perm.begin(), perm.end(), std::mt19937(11));
  row_major_f w_permuted(w.rows(), n);
  Eigen::MatrixXd h_permuted(n, n);
  for (Eigen::Index k = 0; k < n; ++k) {
    w_permuted.col(k) = w.col(perm[std::size_t(k)]);
    for (Eigen::Index l = 0; l < n; ++l)
      h_permuted(l, k) = h(perm[std::size_t(l)], perm[std::size_t(k)]);
  }
  rotq::gptq_options options;
  options.act_order = true;
  const rotq::quant_spec spec{3, true, 0, 1.0};
  const row_major_f y = dequantized(rotq::gptq_quantize(w, h, spec, options));
  const row_major_f y_permuted =
      dequantized(rotq::gptq_quantize(w_permuted, h_permuted, spec, options));
  for (Eigen::Index k = 0; k < n; ++k) CHECK(y_permuted.col(k) == y.col(perm[std::size_t(k)]));
}

TEST_CASE("GPTQ's codes decode on the round-to-nearest grid of their scales", "[gptq]") {
  const row_major_f x = correlated_inputs(200, 64, 12);
  const row_major_f w = gaussian(5, 64, 13).cast<float>();
  const rotq::quant_spec spec{4, false, 16, 1.0};
  const rotq::int_codes q = rotq::gptq_quantize(w, hessian_of(x), spec);
  for (std::int32_t code : q.codes) {
    CHECK(code >= 0);
    CHECK(code <= 15);
  }
  row_major_f fake = w;
  rotq::gptq_fake_quantize(fake, hessian_of(x), spec);
  CHECK(bitwise_equal(fake, dequantized(q)));
  // Packs as int4 like any other codes.
  const std::vector<std::uint8_t> packed = rotq::pack_int4(q.code_view(), false);
  CHECK(rotq::unpack_int4(rotq::matrix_view<const std::uint8_t>(packed.data(), 5, 32), false) ==
        q.codes);
}

// ---- what GPTQ is for --------------------------------------------------------------------------

TEST_CASE("GPTQ's layer-output error is below round-to-nearest's on held-out inputs", "[gptq]") {
  const Eigen::Index n = 128;
  const row_major_f w = gaussian(64, n, 16).cast<float>();
  struct variant {
    rotq::quant_spec spec;
    bool act_order;
  };
  const variant variants[] = {{{4, true, 0, 1.0}, false},
                              {{3, true, 32, 1.0}, false},
                              {{4, false, 0, 1.0}, true},
                              {{2, true, 0, 1.0}, false}};
  // GPTQ gains what the inputs' correlations let it gain: something on mildly correlated inputs,
  // most of the error on inputs of low effective rank. Errors are measured on tokens that were
  // not in the Hessian.
  for (bool low_rank : {false, true}) {
    const row_major_f tokens =
        low_rank ? low_rank_inputs(2048, n, 14) : correlated_inputs(2048, n, 14);
    const row_major_f calibration = tokens.topRows(1024);
    const row_major_f held_out = tokens.bottomRows(1024);
    const Eigen::MatrixXd h = hessian_of(calibration);
    for (const variant& v : variants) {
      rotq::gptq_options options;
      options.act_order = v.act_order;
      row_major_f gptq = w;
      rotq::gptq_fake_quantize(gptq, h, v.spec, options);
      row_major_f rtn = w;
      rotq::fake_quantize_rows(rtn, v.spec);
      const double gptq_error = output_error(held_out, w, gptq);
      const double rtn_error = output_error(held_out, w, rtn);
      INFO("low rank " << low_rank << ", bits " << v.spec.bits << " group " << v.spec.group_size
                       << " act order " << v.act_order << ": GPTQ " << gptq_error << ", RTN "
                       << rtn_error);
      CHECK(gptq_error < (low_rank ? 0.5 : 1.0) * rtn_error);
    }
  }
}

TEST_CASE(
    "on the real stories260K model GPTQ beats round-to-nearest layer by layer and in "
    "perplexity",
    "[gptq][model]") {
  using namespace rotq::model;
  const llama2_model& model = rotq_test::stories260k();
  const std::vector<std::vector<int>> sequences =
      encode_stories(rotq_test::tok512(), rotq_test::tinystories(), 256);
  REQUIRE(sequences.size() >= 32);
  const std::vector<std::vector<int>> calibration(sequences.begin(), sequences.begin() + 16);
  const std::vector<std::vector<int>> held_out(sequences.begin() + 16, sequences.begin() + 32);

  // Every linear's input rows on a set of stories, from the unquantised model.
  using inputs = std::map<std::pair<std::size_t, hook_point>, weight_matrix>;
  auto record = [&](const std::vector<std::vector<int>>& stories) {
    inputs recorded;
    for (const std::vector<int>& tokens : stories) {
      forward(model, tokens,
              [&](std::size_t layer, hook_point point, rotq::matrix_view<float> rows) {
                weight_matrix& all = recorded[{layer, point}];
                const Eigen::Index before = all.rows();
                all.conservativeResize(before + Eigen::Index(rows.rows), Eigen::Index(rows.cols));
                for (std::size_t r = 0; r < rows.rows; ++r)
                  for (std::size_t c = 0; c < rows.cols; ++c)
                    all(before + Eigen::Index(r), Eigen::Index(c)) = rows(r, c);
              });
    }
    return recorded;
  };
  const inputs calibration_inputs = record(calibration);
  const inputs held_out_inputs = record(held_out);

  struct linear {
    weight_matrix llama2_layer::*weights;
    hook_point input;
    const char* name;
  };
  const linear linears[] = {
      {&llama2_layer::wq, hook_point::attention_input, "wq"},
      {&llama2_layer::wk, hook_point::attention_input, "wk"},
      {&llama2_layer::wv, hook_point::attention_input, "wv"},
      {&llama2_layer::wo, hook_point::attention_output, "wo"},
      {&llama2_layer::w_gate, hook_point::ffn_input, "w_gate"},
      {&llama2_layer::w_up, hook_point::ffn_input, "w_up"},
      {&llama2_layer::w_down, hook_point::down_input, "w_down"},
  };
  const rotq::quant_spec spec{4, true, 0, 1.0};  // W4, one scale per output channel
  llama2_model gptq_model = model;
  llama2_model rtn_model = model;
  for (std::size_t layer = 0; layer < model.layers.size(); ++layer) {
    for (const linear& l : linears) {
      const weight_matrix& w = model.layers[layer].*(l.weights);
      rotq::hessian_accumulator accumulator(std::size_t(w.cols()));
      accumulator.add(calibration_inputs.at({layer, l.input}));
      weight_matrix& gptq = gptq_model.layers[layer].*(l.weights);
      rotq::gptq_fake_quantize(gptq, accumulator.hessian(), spec);
      weight_matrix& rtn = rtn_model.layers[layer].*(l.weights);
      rotq::fake_quantize_rows(rtn, spec);
      const weight_matrix& x = held_out_inputs.at({layer, l.input});
      const double gptq_error = output_error(x, w, gptq);
      const double rtn_error = output_error(x, w, rtn);
      INFO("layer " << layer << " " << l.name << ": GPTQ " << gptq_error << ", RTN " << rtn_error);
      CHECK(gptq_error < rtn_error);
    }
  }
  // The layer errors above feed every linear the unquantised model's inputs; the perplexity of
  // the whole quantised model on the held-out stories is the end-to-end check.
  const double full = evaluate_perplexity(model, held_out).perplexity;
  const double with_gptq = evaluate_perplexity(gptq_model, held_out).perplexity;
  const double with_rtn = evaluate_perplexity(rtn_model, held_out).perplexity;
  INFO("perplexity: fp32 " << full << ", GPTQ W4 " << with_gptq << ", RTN W4 " << with_rtn);
  CHECK(full < with_gptq);
  CHECK(with_gptq < with_rtn);
}

// ---- errors ------------------------------------------------------------------------------------

TEST_CASE("GPTQ rejects bad shapes, options and Hessians", "[gptq][errors]") {
  const row_major_f w = gaussian(4, 8, 17).cast<float>();
  const Eigen::MatrixXd h = Eigen::MatrixXd::Identity(8, 8);
  const rotq::quant_spec spec{4, true, 0, 1.0};
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, Eigen::MatrixXd::Identity(7, 7), spec),
                    Catch::Contains("h is 7 x 7, expected n x n with n = w.cols = 8"));
  CHECK_THROWS_WITH(
      rotq::gptq_quantize(w, h, {4, true, 3, 1.0}),
      Catch::Contains("spec.group_size = 3 does not divide the row length w.cols = 8"));
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, h, {12, true, 0, 1.0}),
                    Catch::Contains("spec.bits = 12, expected 2 to 8"));
  rotq::gptq_options act;
  act.act_order = true;
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, h, {4, true, 4, 1.0}, act),
                    Catch::Contains("options.act_order with spec.group_size = 4 needs "
                                    "options.static_groups = true"));
  rotq::gptq_options no_blocks;
  no_blocks.block_size = 0;
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, h, spec, no_blocks),
                    Catch::Contains("options.block_size = 0"));
  rotq::gptq_options negative;
  negative.damping = -0.1;
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, h, spec, negative),
                    Catch::Contains("options.damping = -0.1, expected a finite ratio >= 0"));
  // An indefinite H stays indefinite without damping.
  Eigen::MatrixXd indefinite = Eigen::MatrixXd::Identity(8, 8);
  indefinite(0, 1) = indefinite(1, 0) = 2.0;
  rotq::gptq_options undamped;
  undamped.damping = 0.0;
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, indefinite, spec, undamped),
                    Catch::Contains("h + damping * I is not positive definite"));
  Eigen::MatrixXd asymmetric = h;
  asymmetric(2, 5) = 0.5;
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, asymmetric, spec),
                    Catch::Contains("h is not symmetric: max |h - h^T| = 0.5, expected at most "
                                    "1e-6 of max |h|"));
  // Rounding-level asymmetry, as a float X^T X has, is accepted and averaged away.
  Eigen::MatrixXd nearly = h;
  nearly(2, 5) = 1e-9;
  CHECK(rotq::gptq_quantize(w, nearly, spec).codes == rotq::quantize_rows(w, spec).codes);
  Eigen::MatrixXd nan = h;
  nan(3, 6) = std::nan("");
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, nan, spec),
                    Catch::Contains("h(3, 6) = nan, expected a finite Hessian"));
  // A damping whose product with mean(diag h) overflows would leave pivots of 0 and garbage codes.
  rotq::gptq_options huge;
  huge.damping = 1e300;
  CHECK_THROWS_WITH(rotq::gptq_quantize(w, h * 1e10, spec, huge),
                    Catch::Contains("options.damping * mean(diag h) = 1e+300 * 1e+10 overflows"));
  row_major_f bad_w = w;
  bad_w(1, 6) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(rotq::gptq_quantize(bad_w, h, spec),
                    Catch::Contains("w(1, 6) = inf (row 1, element 6)"));
  bad_w(1, 6) = -1e38f;  // beyond float's largest / 4, where the grid's values would overflow
  CHECK_THROWS_WITH(rotq::gptq_quantize(bad_w, h, spec),
                    Catch::Contains("w(1, 6) = -1e+38 (row 1, element 6), expected a magnitude"));
}

TEST_CASE("GPTQ of weights without columns gives empty codes", "[gptq]") {
  const row_major_f w(3, 0);
  const rotq::int_codes q = rotq::gptq_quantize(w, Eigen::MatrixXd(0, 0), {4, true, 0, 1.0});
  CHECK(q.rows == 3);
  CHECK(q.cols == 0);
  CHECK(q.codes.empty());
  CHECK(q.scales.empty());
}
