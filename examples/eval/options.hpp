#pragma once
// rotq-eval's command line: what to evaluate, on which model and text, with which quantisers.

#include <rotq/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace rotq_eval {

/// The rows of the table, in the order evaluation.md lists them.
inline const std::vector<std::string>& all_methods() {
  static const std::vector<std::string> methods = {
      "fp32", "rtn", "smoothquant", "quarot", "smoothrot", "duquant", "dfrot", "adaptive"};
  return methods;
}

struct options {
  // Files: an empty path means "the default file in the model directory".
  std::string model_dir;
  std::string checkpoint, tokenizer, text;
  // The protocol: story ranges [first, last] inclusive, tokens per story.
  std::size_t eval_first = 0, eval_last = 59, calib_first = 60, calib_last = 68;
  std::size_t max_tokens = 512;
  // Rows and seeds.
  std::vector<std::string> methods = all_methods();
  bool gptq = true;
  std::vector<std::uint64_t> seeds = {0, 1, 2, 3, 4};
  // Quantisers.
  int weight_bits = 4, activation_bits = 4, kv_bits = 0;
  double weight_clip = 1.0, activation_clip = 1.0;
  bool asymmetric_activations = false;
  std::size_t activation_group = 0;
  // Method settings.
  std::vector<double> smoothrot_alphas = {0.3, 0.4, 0.5, 0.6, 0.7, 0.8};
  double adaptive_beta = 1.0;
  std::size_t dfrot_iterations = 100;
  std::size_t dfrot_rows = 0;  ///< 0: every calibration position
  // Running.
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::string out_dir = "rotq-eval-results";
  bool quiet = false;
};

inline const char* usage() {
  return R"(rotq-eval: W4A4 perplexity of a llama2.c model under every rotq pipeline.

Usage: rotq-eval [options]

Model and text (defaults: stories260K.bin, tok512.bin and tinystories_valid_head.txt found in
$ROTQ_MODEL_DIR, then ./models, then ../shared/models):
  --model-dir DIR        folder holding the three default files
  --checkpoint FILE      a llama2.c checkpoint (legacy format)
  --tokenizer FILE       its llama2.c tokenizer (as many tokens as the model's vocabulary)
  --text FILE            the text: stories separated by <|endoftext|> lines; a Project Gutenberg
                         book (*** START / *** END markers) is split into paragraphs instead
  --eval-stories A-B     stories evaluated (default 0-59)
  --calib-stories A-B    stories calibrated on (default 60-68); never overlapping the above
  --max-tokens N         tokens per story, BOS included (default 512, at most seq_len)

Rows:
  --rows LIST            comma-separated subset of fp32,rtn,smoothquant,quarot,smoothrot,
                         duquant,dfrot,adaptive (default: all)
  --no-gptq              skip the "+ gptq" rows
  --seeds N | --seed-list A,B,...
                         seeds of the randomised rows (default 5: 0-4)

Quantisers (W4A4 baseline: weights per output channel, activations per token, symmetric, RTN):
  --w-bits N  --a-bits N weight / activation bits (default 4 / 4)
  --w-clip X  --a-clip X clip ratios (default 1.0 / 1.0)
  --asym-act             asymmetric activations
  --a-group N            activation groups of N channels (default: whole token)
  --kv-bits N            quantise the KV cache per head, asymmetric (default 0: fp32)

Methods:
  --smoothrot-alphas L   alphas the SmoothRot sweep tries on the calibration set
                         (default 0.3,0.4,0.5,0.6,0.7,0.8; one value fixes alpha)
  --adaptive-beta X      robust z-score above which a layer is outlier-heavy (default 1.0)
  --dfrot-iterations N   Procrustes refinement steps (default 100)
  --dfrot-rows N         feature rows sampled for the refinement (default 0: every
                         calibration position of every layer)

Running:
  --threads N            worker threads (default: all cores)
  --out DIR              where the JSON, CSV and SVG go (default ./rotq-eval-results)
  --quiet                no progress lines
  -h, --help             this text
)";
}

namespace detail {

[[noreturn]] inline void bad_option(const std::string& what) {
  throw rotq::error("rotq-eval: " + what + " (see --help)");
}

/// A decimal count in [min, max]: digits only (no sign, no spaces), within range of std::size_t.
inline std::size_t parse_count(const std::string& option, const std::string& text, std::size_t min,
                               std::size_t max = std::numeric_limits<std::size_t>::max()) {
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  errno = 0;
  const unsigned long long value = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE || value < min || value > max)
    bad_option(option + " " + text + ": expected an integer " +
               (max == std::numeric_limits<std::size_t>::max()
                    ? ">= " + std::to_string(min)
                    : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]"));
  return static_cast<std::size_t>(value);
}

inline double parse_real(const std::string& option, const std::string& text, double low,
                         double high) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(value >= low && value <= high))
    bad_option(option + " " + text + ": expected a number in [" + std::to_string(low) + ", " +
               std::to_string(high) + "]");
  return value;
}

inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string::npos ? text.size() : comma;
    if (end > start) items.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

inline void parse_range(const std::string& option, const std::string& text, std::size_t& first,
                        std::size_t& last) {
  const std::size_t dash = text.find('-');
  if (dash == std::string::npos) bad_option(option + " " + text + ": expected A-B");
  first = parse_count(option, text.substr(0, dash), 0);
  last = parse_count(option, text.substr(dash + 1), 0);
  if (last < first) bad_option(option + " " + text + ": the range is empty");
}

}  // namespace detail

// Upper bounds of options that size work or memory, far above any sensible use, so that a typo
// is an error rather than hours of work or an exhausted memory.
inline constexpr std::size_t max_seeds = 1000;
inline constexpr std::size_t max_threads = 4096;
inline constexpr std::size_t max_dfrot_iterations = 1000000;
inline constexpr std::size_t max_dfrot_rows = std::size_t{1} << 24;

/// Parses argv; throws rotq::error naming the option for anything it cannot use. Sets `help`
/// when -h/--help was given.
inline options parse_options(int argc, char** argv, bool& help) {
  options o;
  help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) detail::bad_option(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help")
      help = true;
    else if (arg == "--model-dir")
      o.model_dir = value();
    else if (arg == "--checkpoint")
      o.checkpoint = value();
    else if (arg == "--tokenizer")
      o.tokenizer = value();
    else if (arg == "--text")
      o.text = value();
    else if (arg == "--eval-stories")
      detail::parse_range(arg, value(), o.eval_first, o.eval_last);
    else if (arg == "--calib-stories")
      detail::parse_range(arg, value(), o.calib_first, o.calib_last);
    else if (arg == "--max-tokens")
      o.max_tokens = detail::parse_count(arg, value(), 2);
    else if (arg == "--rows") {
      o.methods.clear();
      for (const std::string& m : detail::split_list(value())) {
        bool known = false;
        for (const std::string& k : all_methods()) known = known || k == m;
        if (!known) detail::bad_option("--rows: unknown row '" + m + "'");
        o.methods.push_back(m);
      }
      if (o.methods.empty()) detail::bad_option("--rows: no row given");
    } else if (arg == "--no-gptq")
      o.gptq = false;
    else if (arg == "--seeds") {
      const std::size_t n = detail::parse_count(arg, value(), 1, max_seeds);
      o.seeds.clear();
      for (std::size_t s = 0; s < n; ++s) o.seeds.push_back(s);
    } else if (arg == "--seed-list") {
      o.seeds.clear();
      for (const std::string& s : detail::split_list(value()))
        o.seeds.push_back(detail::parse_count(arg, s, 0));
      if (o.seeds.empty()) detail::bad_option("--seed-list: no seed given");
    } else if (arg == "--w-bits")
      o.weight_bits = int(detail::parse_count(arg, value(), 2, 8));
    else if (arg == "--a-bits")
      o.activation_bits = int(detail::parse_count(arg, value(), 2, 8));
    else if (arg == "--kv-bits")
      o.kv_bits = int(detail::parse_count(arg, value(), 0, 8));
    else if (arg == "--w-clip")
      o.weight_clip = detail::parse_real(arg, value(), 0.01, 1.0);
    else if (arg == "--a-clip")
      o.activation_clip = detail::parse_real(arg, value(), 0.01, 1.0);
    else if (arg == "--asym-act")
      o.asymmetric_activations = true;
    else if (arg == "--a-group")
      o.activation_group = detail::parse_count(arg, value(), 1);
    else if (arg == "--smoothrot-alphas") {
      o.smoothrot_alphas.clear();
      for (const std::string& a : detail::split_list(value()))
        o.smoothrot_alphas.push_back(detail::parse_real(arg, a, 0.0, 1.0));
      if (o.smoothrot_alphas.empty()) detail::bad_option("--smoothrot-alphas: no value given");
    } else if (arg == "--adaptive-beta")
      o.adaptive_beta = detail::parse_real(arg, value(), -100, 100);
    else if (arg == "--dfrot-iterations")
      o.dfrot_iterations = detail::parse_count(arg, value(), 1, max_dfrot_iterations);
    else if (arg == "--dfrot-rows")
      o.dfrot_rows = detail::parse_count(arg, value(), 16, max_dfrot_rows);
    else if (arg == "--threads")
      o.threads = detail::parse_count(arg, value(), 1, max_threads);
    else if (arg == "--out")
      o.out_dir = value();
    else if (arg == "--quiet")
      o.quiet = true;
    else
      detail::bad_option("unknown option '" + arg + "'");
  }
  if (o.kv_bits == 1) detail::bad_option("--kv-bits 1: expected 2 to 8, or 0 for an fp32 cache");
  const bool overlap = o.eval_first <= o.calib_last && o.calib_first <= o.eval_last;
  if (overlap)
    detail::bad_option(
        "--eval-stories and --calib-stories overlap: never calibrate on evaluation text");
  return o;
}

}  // namespace rotq_eval
