#pragma once
// The rows of the evaluation table as recipes: each turns the original model into a prepared one
// (weights rewritten by surgery, the weight half of every online transform fused) and the online
// plan that transforms activations before they are quantised. Everything here is built from the
// library's pieces; the choices (which input gets what) follow evaluation.md and algorithms.md 7.

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <rotq/dfrot.hpp>
#include <rotq/duquant.hpp>
#include <rotq/model/surgery.hpp>
#include <rotq/smoothing.hpp>
#include <rotq/stats.hpp>

#include "context.hpp"
#include "evaluate.hpp"

namespace rotq_eval {

namespace detail {

inline rotq::pipeline single(rotq::transform t) {
  rotq::pipeline p;
  p.then(std::move(t));
  return p;
}

inline Eigen::VectorXd reader_column_absmax(const rotq::model::llama2_layer& layer,
                                            hook_point point) {
  std::vector<rotq::matrix_view<const float>> readers;
  for (const rotq::model::weight_matrix* w : rotq::model::linears_reading(layer, point))
    readers.push_back(rotq::as_view(*w));
  return rotq::weight_column_absmax(readers);
}

inline std::string number(double v) {
  std::ostringstream out;
  out.precision(4);
  out << v;
  return out.str();
}

/// A distinct seed per (run seed, layer, input), so no two transforms share their randomness.
inline std::uint64_t sub_seed(std::uint64_t seed, std::size_t layer, hook_point point) {
  return rotq::detail::splitmix64_at(
      seed, layer * rotq::model::hook_point_count + rotq::model::hook_index(point));
}

/// The KV-cache quantiser of the options: per head, asymmetric (evaluation.md).
inline void set_kv_cache(const options& o, online_plan& plan) {
  if (o.kv_bits > 0) plan.kv_cache = rotq::quant_spec{o.kv_bits, false, 0, 1.0};
}

}  // namespace detail

/// rtn (and fp32): the original model, nothing online.
inline prepared_model prepare_plain(recipe_context& ctx) {
  prepared_model p{ctx.original(), online_plan(ctx.original().config), ""};
  detail::set_kv_cache(ctx.opts(), p.plan);
  return p;
}

/// SmoothQuant: smoothing (alpha 0.5) of norm -> qkv and norm -> gate/up, fused into the RMSNorm
/// gains; the scales come from the original model's calibration statistics.
inline prepared_model prepare_smoothquant(recipe_context& ctx) {
  constexpr double alpha = 0.5;
  prepared_model p = prepare_plain(ctx);
  const auto& stats = ctx.original_statistics();
  for (std::size_t l = 0; l < p.model.layers.size(); ++l)
    for (hook_point point : {hook_point::attention_input, hook_point::ffn_input}) {
      const Eigen::VectorXd s = rotq::smoothing_scales(
          stats.statistics(l, point).channel_absmax(),
          detail::reader_column_absmax(ctx.original().layers[l], point), alpha);
      rotq::model::fuse_smoothing(p.model, l, point, s);
    }
  p.notes = "alpha 0.5";
  return p;
}

/// QuaRot's offline half: gains fused, then the residual rotation R1 (a random Hadamard of the
/// hidden size, or `residual` when given: DFRot's refined rotation).
inline void apply_residual_rotation(prepared_model& p, std::uint64_t seed,
                                    const rotq::pipeline* residual) {
  rotq::model::fuse_norm_gains(p.model);
  rotq::model::rotate_residual(
      p.model,
      residual ? *residual : detail::single(rotq::random_hadamard(p.model.config.dim, seed)));
}

/// QuaRot's online half: a Hadamard of the FFN size on the down input and a full Hadamard on the o
/// input (QuaRot fuses its per-head part into v; in fake quantisation that is the same
/// arithmetic). With a quantised KV cache, also QuaRot's per-head Hadamard on queries and keys
/// (after RoPE) and values; the o input's online transform first undoes the one on values.
inline void apply_quarot_online(prepared_model& p) {
  const auto& config = p.model.config;
  const rotq::pipeline down = detail::single(rotq::hadamard_transform(config.hidden_dim));
  const rotq::pipeline out = detail::single(rotq::hadamard_transform(config.dim));
  for (std::size_t l = 0; l < config.n_layers; ++l) {
    rotq::model::transform_linear_inputs(p.model, l, hook_point::down_input, down);
    p.plan.at(l, hook_point::down_input) = down;
    rotq::model::transform_linear_inputs(p.model, l, hook_point::attention_output, out);
    p.plan.at(l, hook_point::attention_output) = out;
    if (p.plan.kv_cache) {
      const rotq::hadamard_transform head(config.head_size());
      for (hook_point point : {hook_point::query, hook_point::key, hook_point::value})
        p.plan.at(l, point) = detail::single(head);
      const std::vector<Eigen::MatrixXd> undo(config.n_heads, head.inverse().matrix());
      rotq::pipeline online_out = detail::single(rotq::block_rotation(undo));
      online_out.then(out);
      p.plan.at(l, hook_point::attention_output) = online_out;
    }
  }
}

/// QuaRot: residual rotation R1 = a random Hadamard, then the online Hadamards.
inline prepared_model prepare_quarot(recipe_context& ctx, std::uint64_t seed) {
  prepared_model p = prepare_plain(ctx);
  apply_residual_rotation(p, seed, nullptr);
  apply_quarot_online(p);
  return p;
}

/// SmoothRot: QuaRot plus smoothing of the down input (where massive activations live), scales
/// from the original model, fused into the up projection's rows and w_down's columns before the
/// down Hadamard. Alpha: the model-wide value with the lowest quantised calibration perplexity
/// among --smoothrot-alphas (one value: no sweep).
inline prepared_model prepare_smoothrot(recipe_context& ctx, std::uint64_t seed) {
  const auto& stats = ctx.original_statistics();
  auto build = [&](double alpha) {
    prepared_model p = prepare_plain(ctx);
    for (std::size_t l = 0; l < p.model.layers.size(); ++l) {
      const Eigen::VectorXd s = rotq::smoothing_scales(
          stats.statistics(l, hook_point::down_input).channel_absmax(),
          detail::reader_column_absmax(ctx.original().layers[l], hook_point::down_input), alpha);
      rotq::model::fuse_smoothing(p.model, l, hook_point::down_input, s);
    }
    apply_residual_rotation(p, seed, nullptr);
    apply_quarot_online(p);
    return p;
  };
  const std::vector<double>& alphas = ctx.opts().smoothrot_alphas;
  if (alphas.size() == 1) {
    prepared_model p = build(alphas.front());
    p.notes = "alpha " + detail::number(alphas.front());
    return p;
  }
  prepared_model best;
  double best_loss = 0;
  std::string sweep;
  for (double alpha : alphas) {
    prepared_model p = build(alpha);
    const double loss = quantised_calibration_perplexity(ctx, p);
    sweep += (sweep.empty() ? "" : ", ") + detail::number(alpha) + ": " + detail::number(loss);
    if (best.model.layers.empty() || loss < best_loss) {
      best = std::move(p);
      best_loss = loss;
      best.notes = "alpha " + detail::number(alpha);
    }
  }
  best.notes += " (calibration perplexity " + sweep + ")";
  return best;
}

/// DuQuant: on every quantised input of every layer, smoothing (alpha 0.6) then a greedy block
/// rotation, the zigzag permutation and a second block rotation (block 16 for width 64, 43 for
/// 172: duquant_block_size), calibrated on the original model's rows at that input. The whole
/// pipeline runs online here (smoothing is fusable for three of the four inputs; in fake
/// quantisation online and fused are the same arithmetic); the weights get its weight half.
inline prepared_model prepare_duquant(recipe_context& ctx, std::uint64_t seed) {
  const auto& stats = ctx.original_statistics();
  prepared_model p = prepare_plain(ctx);
  for (std::size_t l = 0; l < p.model.layers.size(); ++l)
    for (hook_point point : rotq::model::linear_inputs) {
      const rotq::activation_statistics& input = stats.statistics(l, point);
      rotq::duquant_options o;
      o.seed = detail::sub_seed(seed, l, point);
      o.smoothing =
          rotq::duquant_smoothing{detail::reader_column_absmax(ctx.original().layers[l], point),
                                  input.channel_absmax(), 0.6, 1e-2};
      const rotq::pipeline t = rotq::duquant_transform(input.sample(), o);
      rotq::model::transform_linear_inputs(p.model, l, point, t);
      p.plan.at(l, point) = t;
    }
  p.notes = "alpha 0.6, blocks " + std::to_string(rotq::duquant_block_size(p.model.config.dim)) +
            "/" + std::to_string(rotq::duquant_block_size(p.model.config.hidden_dim));
  return p;
}

/// DFRot: QuaRot with R1 refined by weighted Procrustes. The features are the normalised hidden
/// states (the RMSNorm outputs with gains fused) at every layer's attention and FFN input on the
/// calibration stories, stacked; R0 is the random Hadamard QuaRot would use.
inline prepared_model prepare_dfrot(recipe_context& ctx, std::uint64_t seed) {
  llama2_model fused = ctx.original();
  rotq::model::fuse_norm_gains(fused);
  auto recorder_options = ctx.statistics_options();
  recorder_options.points = {hook_point::attention_input, hook_point::ffn_input};
  // Every calibration position by default; --dfrot-rows caps the rows (each iteration's cost grows
  // with them) by a uniform sample of each input, which keeps the massive tokens' share.
  const std::size_t inputs = recorder_options.points.size() * fused.layers.size();
  if (ctx.opts().dfrot_rows > 0)
    recorder_options.sample_capacity = (ctx.opts().dfrot_rows + inputs - 1) / inputs;
  const auto features = ctx.record(fused, online_plan(fused.config), recorder_options);
  rotq::model::weight_matrix stacked(0, Eigen::Index(fused.config.dim));
  for (std::size_t l = 0; l < fused.layers.size(); ++l)
    for (hook_point point : recorder_options.points) {
      const rotq::matrix_view<const float> rows = features->statistics(l, point).sample();
      const Eigen::Index first = stacked.rows();
      stacked.conservativeResize(first + Eigen::Index(rows.rows), Eigen::NoChange);
      for (std::size_t r = 0; r < rows.rows; ++r)
        for (std::size_t c = 0; c < rows.cols; ++c)
          stacked(first + Eigen::Index(r), Eigen::Index(c)) = rows(r, c);
    }
  rotq::dfrot_options o;
  o.iterations = ctx.opts().dfrot_iterations;
  const rotq::dfrot_result refined = rotq::dfrot_refine(
      rotq::as_view(stacked), rotq::random_hadamard(fused.config.dim, seed).matrix(), o);
  const rotq::pipeline residual = detail::single(rotq::dense_rotation(refined.rotation));
  prepared_model p = prepare_plain(ctx);
  apply_residual_rotation(p, seed, &residual);
  apply_quarot_online(p);
  p.notes = std::to_string(refined.massive_tokens.size()) + " massive of " +
            std::to_string(stacked.rows()) + " feature rows; objective " +
            detail::number(refined.objective.front()) + " -> " +
            detail::number(refined.objective[refined.best_iteration]);
  return p;
}

/// Adaptive layer-wise selection between QuaRot (plain) and DuQuant-on-top (strong): the weight
/// kurtosis of each layer's linears, grouped as attention inputs (wq, wk, wv), attention output
/// (wo), FFN inputs (w_gate, w_up) and FFN output (w_down), gives a robust z-score within its
/// group across layers; where z > beta, that input additionally gets a DuQuant transform (alpha
/// 0.6 smoothing, rotations, zigzag) calibrated on the QuaRot model's rows there, as its
/// quantiser would see them.
inline prepared_model prepare_adaptive(recipe_context& ctx, std::uint64_t seed) {
  prepared_model p = prepare_quarot(ctx, seed);
  static const char* const group_names[] = {"attention inputs", "attention output", "FFN inputs",
                                            "FFN output"};
  std::vector<rotq::layer_kurtosis> layers;
  for (std::size_t l = 0; l < p.model.layers.size(); ++l)
    for (std::size_t i = 0; i < 4; ++i) {
      std::vector<const rotq::model::weight_matrix*> readers =
          rotq::model::linears_reading(ctx.original().layers[l], rotq::model::linear_inputs[i]);
      Eigen::Index rows = 0;
      for (const auto* w : readers) rows += w->rows();
      rotq::model::weight_matrix all(rows, readers.front()->cols());
      rows = 0;
      for (const auto* w : readers) {
        all.middleRows(rows, w->rows()) = *w;
        rows += w->rows();
      }
      layers.push_back({"layer " + std::to_string(l), group_names[i],
                        rotq::weight_kurtosis(rotq::as_view(all))});
    }
  rotq::layer_selection_rule rule;
  for (const char* g : group_names) rule.thresholds[g] = ctx.opts().adaptive_beta;
  rule.plain = "quarot";
  rule.strong = "quarot+duquant";
  const std::vector<rotq::layer_decision> decisions = rotq::select_layers_by_kurtosis(layers, rule);

  // Rows at the chosen inputs as the QuaRot model's quantisers see them (after its online part).
  const auto seen = ctx.record(p.model, p.plan, ctx.statistics_options());
  std::string chosen;
  for (std::size_t k = 0; k < decisions.size(); ++k) {
    if (!decisions[k].outlier_heavy) continue;
    const std::size_t l = k / 4;
    const hook_point point = rotq::model::linear_inputs[k % 4];
    const rotq::activation_statistics& input = seen->statistics(l, point);
    rotq::duquant_options o;
    o.seed = detail::sub_seed(seed, l, point);
    o.smoothing = rotq::duquant_smoothing{detail::reader_column_absmax(p.model.layers[l], point),
                                          input.channel_absmax(), 0.6, 1e-2};
    const rotq::pipeline t = rotq::duquant_transform(input.sample(), o);
    rotq::model::transform_linear_inputs(p.model, l, point, t);
    p.plan.at(l, point).then(t);
    chosen += (chosen.empty() ? "" : ", ") + std::string("L") + std::to_string(l) + " " +
              decisions[k].group + " (z " + detail::number(decisions[k].zscore) + ")";
  }
  p.notes = "beta " + detail::number(ctx.opts().adaptive_beta) + "; duquant on " +
            (chosen.empty() ? "none" : chosen);
  return p;
}

}  // namespace rotq_eval
