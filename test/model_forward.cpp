// Tests for <rotq/model/forward.hpp>: the whole-sequence fp32 pass against a token-by-token
// llama2.c-style implementation in double with a KV cache, and the hook points' places, order,
// shapes and effect.

#include <rotq/hadamard.hpp>
#include <rotq/model/forward.hpp>
#include <rotq/model/stories.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "support/shared_model.hpp"

namespace {

using rotq::model::hook_point;
using rotq::model::llama2_model;
using rotq::model::weight_matrix;

using rotq_test::stories260k;

/// Stories 0 and 1 of the evaluation text as BOS + tokens; story 1 is cut at 512 tokens.
const std::vector<std::vector<int>>& story_tokens() {
  static const std::vector<std::vector<int>> sequences = rotq::model::encode_stories(
      rotq_test::tok512(), {rotq_test::tinystories()[0], rotq_test::tinystories()[1]});
  return sequences;
}

using row_hook =
    std::function<void(std::size_t layer, hook_point point, Eigen::Ref<Eigen::VectorXd>)>;

/// llama2.c's forward(), one position at a time with a KV cache, in double; `hook` sees each
/// position's vector at the same places forward() hands T rows to its hook.
Eigen::MatrixXd reference_logits(const llama2_model& m, const std::vector<int>& tokens,
                                 const row_hook& hook = {}) {
  const auto& c = m.config;
  const auto dim = Eigen::Index(c.dim), hs = Eigen::Index(c.head_size());
  const auto kv_dim = Eigen::Index(c.kv_dim());
  const auto kv_mul = Eigen::Index(c.n_heads / c.n_kv_heads);
  const auto length = Eigen::Index(tokens.size());
  const auto call = [&](std::size_t l, hook_point p, Eigen::VectorXd& v) {
    if (hook) hook(l, p, v);
  };
  const auto rmsnorm = [](const Eigen::VectorXd& x, const Eigen::VectorXf& gain) {
    const double ss = x.squaredNorm() / double(x.size()) + 1e-5;
    return Eigen::VectorXd(gain.cast<double>().cwiseProduct(x / std::sqrt(ss)));
  };
  std::vector<Eigen::MatrixXd> key_cache(c.n_layers, Eigen::MatrixXd(length, kv_dim));
  std::vector<Eigen::MatrixXd> value_cache(c.n_layers, Eigen::MatrixXd(length, kv_dim));
  Eigen::MatrixXd logits(length, Eigen::Index(c.vocab_size));
  for (Eigen::Index pos = 0; pos < length; ++pos) {
    Eigen::VectorXd x = m.token_embedding.row(tokens[std::size_t(pos)]).cast<double>().transpose();
    for (std::size_t l = 0; l < c.n_layers; ++l) {
      const auto& w = m.layers[l];
      Eigen::VectorXd xb = rmsnorm(x, w.attention_norm);
      call(l, hook_point::attention_input, xb);
      Eigen::VectorXd q = w.wq.cast<double>() * xb;
      Eigen::VectorXd k = w.wk.cast<double>() * xb;
      Eigen::VectorXd v = w.wv.cast<double>() * xb;
      for (Eigen::Index i = 0; i < dim; i += 2) {
        const double freq = 1.0 / std::pow(10000.0, double(i % hs) / double(hs));
        const double fcr = std::cos(double(pos) * freq), fci = std::sin(double(pos) * freq);
        for (Eigen::VectorXd* vec : {&q, &k}) {
          if (i >= vec->size()) continue;
          const double v0 = (*vec)(i), v1 = (*vec)(i + 1);
          (*vec)(i) = v0 * fcr - v1 * fci;
          (*vec)(i + 1) = v0 * fci + v1 * fcr;
        }
      }
      call(l, hook_point::query, q);
      call(l, hook_point::key, k);
      call(l, hook_point::value, v);
      key_cache[l].row(pos) = k.transpose();
      value_cache[l].row(pos) = v.transpose();
      Eigen::VectorXd attended = Eigen::VectorXd::Zero(dim);
      for (Eigen::Index h = 0; h < Eigen::Index(c.n_heads); ++h) {
        const Eigen::Index kv_offset = (h / kv_mul) * hs;
        Eigen::VectorXd att(pos + 1);
        for (Eigen::Index t = 0; t <= pos; ++t)
          att(t) = q.segment(h * hs, hs).dot(key_cache[l].row(t).segment(kv_offset, hs)) /
                   std::sqrt(double(hs));
        att = (att.array() - att.maxCoeff()).exp();
        att /= att.sum();
        for (Eigen::Index t = 0; t <= pos; ++t)
          attended.segment(h * hs, hs) +=
              att(t) * value_cache[l].row(t).segment(kv_offset, hs).transpose();
      }
      call(l, hook_point::attention_output, attended);
      x += w.wo.cast<double>() * attended;
      xb = rmsnorm(x, w.ffn_norm);
      call(l, hook_point::ffn_input, xb);
      const Eigen::ArrayXd gate = (w.w_gate.cast<double>() * xb).array();
      Eigen::VectorXd hb = (gate / (1.0 + (-gate).exp())) * (w.w_up.cast<double>() * xb).array();
      call(l, hook_point::down_input, hb);
      x += w.w_down.cast<double>() * hb;
    }
    logits.row(pos) = (m.classifier.cast<double>() * rmsnorm(x, m.final_norm)).transpose();
  }
  return logits;
}

// fp32 against double over up to 512 positions, on logits of magnitude up to about 24: the
// differences seen are below 6e-5.
constexpr double logits_tolerance = 2e-4;

double max_abs_difference(const weight_matrix& a, const Eigen::MatrixXd& b) {
  return (a.cast<double>() - b).cwiseAbs().maxCoeff();
}

/// A row-wise edit that moves each hook point's rows differently, so that a hook fired at the
/// wrong place gives different logits: one channel scaled, another shifted.
void perturb_row(std::size_t layer, hook_point point, double* row, std::size_t cols) {
  const auto p = static_cast<std::size_t>(point);
  row[(3 * p + 5 * layer) % cols] *= 1.5;
  row[(7 * p + layer + 1) % cols] += 0.25;
}

}  // namespace

