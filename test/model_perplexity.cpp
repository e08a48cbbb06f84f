// Tests for <rotq/model/perplexity.hpp>: the NLL against hand-computed values and an independent
// log-softmax in double, the evaluation protocol's perplexity on stories 0-59, and a result that
// is bit-identical for any number of threads.

#include <rotq/model/perplexity.hpp>
#include <rotq/model/stories.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <vector>

#include "support/shared_model.hpp"

namespace {

using rotq::model::llama2_model;
using rotq::model::weight_matrix;

using rotq_test::stories260k;

/// Stories 0-59 of the evaluation text, as the protocol encodes them.
const std::vector<std::vector<int>>& evaluation_set() {
  static const std::vector<std::vector<int>> sequences = [] {
    std::vector<std::string> stories = rotq_test::tinystories();
    stories.resize(60);
    return rotq::model::encode_stories(rotq_test::tok512(), stories);
  }();
  return sequences;
}

}  // namespace

TEST_CASE("sequence_nll matches hand-computed values", "[model][perplexity]") {
  // Uniform logits over 4 tokens: every prediction costs log 4.
  const weight_matrix uniform = weight_matrix::Constant(3, 4, 2.5f);
  CHECK(rotq::model::sequence_nll(uniform, {1, 2, 3}) == Approx(2 * std::log(4.0)).epsilon(1e-12));
  // Row 0 = (0, ln 3): p(token 1) = 3 / 4. One row, one prediction.
  weight_matrix two(2, 2);
  two << 0.0f, float(std::log(3.0)), 9.0f, 9.0f;
  CHECK(rotq::model::sequence_nll(two, {0, 1}) == Approx(-std::log(0.75)).epsilon(1e-6));
  CHECK(rotq::model::sequence_nll(two, {0, 0}) == Approx(-std::log(0.25)).epsilon(1e-6));
  // A single token predicts nothing.
  CHECK(rotq::model::sequence_nll(weight_matrix::Zero(1, 4), {1}) == 0.0);
}

TEST_CASE("sequence_nll refuses mismatched shapes and unknown tokens",
          "[model][perplexity][errors]") {
  const weight_matrix logits = weight_matrix::Zero(3, 4);
  CHECK_THROWS_WITH(rotq::model::sequence_nll(logits, {1, 2}),
                    Catch::Contains("logits has 3 rows but tokens has 2 entries"));
  CHECK_THROWS_WITH(rotq::model::sequence_nll(logits, {1, 2, 4}),
                    Catch::Contains("tokens[2] = 4 is outside the vocabulary of 4 tokens"));
}

TEST_CASE("perplexity of stories 0-59 follows the protocol's definition", "[model][perplexity]") {
  const auto& sequences = evaluation_set();
  const rotq::model::perplexity_result result =
      rotq::model::evaluate_perplexity(stories260k(), sequences);
  // The definition, computed independently: log-softmax in double over every forward() row.
  double total = 0;
  std::size_t predicted = 0;
  for (const auto& tokens : sequences) {
    const Eigen::MatrixXd logits = rotq::model::forward(stories260k(), tokens).cast<double>();
    for (std::size_t t = 0; t + 1 < tokens.size(); ++t) {
      const auto row = logits.row(Eigen::Index(t));
      const double max = row.maxCoeff();
      total += max + std::log((row.array() - max).exp().sum()) - row(tokens[t + 1]);
    }
    predicted += tokens.size() - 1;
  }
  CHECK(result.predicted_tokens == predicted);
  CHECK(result.sequence_nll.size() == 60);
  CHECK(result.total_nll == Approx(total).epsilon(1e-9));
  CHECK(result.perplexity == Approx(std::exp(total / double(predicted))).epsilon(1e-9));
  CHECK(std::isfinite(result.perplexity));
  // A trained model on in-domain text: far better than guessing among 512 tokens.
  CHECK(result.perplexity > 1.0);
  CHECK(result.perplexity < 10.0);
}

TEST_CASE("perplexity is bit-identical for 1, 2 and 3 threads", "[model][perplexity]") {
  const auto& sequences = evaluation_set();
  const auto one = rotq::model::evaluate_perplexity(stories260k(), sequences, {}, 1);
  const auto two = rotq::model::evaluate_perplexity(stories260k(), sequences, {}, 2);
  const auto three = rotq::model::evaluate_perplexity(stories260k(), sequences, {}, 3);
  CHECK(one.perplexity == two.perplexity);
  CHECK(one.perplexity == three.perplexity);
  CHECK(one.sequence_nll == two.sequence_nll);
  CHECK(one.sequence_nll == three.sequence_nll);
}

TEST_CASE("a classifier of zeros gives the perplexity of uniform guessing", "[model][perplexity]") {
  llama2_model uniform = stories260k();
  uniform.classifier.setZero();
  const auto result = rotq::model::evaluate_perplexity(uniform, evaluation_set(), {}, 2);
  CHECK(result.perplexity == Approx(512.0).epsilon(1e-9));
}

TEST_CASE("the hook runs on every sequence, from several threads", "[model][perplexity]") {
  const std::vector<std::vector<int>> sequences(evaluation_set().begin(),
                                                evaluation_set().begin() + 6);
  std::atomic<std::size_t> down_inputs{0};
  const auto count = [&](std::size_t, rotq::model::hook_point p, rotq::matrix_view<float>) {
    if (p == rotq::model::hook_point::down_input) ++down_inputs;
  };
  const auto hooked = rotq::model::evaluate_perplexity(stories260k(), sequences, count, 2);
  CHECK(down_inputs == 6 * 5);
  CHECK(hooked.perplexity == rotq::model::evaluate_perplexity(stories260k(), sequences).perplexity);
}

TEST_CASE("evaluate_perplexity refuses bad arguments and passes on forward's errors",
          "[model][perplexity][errors]") {
  const llama2_model& m = stories260k();
  CHECK_THROWS_WITH(rotq::model::evaluate_perplexity(m, {{1, 2}}, {}, 0),
                    Catch::Contains("threads = 0"));
  CHECK_THROWS_WITH(rotq::model::evaluate_perplexity(m, {}),
                    Catch::Contains("no token to predict"));
  CHECK_THROWS_WITH(rotq::model::evaluate_perplexity(m, {{1}, {1}}),
                    Catch::Contains("no token to predict"));
  // The bad token sits in the third sequence; with 2 threads the error still surfaces.
  CHECK_THROWS_WITH(rotq::model::evaluate_perplexity(m, {{1, 2}, {1, 3}, {1, 700}, {1, 4}}, {}, 2),
                    Catch::Contains("tokens[1] = 700"));
}

TEST_CASE("evaluate_perplexity refuses logits that overflowed rather than return NaN",
          "[model][perplexity][errors]") {
  // Finite weights (the loader accepts them) whose logits are not: a final gain of 3e38.
  llama2_model m = stories260k();
  m.final_norm.setConstant(3e38f);
  CHECK_THROWS_WITH(
      rotq::model::evaluate_perplexity(m, {{1, 2, 3}, {1, 4}}, {}, 2),
      Catch::Contains("sequence 0 has NLL") && Catch::Contains("expected finite logits"));
}
