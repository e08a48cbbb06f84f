// Tests for <rotq/model/surgery.hpp>: every rewrite leaves the real model's logits unchanged
// (up to float rounding), and misuse is rejected.

#include <rotq/model/surgery.hpp>
#include <rotq/model/tokenizer.hpp>

#include <catch2/catch.hpp>

#include "support/shared_model.hpp"

namespace {

using rotq::model::hook_point;

const rotq::model::llama2_model& original() { return rotq_test::stories260k(); }

std::vector<int> prompt() {
  return rotq_test::prompt(
      "One day, a little dog named Max found a shiny red ball in the garden. "
      "He wanted to show it to his friend.");
}

// Max |a - b| relative to max |a|.
double relative_difference(const rotq::model::weight_matrix& a,
                           const rotq::model::weight_matrix& b) {
  return double((a - b).cwiseAbs().maxCoeff() / a.cwiseAbs().maxCoeff());
}

Eigen::VectorXd positive_scales(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(0.2, 5.0);
  Eigen::VectorXd s(static_cast<Eigen::Index>(n));
  for (auto& v : s) v = dist(gen);
  return s;
}

}  // namespace

TEST_CASE("fusing the norm gains keeps the logits", "[surgery]") {
  auto model = original();
  const auto reference = rotq::model::forward(model, prompt());
  CHECK_FALSE(rotq::model::norm_gains_fused(model));
  rotq::model::fuse_norm_gains(model);
  CHECK(rotq::model::norm_gains_fused(model));
  CHECK(relative_difference(reference, rotq::model::forward(model, prompt())) < 1e-5);
  // The classifier changed, the embedding did not: they are separate matrices.
  CHECK(model.token_embedding == original().token_embedding);
  CHECK(model.classifier != original().classifier);
}

TEST_CASE("the residual rotation keeps the logits and needs fused gains", "[surgery]") {
  auto model = original();
  const auto reference = rotq::model::forward(model, prompt());
  rotq::pipeline q;
  q.then(rotq::random_hadamard(model.config.dim, 7));
  CHECK_THROWS_WITH(rotq::model::rotate_residual(model, q), Catch::Contains("not fused"));
  rotq::model::fuse_norm_gains(model);
  rotq::model::rotate_residual(model, q);
  CHECK(relative_difference(reference, rotq::model::forward(model, prompt())) < 1e-5);
  // The residual stream really is rotated: the embedding of a token is e Q.
  Eigen::RowVectorXd e = original().token_embedding.row(5).cast<double>();
  CHECK((model.token_embedding.row(5).cast<double>() - e * q.matrix()).cwiseAbs().maxCoeff() <
        1e-6);

  rotq::pipeline dense;
  dense.then(rotq::dense_rotation(rotq::random_orthogonal(model.config.dim, 3)));
  rotq::model::rotate_residual(model, dense);
  CHECK(relative_difference(reference, rotq::model::forward(model, prompt())) < 1e-5);

  rotq::pipeline scaling;
  scaling.then(rotq::channel_scaling(positive_scales(model.config.dim, 1)));
  CHECK_THROWS_WITH(rotq::model::rotate_residual(model, scaling),
                    Catch::Contains("must be orthogonal"));
  rotq::pipeline wrong;
  wrong.then(rotq::hadamard_transform(32));
  CHECK_THROWS_WITH(rotq::model::rotate_residual(model, wrong),
                    Catch::Contains("q has size 32, expected"));
}

TEST_CASE("smoothing fused into norms and the up projection keeps the logits", "[surgery]") {
  auto model = original();
  const auto reference = rotq::model::forward(model, prompt());
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    rotq::model::fuse_smoothing(model, l, hook_point::attention_input,
                                positive_scales(model.config.dim, unsigned(l)));
    rotq::model::fuse_smoothing(model, l, hook_point::ffn_input,
                                positive_scales(model.config.dim, unsigned(l + 10)));
    rotq::model::fuse_smoothing(model, l, hook_point::down_input,
                                positive_scales(model.config.hidden_dim, unsigned(l + 20)));
  }
  CHECK(relative_difference(reference, rotq::model::forward(model, prompt())) < 1e-5);
  // The down input is divided by s: what the hook sees is the original rows over s.
  const Eigen::VectorXd s = positive_scales(model.config.hidden_dim, 20);
  rotq::model::weight_matrix seen_before, seen_after;
  auto capture = [](rotq::model::weight_matrix& into) {
    return [&into](std::size_t layer, hook_point point, rotq::matrix_view<float> rows) {
      if (layer == 0 && point == hook_point::down_input)
        into = Eigen::Map<rotq::model::weight_matrix>(rows.data, Eigen::Index(rows.rows),
                                                      Eigen::Index(rows.cols));
    };
  };
  rotq::model::forward(original(), prompt(), capture(seen_before));
  rotq::model::forward(model, prompt(), capture(seen_after));
  const rotq::model::weight_matrix expected =
      seen_before * s.cast<float>().cwiseInverse().asDiagonal();
  CHECK((seen_after - expected).cwiseAbs().maxCoeff() < 1e-5f * expected.cwiseAbs().maxCoeff());

  CHECK_THROWS_WITH(
      rotq::model::fuse_smoothing(model, 0, hook_point::attention_output, positive_scales(64, 1)),
      Catch::Contains("no producer"));
  CHECK_THROWS_WITH(
      rotq::model::fuse_smoothing(model, 9, hook_point::ffn_input, positive_scales(64, 1)),
      Catch::Contains("layer = 9"));
  Eigen::VectorXd bad = positive_scales(64, 1);
  bad[3] = -1;
  CHECK_THROWS_WITH(rotq::model::fuse_smoothing(model, 0, hook_point::ffn_input, bad),
                    Catch::Contains("s[3] = -1"));
  // Positive and finite in double, but 0 or infinite in float, or with an infinite reciprocal.
  for (const double outside_float : {1e-50, 1e50, 1e-39}) {
    bad[3] = outside_float;
    CHECK_THROWS_WITH(rotq::model::fuse_smoothing(model, 0, hook_point::ffn_input, bad),
                      Catch::Contains("s[3] = ") &&
                          Catch::Contains("expected a positive scale that float holds"));
  }
}

TEST_CASE("an online transform with its weight half fused keeps the logits", "[surgery]") {
  auto model = original();
  const auto reference = rotq::model::forward(model, prompt());
  rotq::pipeline down, out;
  down.then(rotq::hadamard_transform(model.config.hidden_dim));
  out.then(rotq::channel_scaling(positive_scales(model.config.dim, 4)))
      .then(rotq::random_hadamard(model.config.dim, 2));
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    rotq::model::transform_linear_inputs(model, l, hook_point::down_input, down);
    rotq::model::transform_linear_inputs(model, l, hook_point::attention_output, out);
  }
  // Without the online half the function changes...
  CHECK(relative_difference(reference, rotq::model::forward(model, prompt())) > 1e-2);
  // ...with it, it does not.
  auto online = [&](std::size_t, hook_point point, rotq::matrix_view<float> rows) {
    if (point == hook_point::down_input) down.apply_activations(rows);
    if (point == hook_point::attention_output) out.apply_activations(rows);
  };
  CHECK(relative_difference(reference, rotq::model::forward(model, prompt(), online)) < 1e-5);
  CHECK_THROWS_WITH(rotq::model::transform_linear_inputs(model, 0, hook_point::ffn_input, down),
                    Catch::Contains("t has size 172, expected 64 for ffn_input"));
  CHECK_THROWS_WITH(rotq::model::transform_linear_inputs(model, 0, hook_point::key, down),
                    Catch::Contains("read by no linear"));
}
