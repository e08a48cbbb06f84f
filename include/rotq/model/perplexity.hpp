#pragma once
// Perplexity of a llama2.c model over token sequences, the evaluation protocol's figure of merit,
// with the sequences spread over threads and a result that does not depend on their number.

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

#include "rotq/error.hpp"
#include "rotq/model/forward.hpp"

namespace rotq {
namespace model {

/// The negative log-likelihood of tokens 1..T-1 of `tokens` under `logits` (T x vocab, as
/// forward() returns them: row t predicts token t+1), summed in double. Each row's
/// log-sum-exp takes exp in float (vectorised) and sums it in double; 0 for T = 1. Throws
/// rotq::error if the shapes disagree or a token is outside the vocabulary.
inline double sequence_nll(const weight_matrix& logits, const std::vector<int>& tokens) {
  ROTQ_EXPECTS(
      static_cast<std::size_t>(logits.rows()) == tokens.size(),
      "logits has " << logits.rows() << " rows but tokens has " << tokens.size() << " entries");
  double nll = 0;
  for (std::size_t t = 0; t + 1 < tokens.size(); ++t) {
    const int next = tokens[t + 1];
    ROTQ_EXPECTS(next >= 0 && next < logits.cols(), "tokens[" << t + 1 << "] = " << next
                                                              << " is outside the vocabulary of "
                                                              << logits.cols() << " tokens");
    const auto row = logits.row(static_cast<Eigen::Index>(t));
    const float max = row.maxCoeff();
    const double sum = (row.array() - max).exp().cast<double>().sum();
    nll += double(max) + std::log(sum) - double(row(next));
  }
  return nll;
}

/// What evaluate_perplexity measured.
struct perplexity_result {
  double perplexity = 0;             ///< exp(total_nll / predicted_tokens)
  double total_nll = 0;              ///< sum of sequence_nll, added in sequence order
  std::size_t predicted_tokens = 0;  ///< every token after the first of every sequence
  std::vector<double> sequence_nll;  ///< per sequence, in the order given
};

/// Perplexity over `sequences` taken together, as the evaluation protocol defines it:
/// exp(mean NLL of every token after the first, over all sequences). Each sequence (token ids,
/// usually BOS + encode(story), 1..seq_len long) goes through forward() with `hook`; `threads`
/// workers (std::thread, at most one per sequence; 1 runs on the calling thread) take sequences
/// in turn. Each sequence's NLL is summed in double and the sums are added in sequence order, so
/// the result is bit-identical for any thread count. With threads > 1 the hook is called from
/// several threads at once (see forward()). Throws rotq::error for threads = 0, no token to
/// predict (every sequence shorter than 2), logits that are not finite, or the first error (in
/// sequence order) forward() raised for a sequence.
inline perplexity_result evaluate_perplexity(const llama2_model& model,
                                             const std::vector<std::vector<int>>& sequences,
                                             const forward_hook& hook = {},
                                             std::size_t threads = 1) {
  ROTQ_EXPECTS(threads > 0, "threads = 0, expected at least 1");
  perplexity_result result;
  for (const std::vector<int>& tokens : sequences)
    result.predicted_tokens += tokens.empty() ? 0 : tokens.size() - 1;
  ROTQ_EXPECTS(result.predicted_tokens > 0,
               "the " << sequences.size()
                      << " sequences have no token to predict; each needs at least 2 tokens");

  result.sequence_nll.assign(sequences.size(), 0.0);
  std::vector<std::exception_ptr> failures(sequences.size());
  std::atomic<std::size_t> next_sequence{0};
  std::atomic<bool> failed{false};
  const auto work = [&] {
    for (std::size_t s = next_sequence++; s < sequences.size() && !failed; s = next_sequence++) {
      try {
        result.sequence_nll[s] = sequence_nll(forward(model, sequences[s], hook), sequences[s]);
        ROTQ_EXPECTS(std::isfinite(result.sequence_nll[s]),
                     "sequence " << s << " has NLL " << result.sequence_nll[s]
                                 << ": its logits are not finite (the forward pass overflowed "
                                    "or met a NaN); expected finite logits");
      } catch (...) {
        failures[s] = std::current_exception();
        failed = true;
      }
    }
  };
  const std::size_t workers = std::min(threads, sequences.size());
  std::vector<std::thread> pool;
  for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);

  for (const double nll : result.sequence_nll) result.total_nll += nll;
  result.perplexity = std::exp(result.total_nll / static_cast<double>(result.predicted_tokens));
  return result;
}

}  // namespace model
}  // namespace rotq
