// Tests for <rotq/model/generate.hpp>: greedy generation reproduces the sample published with
// stories260K, word for word.

#include <rotq/model/generate.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/shared_model.hpp"

namespace {

using rotq::model::tokenizer;

using rotq_test::prompt;
using rotq_test::stories260k;
using rotq_test::tok512;

}  // namespace

TEST_CASE("greedy generation from 'Once upon a time' gives the published continuation",
          "[model][generate]") {
  // From models/README.md: llama2.c's reference program with temperature 0.
  const std::string published =
      ", there was a little girl named Lily. She loved to play outside in the park. One day, she "
      "saw a big, red ball. She wanted to play with it, but it was too high.";
  const std::vector<int> generated =
      rotq::model::generate_greedy(stories260k(), prompt("Once upon a time"), 80);
  const std::string text = tok512().decode(generated);
  CAPTURE(text);
  CHECK(text.substr(0, published.size()) == published);
}

TEST_CASE("generation stops at max_new_tokens and at seq_len", "[model][generate]") {
  const std::vector<int> start = prompt("Once upon a time");
  const std::vector<int> five = rotq::model::generate_greedy(stories260k(), start, 5);
  CHECK(five.size() == 5);
  const std::vector<int> longer = rotq::model::generate_greedy(stories260k(), start, 8);
  CHECK(std::equal(five.begin(), five.end(), longer.begin()));  // greedy is deterministic
  CHECK(rotq::model::generate_greedy(stories260k(), start, 0).empty());

  rotq::model::llama2_model short_context = stories260k();
  short_context.config.seq_len = start.size() + 3;
  CHECK(rotq::model::generate_greedy(short_context, start, 50).size() == 3);
}

TEST_CASE("generation stops when the model predicts BOS", "[model][generate]") {
  // With the blocks' outputs zeroed, the residual is the embedding, here all ones for every
  // token; so the final RMSNorm gives all ones too, and a classifier that reads it only in
  // the BOS row scores BOS 64 and every other token 0.
  rotq::model::llama2_model eager = stories260k();
  eager.token_embedding.setOnes();
  for (auto& layer : eager.layers) {
    layer.wo.setZero();
    layer.w_down.setZero();
  }
  eager.final_norm.setOnes();
  eager.classifier.setZero();
  eager.classifier.row(tokenizer::bos_id).setOnes();
  const std::vector<int> start = prompt("Once upon a time");
  CHECK(rotq::model::generate_greedy(eager, start, 20).empty());
  // With all scores equal, the first id wins, as llama2.c's argmax picks it.
  eager.classifier.setZero();
  CHECK(rotq::model::generate_greedy(eager, start, 3) == std::vector<int>{0, 0, 0});
}

TEST_CASE("generation refuses an empty, too long or out-of-vocabulary prompt",
          "[model][generate][errors]") {
  CHECK_THROWS_WITH(rotq::model::generate_greedy(stories260k(), {}, 5),
                    Catch::Contains("prompt is empty"));
  // Also where no token would be generated: a prompt that fills the context, or no new tokens.
  std::vector<int> long_prompt(513, 1);
  CHECK_THROWS_WITH(rotq::model::generate_greedy(stories260k(), long_prompt, 5),
                    Catch::Contains("prompt has 513 entries, expected 1..512 (seq_len)"));
  std::vector<int> bad_token = prompt("Once upon a time");
  bad_token[2] = 99999;
  CHECK_THROWS_WITH(rotq::model::generate_greedy(stories260k(), bad_token, 0),
                    Catch::Contains("prompt[2] = 99999 is outside the vocabulary of 512 tokens"));
  long_prompt.resize(512);
  long_prompt[511] = -1;
  CHECK_THROWS_WITH(rotq::model::generate_greedy(stories260k(), long_prompt, 5),
                    Catch::Contains("prompt[511] = -1 is outside the vocabulary"));
}
