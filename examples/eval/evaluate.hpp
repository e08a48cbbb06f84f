#pragma once
// Measuring a prepared model: perplexity with every quantiser off (the invariance check), and with
// RTN or GPTQ weights and quantised activations.

#include <rotq/model/fake_quantization.hpp>
#include <rotq/model/perplexity.hpp>

#include "context.hpp"

namespace rotq_eval {

/// The weight quantiser: per output channel, symmetric, RTN grid (evaluation.md).
inline rotq::quant_spec weight_spec(const options& o) {
  return {o.weight_bits, true, 0, o.weight_clip};
}

/// The activation quantiser: per token (or per group of channels), symmetric unless --asym-act.
inline rotq::quant_spec activation_spec(const options& o) {
  return {o.activation_bits, !o.asymmetric_activations, o.activation_group, o.activation_clip};
}

inline double perplexity(const llama2_model& model, const online_plan& plan,
                         const std::vector<std::vector<int>>& sequences, std::size_t threads) {
  return rotq::model::evaluate_perplexity(model, sequences, plan.hook(model.config), threads)
      .perplexity;
}

/// Evaluation perplexity with the online transforms but no quantiser at all: the invariance
/// check compares it with fp32.
inline double unquantised_perplexity(const recipe_context& ctx, const prepared_model& p) {
  online_plan plain = p.plan;
  plain.activations.reset();
  plain.kv_cache.reset();
  return perplexity(p.model, plain, ctx.data().eval_sequences, ctx.opts().threads);
}

/// A prepared model with its quantisers on.
struct quantised_model {
  llama2_model model;
  online_plan plan;
};

/// Quantises every linear's weights, RTN or GPTQ (with Hessians of the rows each linear sees on the
/// calibration stories, through the prepared model's online transforms), and turns the activation
/// quantiser on.
inline quantised_model quantise(const recipe_context& ctx, const prepared_model& p, bool gptq) {
  quantised_model q{p.model, p.plan};
  q.plan.activations = activation_spec(ctx.opts());
  if (gptq) {
    rotq::model::calibration_recorder::options record;
    record.statistics = false;
    record.hessians = true;
    const auto recorder = ctx.record(p.model, p.plan, record);
    rotq::model::gptq_linear_weights(q.model, recorder->hessians(), weight_spec(ctx.opts()));
  } else {
    rotq::model::fake_quantize_linear_weights(q.model, weight_spec(ctx.opts()));
  }
  return q;
}

inline double evaluation_perplexity(const recipe_context& ctx, const quantised_model& q) {
  return perplexity(q.model, q.plan, ctx.data().eval_sequences, ctx.opts().threads);
}

/// Calibration-set perplexity with RTN weights and quantised activations: the loss of SmoothRot's
/// alpha sweep (never the evaluation stories).
inline double quantised_calibration_perplexity(const recipe_context& ctx, const prepared_model& p) {
  const quantised_model q = quantise(ctx, p, false);
  return perplexity(q.model, q.plan, ctx.data().calib_sequences, ctx.opts().threads);
}

}  // namespace rotq_eval