TEST_CASE("forward matches a token-by-token llama2.c pass in double", "[model][forward]") {
  const llama2_model& m = stories260k();
  for (const std::vector<int>& tokens : story_tokens()) {
    CAPTURE(tokens.size());
    const weight_matrix logits = rotq::model::forward(m, tokens);
    REQUIRE(std::size_t(logits.rows()) == tokens.size());
    REQUIRE(logits.cols() == 512);
    const Eigen::MatrixXd reference = reference_logits(m, tokens);
    CHECK(max_abs_difference(logits, reference) < logits_tolerance);
  }
  CHECK(story_tokens()[1].size() == 512);  // the full context length is covered
}

TEST_CASE("forward uses a classifier that differs from the embedding", "[model][forward]") {
  llama2_model m = stories260k();
  m.classifier = m.token_embedding.colwise().reverse() * 0.5f;  // untied, as after a rewrite
  const std::vector<int> tokens(story_tokens()[0].begin(), story_tokens()[0].begin() + 40);
  const weight_matrix logits = rotq::model::forward(m, tokens);
  const Eigen::MatrixXd reference = reference_logits(m, tokens);
  CHECK(max_abs_difference(logits, reference) < logits_tolerance);
  CHECK(max_abs_difference(rotq::model::forward(stories260k(), tokens), reference) > 0.1);
}

