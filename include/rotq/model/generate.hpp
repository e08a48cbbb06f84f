#pragma once
// Greedy (temperature 0) text generation with a llama2.c model, as llama2.c's `run -t 0` does.

#include <cstddef>
#include <vector>

#include "rotq/error.hpp"
#include "rotq/model/forward.hpp"
#include "rotq/model/tokenizer.hpp"

namespace rotq {
namespace model {

/// Continues `prompt` (token ids, usually BOS + encode(text)) by taking, at each step, the token
/// with the highest logit (the first one on a tie, as llama2.c's argmax), and returns only the new
/// tokens. Stops after `max_new_tokens`, when the sequence reaches seq_len, or after the model
/// produces BOS, which delimits stories in llama2.c's training data (the BOS is not returned).
/// Each step reruns the whole sequence through forward() with `hook`, so it costs O(T²) passes'
/// worth of work: meant for demos and tests, not serving. Throws rotq::error for an empty prompt
/// or one forward() refuses (longer than seq_len, or a token outside the vocabulary), even when
/// nothing is to be generated.
inline std::vector<int> generate_greedy(const llama2_model& model, const std::vector<int>& prompt,
                                        std::size_t max_new_tokens, const forward_hook& hook = {}) {
  ROTQ_EXPECTS(!prompt.empty(), "prompt is empty; start it with BOS (token 1)");
  detail::expect_sequence(model.config, prompt, "prompt", ROTQ_FUNCTION_SIGNATURE);
  std::vector<int> sequence = prompt;
  std::vector<int> generated;
  while (generated.size() < max_new_tokens && sequence.size() < model.config.seq_len) {
    const weight_matrix logits = forward(model, sequence, hook);
    const auto last = logits.row(logits.rows() - 1);
    Eigen::Index best = 0;
    for (Eigen::Index i = 1; i < last.size(); ++i)
      if (last(i) > last(best)) best = i;
    if (best == tokenizer::bos_id) break;
    generated.push_back(static_cast<int>(best));
    sequence.push_back(static_cast<int>(best));
  }
  return generated;
}

}  // namespace model
}  // namespace rotq
