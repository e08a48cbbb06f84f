// rotq-eval: the W4A4 evaluation of a llama2.c model under every rotq pipeline (evaluation.md).
// Prints the table, writes it as JSON and CSV, and draws it as an SVG bar chart.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data.hpp"
#include "evaluate.hpp"
#include "methods.hpp"
#include "options.hpp"
#include "report.hpp"

namespace {

using namespace rotq_eval;

struct method {
  const char* name;
  const char* description;
  bool randomised;       ///< run once per seed
  bool uses_statistics;  ///< needs the original model's calibration statistics
  std::function<prepared_model(recipe_context&, std::uint64_t)> prepare;
};

std::vector<method> methods() {
  return {
      {"fp32", "no quantisation", false, false,
       [](recipe_context& c, std::uint64_t) { return prepare_plain(c); }},
      {"rtn", "W4A4 round to nearest, no transform", false, false,
       [](recipe_context& c, std::uint64_t) { return prepare_plain(c); }},
      {"smoothquant",
       "smoothing (alpha 0.5) of norm->qkv and norm->gate/up, fused into the RMSNorm gains", false,
       true, [](recipe_context& c, std::uint64_t) { return prepare_smoothquant(c); }},
      {"quarot",
       "gains fused; R1 random Hadamard; Hadamard on the down input; full Hadamard on the o input",
       true, false, prepare_quarot},
      {"smoothrot",
       "quarot plus down-input smoothing fused into the up rows (alpha from a calibration sweep)",
       true, true, prepare_smoothrot},
      {"duquant",
       "smoothing (alpha 0.6) + block rotation, zigzag, block rotation on every quantised input",
       true, true, prepare_duquant},
      {"dfrot", "quarot with R1 refined by weighted Procrustes on the calibration set", true, false,
       prepare_dfrot},
      {"adaptive", "per layer input, the kurtosis z-score picks quarot or quarot+duquant", true,
       false, prepare_adaptive},
  };
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", std::localtime(&now));
  return buffer;
}

std::string quantiser_text(const options& o) {
  std::string text = "W" + std::to_string(o.weight_bits) + "A" + std::to_string(o.activation_bits);
  if (o.kv_bits > 0) text += "KV" + std::to_string(o.kv_bits);
  text += std::string(", activations per ") +
          (o.activation_group ? std::to_string(o.activation_group) + "-group" : "token") +
          (o.asymmetric_activations ? " asymmetric" : " symmetric");
  if (o.activation_clip != 1.0)
    text += ", activation clip " + rotq_eval::detail::number(o.activation_clip);
  if (o.weight_clip != 1.0) text += ", weight clip " + rotq_eval::detail::number(o.weight_clip);
  return text;
}

int run(const options& o) {
  const auto start = std::chrono::steady_clock::now();
  auto progress = [&](const std::string& line) {
    if (!o.quiet) std::fprintf(stderr, "[%6.1f s] %s\n", seconds_since(start), line.c_str());
  };
  const eval_data data = load_data(o);
  const auto& config = data.model.config;
  std::size_t eval_tokens = 0, calib_tokens = 0;
  for (const auto& s : data.eval_sequences) eval_tokens += s.size();
  for (const auto& s : data.calib_sequences) calib_tokens += s.size();
  progress("model " + data.checkpoint_path + ": dim " + std::to_string(config.dim) + ", hidden " +
           std::to_string(config.hidden_dim) + ", " + std::to_string(config.n_layers) +
           " layers; text " + data.text_path + ": " + std::to_string(data.eval_sequences.size()) +
           " evaluation stories (" + std::to_string(eval_tokens) + " tokens), " +
           std::to_string(data.calib_sequences.size()) + " calibration stories (" +
           std::to_string(calib_tokens) + " tokens); " + std::to_string(o.threads) + " threads");

  recipe_context ctx(data, o);
  report r;
  r.model = std::filesystem::path(data.checkpoint_path).filename().string();
  r.text = std::filesystem::path(data.text_path).filename().string() + " stories " +
           std::to_string(o.eval_first) + "-" + std::to_string(o.eval_last);
  r.quantisers = quantiser_text(o);
  r.date = today();
  r.fp32 =
      rotq::model::evaluate_perplexity(data.model, data.eval_sequences, {}, o.threads).perplexity;
  progress("fp32 perplexity " + rotq_eval::detail::number(r.fp32));
  {
    const quantised_model q = quantise(ctx, prepare_plain(ctx), false);
    r.rtn = evaluation_perplexity(ctx, q);
  }

  std::vector<row_result> plain_rows, gptq_rows;
  bool all_invariant = true;
  for (const method& m : methods()) {
    if (std::find(o.methods.begin(), o.methods.end(), m.name) == o.methods.end()) continue;
    row_result row{m.name, m.description, {}, {}, {}, 0.0, false, ""};
    if (row.name == "fp32") {
      row.perplexity = {r.fp32};
      plain_rows.push_back(row);
      continue;
    }
    row_result gptq_row = row;
    gptq_row.name += "+gptq";
    gptq_row.description += "; GPTQ weights";
    const std::vector<std::uint64_t> seeds = m.randomised ? o.seeds : std::vector<std::uint64_t>{0};
    for (std::uint64_t seed : seeds) {
      const std::string label =
          m.name + (m.randomised ? " seed " + std::to_string(seed) : std::string());
      auto t0 = std::chrono::steady_clock::now();
      const bool charge_statistics = m.uses_statistics && ctx.statistics_seconds() == 0.0;
      prepared_model p = m.prepare(ctx, seed);
      double calibration =
          seconds_since(t0) +
          (m.uses_statistics && !charge_statistics ? ctx.statistics_seconds() : 0.0);
      const double unquantised = unquantised_perplexity(ctx, p);
      const double invariance = std::abs(unquantised / r.fp32 - 1.0);
      const double ppl = evaluation_perplexity(ctx, quantise(ctx, p, false));
      if (m.randomised) row.seeds.push_back(seed);
      row.perplexity.push_back(ppl);
      row.calibration_seconds.push_back(calibration);
      // Not std::max, which would drop a NaN: a NaN must fail the check.
      if (!(invariance <= row.invariance_error)) row.invariance_error = invariance;
      row.invariance_checked = true;
      if (!p.notes.empty())
        row.notes += (row.notes.empty() ? "" : "; ") +
                     (m.randomised ? "seed " + std::to_string(seed) + ": " : std::string()) +
                     p.notes;
      std::string line = label + ": perplexity " + rotq_eval::detail::number(ppl) +
                         ", invariance " + rotq_eval::detail::number(invariance) +
                         ", calibration " + rotq_eval::detail::number(calibration) + " s";
      if (o.gptq) {
        t0 = std::chrono::steady_clock::now();
        const double gptq_ppl = evaluation_perplexity(ctx, quantise(ctx, p, true));
        if (m.randomised) gptq_row.seeds.push_back(seed);
        gptq_row.perplexity.push_back(gptq_ppl);
        gptq_row.calibration_seconds.push_back(calibration + seconds_since(t0));
        gptq_row.invariance_error = row.invariance_error;
        gptq_row.invariance_checked = true;
        line += "; +gptq " + rotq_eval::detail::number(gptq_ppl);
      }
      progress(line);
    }
    if (row.invariance_error > invariance_tolerance) all_invariant = false;
    plain_rows.push_back(row);
    if (o.gptq) gptq_rows.push_back(gptq_row);
  }
  r.rows = plain_rows;
  r.rows.insert(r.rows.end(), gptq_rows.begin(), gptq_rows.end());

  print_table(r, stdout);
  std::filesystem::create_directories(o.out_dir);
  const std::string base = (std::filesystem::path(o.out_dir) / "results").string();
  write_json(r, base + ".json");
  write_csv(r, base + ".csv");
  write_svg(r, base + ".svg");
  std::printf("\nwrote %s.json, %s.csv and %s.svg in %.1f s\n", base.c_str(), base.c_str(),
              base.c_str(), seconds_since(start));
  if (!all_invariant) {
    std::fprintf(
        stderr,
        "rotq-eval: an invariance check FAILED: a pipeline changed the unquantised model\n");
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool help = false;
    const rotq_eval::options o = rotq_eval::parse_options(argc, argv, help);
    if (help) {
      std::fputs(rotq_eval::usage(), stdout);
      return 0;
    }
    return run(o);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    std::fprintf(stderr, "%s%s\n",
                 what.rfind("rotq-eval:", 0) == 0 ? "" : "rotq-eval: ", what.c_str());
    return 1;
  }
}