TEST_CASE("hooks fire at every point of every layer, in order, with T-row shapes",
          "[model][forward][hooks]") {
  const llama2_model& m = stories260k();
  const std::vector<int> tokens(story_tokens()[0].begin(), story_tokens()[0].begin() + 23);
  std::vector<std::tuple<std::size_t, hook_point, std::size_t, std::size_t>> calls;
  const weight_matrix logits =
      rotq::model::forward(m, tokens, [&](std::size_t l, hook_point p, rotq::matrix_view<float> r) {
        CHECK(r.contiguous());
        calls.emplace_back(l, p, r.rows, r.cols);
      });
  const hook_point order[] = {
      hook_point::attention_input,  hook_point::query,     hook_point::key,       hook_point::value,
      hook_point::attention_output, hook_point::ffn_input, hook_point::down_input};
  const std::size_t cols[] = {64, 64, 32, 32, 64, 64, 172};
  REQUIRE(calls.size() == 5 * rotq::model::hook_point_count);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CAPTURE(i);
    CHECK(std::get<0>(calls[i]) == i / 7);
    CHECK(std::get<1>(calls[i]) == order[i % 7]);
    CHECK(std::get<2>(calls[i]) == 23);
    CHECK(std::get<3>(calls[i]) == cols[i % 7]);
  }
  // A hook that only reads changes nothing, bit for bit.
  CHECK(logits == rotq::model::forward(m, tokens));
  CHECK(std::string(rotq::model::to_string(hook_point::down_input)) == "down_input");
}

TEST_CASE("what a hook writes is what the rest of the pass uses, at the documented places",
          "[model][forward][hooks]") {
  const llama2_model& m = stories260k();
  const std::vector<int> tokens(story_tokens()[0].begin(), story_tokens()[0].begin() + 60);
  const weight_matrix logits =
      rotq::model::forward(m, tokens, [](std::size_t l, hook_point p, rotq::matrix_view<float> r) {
        std::vector<double> row(r.cols);
        for (std::size_t t = 0; t < r.rows; ++t) {
          for (std::size_t j = 0; j < r.cols; ++j) row[j] = r(t, j);
          perturb_row(l, p, row.data(), r.cols);
          for (std::size_t j = 0; j < r.cols; ++j) r(t, j) = static_cast<float>(row[j]);
        }
      });
  const Eigen::MatrixXd reference =
      reference_logits(m, tokens, [](std::size_t l, hook_point p, Eigen::Ref<Eigen::VectorXd> v) {
        perturb_row(l, p, v.data(), std::size_t(v.size()));
      });
  CHECK(max_abs_difference(logits, reference) < logits_tolerance);
  // The edits matter: without them the logits are far from the edited reference.
  CHECK(max_abs_difference(rotq::model::forward(m, tokens), reference) > 0.1);
}

TEST_CASE("a Hadamard on every head of the queries and keys leaves the logits unchanged",
          "[model][forward][hooks]") {
  // q·k is invariant under one orthogonal map applied to both, the reason QuaRot may rotate
  // queries and keys after RoPE; per-head work reshapes T x dim into (T n_heads) x head_size.
  const llama2_model& m = stories260k();
  const std::vector<int>& tokens = story_tokens()[0];
  const weight_matrix rotated =
      rotq::model::forward(m, tokens, [](std::size_t, hook_point p, rotq::matrix_view<float> r) {
        if (p != hook_point::query && p != hook_point::key) return;
        rotq::fwht_rows(rotq::matrix_view<float>(r.data, r.rows * r.cols / 8, 8));
      });
  const weight_matrix plain = rotq::model::forward(m, tokens);
  CHECK((rotated - plain).cwiseAbs().maxCoeff() < logits_tolerance);
  CHECK(rotated != plain);  // the rows were really rewritten
}

TEST_CASE("forward refuses bad sequences and inconsistent models", "[model][forward][errors]") {
  const llama2_model& m = stories260k();
  CHECK_THROWS_WITH(rotq::model::forward(m, {}),
                    Catch::Contains("tokens has 0 entries, expected 1..512"));
  CHECK_THROWS_WITH(rotq::model::forward(m, std::vector<int>(513, 1)),
                    Catch::Contains("tokens has 513 entries"));
  CHECK_THROWS_WITH(rotq::model::forward(m, {1, 512}),
                    Catch::Contains("tokens[1] = 512 is outside the vocabulary of 512 tokens"));
  CHECK_THROWS_WITH(rotq::model::forward(m, {-1}), Catch::Contains("tokens[0] = -1"));
  llama2_model broken = m;
  broken.layers[1].wk.resize(32, 63);
  CHECK_THROWS_WITH(rotq::model::forward(broken, {1, 2}),
                    Catch::Contains("wk of layer 1 is 32 x 63, expected 32 x 64"));
}
