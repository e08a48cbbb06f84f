// Tests for the evaluation program (examples/eval): every row's recipe leaves the unquantised model
// computing the fp32 perplexity (the invariance check), and the program itself runs, writes its
// outputs, and turns bad files and options into one-line errors naming them.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <sys/wait.h>

#include "evaluate.hpp"
#include "methods.hpp"
#include "report.hpp"
#include "support/file_bytes.hpp"
#include "support/shared_data.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace rotq_eval;

// A small version of the protocol: few stories, short recipes, so every row runs in seconds.
options small_options() {
  options o;
  o.model_dir = rotq_test::shared_dir() + "/models";
  o.eval_first = 0;
  o.eval_last = 3;
  o.calib_first = 60;
  o.calib_last = 62;
  o.max_tokens = 256;
  o.smoothrot_alphas = {0.3, 0.5};
  o.dfrot_iterations = 4;
  o.dfrot_rows = 1024;
  o.threads = 2;
  return o;
}

struct program_result {
  int exit_code;
  std::string output;
};

// Runs rotq-eval with `arguments` in `directory`, capturing stdout and stderr together.
program_result run_program(const std::string& arguments, const std::string& directory) {
  const std::string command = "cd '" + directory +
                              "' && env -u ROTQ_MODEL_DIR '" ROTQ_EVAL_EXECUTABLE "' " + arguments +
                              " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

TEST_CASE("every row of the table leaves the unquantised model at the fp32 perplexity", "[eval]") {
  for (int kv_bits : {0, 4}) {
    options o = small_options();
    o.kv_bits = kv_bits;
    const eval_data data = load_data(o);
    recipe_context ctx(data, o);
    const double fp32 =
        rotq::model::evaluate_perplexity(data.model, data.eval_sequences, {}, 2).perplexity;
    const std::vector<std::pair<const char*, prepared_model>> rows = {
        {"rtn", prepare_plain(ctx)},           {"smoothquant", prepare_smoothquant(ctx)},
        {"quarot", prepare_quarot(ctx, 3)},    {"smoothrot", prepare_smoothrot(ctx, 3)},
        {"duquant", prepare_duquant(ctx, 3)},  {"dfrot", prepare_dfrot(ctx, 3)},
        {"adaptive", prepare_adaptive(ctx, 3)}};
    for (const auto& [name, prepared] : rows) {
      CAPTURE(name, kv_bits);
      const double ppl = unquantised_perplexity(ctx, prepared);
      CHECK(std::abs(ppl / fp32 - 1.0) <= invariance_tolerance);
      // And the quantised model is really quantised: its perplexity moves.
      CHECK(evaluation_perplexity(ctx, quantise(ctx, prepared, false)) > fp32 * 1.01);
    }
  }
}

TEST_CASE("the transforms change what the quantisers see", "[eval]") {
  // A recipe whose online plan did nothing would pass the invariance check trivially; QuaRot's
  // rotated model must differ from the original, and its quantised perplexity from RTN's.
  const options o = small_options();
  const eval_data data = load_data(o);
  recipe_context ctx(data, o);
  const prepared_model quarot = prepare_quarot(ctx, 0);
  CHECK(quarot.model.layers[0].wq != data.model.layers[0].wq);
  CHECK_FALSE(quarot.plan.at(0, hook_point::down_input).empty());
  const double rtn = evaluation_perplexity(ctx, quantise(ctx, prepare_plain(ctx), false));
  const double rotated = evaluation_perplexity(ctx, quantise(ctx, quarot, false));
  CHECK(rotated < rtn);
}

TEST_CASE("rotq-eval runs a small table and writes JSON, CSV and SVG", "[eval][program]") {
  rotq_test::temp_dir dir;
  const program_result r =
      run_program("--model-dir '" + rotq_test::shared_dir() +
                      "/models' --rows fp32,rtn,quarot --seeds 2 "
                      "--eval-stories 0-2 --calib-stories 60-61 --max-tokens 128 --quiet --out out",
                  dir.file(""));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("quarot+gptq") != std::string::npos);
  CHECK(r.output.find("pass") != std::string::npos);
  const std::string json = rotq_test::read_file(dir.file("out/results.json"));
  CHECK(json.find("\"name\": \"quarot\"") != std::string::npos);
  CHECK(json.find("\"invariance_passed\": true") != std::string::npos);
  CHECK(rotq_test::read_file(dir.file("out/results.csv")).rfind("row,mean_perplexity", 0) == 0);
  CHECK(rotq_test::read_file(dir.file("out/results.svg")).find("<svg") == 0);
}

TEST_CASE("rotq-eval names the places it looked in when no model is found", "[eval][program]") {
  rotq_test::temp_dir dir;
  const program_result r = run_program("--rows fp32", dir.file(""));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("cannot find stories260K.bin") != std::string::npos);
  CHECK(r.output.find("$ROTQ_MODEL_DIR (unset), ./models and ../shared/models") !=
        std::string::npos);
}

TEST_CASE("rotq-eval turns corrupted model files into one-line errors naming them",
          "[eval][program]") {
  rotq_test::temp_dir dir;
  const std::string good = rotq_test::read_file(rotq_test::shared_file("models/stories260K.bin"));
  const std::string models = rotq_test::shared_dir() + "/models";
  auto expect_error = [&](const std::string& bytes, const std::string& problem) {
    const std::string path = dir.file("broken.bin");
    rotq_test::write_file(path, bytes);
    const program_result r =
        run_program("--checkpoint '" + path + "' --tokenizer '" + models + "/tok512.bin' --text '" +
                        models + "/tinystories_valid_head.txt'",
                    dir.file(""));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find(path) != std::string::npos);
    CHECK(r.output.find(problem) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  };
  expect_error(good.substr(0, good.size() - 10), "the file is truncated");
  expect_error(good + "x", "the file has trailing bytes");
  std::string header = good;
  header[0] = '\xff';  // dim = 255: not a multiple of n_heads
  expect_error(header, "invalid header");
  std::string nan = good;
  const float quiet_nan = std::nanf("");
  std::memcpy(&nan[28 + 4 * 1000], &quiet_nan, 4);  // inside the token embedding
  expect_error(nan, "nan");
}

TEST_CASE("rotq-eval rejects a tokenizer of another vocabulary and bad options",
          "[eval][program]") {
  rotq_test::temp_dir dir;
  const std::string models = rotq_test::shared_dir() + "/models";
  program_result r = run_program(
      "--model-dir '" + models + "' --tokenizer '" + models + "/tokenizer.bin'", dir.file(""));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find(models + "/tokenizer.bin") != std::string::npos);
  r = run_program("--frobnicate", dir.file(""));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("unknown option '--frobnicate'") != std::string::npos);
  r = run_program("--eval-stories 0-10 --calib-stories 5-12", dir.file(""));
  CHECK(r.output.find("overlap") != std::string::npos);
  r = run_program("--rows fp32,spinquant", dir.file(""));
  CHECK(r.output.find("unknown row 'spinquant'") != std::string::npos);
  r = run_program("--help", dir.file(""));
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("Usage: rotq-eval") != std::string::npos);
}

TEST_CASE("rotq-eval's numbers: digits only, in range, checked before narrowing",
          "[eval][options]") {
  const auto parse = [](std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), "rotq-eval");
    std::vector<char*> argv;
    for (std::string& a : arguments) argv.push_back(a.data());
    bool help = false;
    return parse_options(int(argv.size()), argv.data(), help);
  };
  CHECK(parse({"--w-bits", "3", "--kv-bits", "0", "--threads", "7"}).weight_bits == 3);
  CHECK(parse({"--seed-list", "18446744073709551615"}).seeds.at(0) == 18446744073709551615ull);
  // Values that wrapped to plausible ones when narrowed to int.
  CHECK_THROWS_WITH(parse({"--w-bits", "4294967300"}),
                    Catch::Contains("--w-bits 4294967300: expected an integer in [2, 8]"));
  CHECK_THROWS_WITH(parse({"--kv-bits", "4294967296"}), Catch::Contains("--kv-bits 4294967296"));
  CHECK_THROWS_WITH(parse({"--kv-bits", "1"}), Catch::Contains("--kv-bits 1: expected 2 to 8"));
  // Signs and spaces that strtoull would have skipped or wrapped, and overflow.
  CHECK_THROWS_WITH(parse({"--threads", " -1"}), Catch::Contains("--threads  -1: expected"));
  CHECK_THROWS_WITH(parse({"--max-tokens", "+3"}), Catch::Contains("--max-tokens +3"));
  CHECK_THROWS_WITH(parse({"--threads", "99999999999999999999999"}),
                    Catch::Contains("expected an integer in [1, 4096]"));
  CHECK_THROWS_WITH(parse({"--seed-list", "1,18446744073709551616"}),
                    Catch::Contains("--seed-list 18446744073709551616: expected an integer >= 0"));
  // Counts that size the work or memory.
  CHECK_THROWS_WITH(parse({"--seeds", "18446744073709551615"}),
                    Catch::Contains("expected an integer in [1, 1000]"));
  CHECK_THROWS_WITH(parse({"--dfrot-rows", "18446744073709551615"}),
                    Catch::Contains("--dfrot-rows"));
}

TEST_CASE("rotq-eval checks --a-group against the model's widths before evaluating",
          "[eval][program]") {
  options o = small_options();
  o.activation_group = 8;  // divides dim 64 but not hidden_dim 172
  CHECK_THROWS_WITH(load_data(o),
                    Catch::Contains("--a-group 8 does not divide the model's layer input width "
                                    "172 (dim 64, hidden_dim 172)"));
  o.activation_group = 4;
  CHECK_NOTHROW(load_data(o));
}

namespace {

// A llama2.c legacy checkpoint of other shapes than stories260K, random weights: dim 96 = 12 * 8
// (a non-power-of-two residual Hadamard), hidden 256, 6 query heads sharing 3 key/value heads.
std::string random_checkpoint() {
  const int dim = 96, hidden = 256, layers = 2, heads = 6, kv_heads = 3, vocab = 512, seq_len = 128;
  const int head_size = dim / heads, kv_dim = kv_heads * head_size;
  std::string bytes;
  for (int field : {dim, hidden, layers, heads, kv_heads, vocab, seq_len})
    bytes.append(reinterpret_cast<const char*>(&field), 4);
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 0.08f);
  auto tensor = [&](std::size_t count, bool gain) {
    for (std::size_t i = 0; i < count; ++i) {
      const float v = gain ? 1.0f + normal(gen) : normal(gen);
      bytes.append(reinterpret_cast<const char*>(&v), 4);
    }
  };
  tensor(std::size_t(vocab) * dim, false);            // token embedding
  tensor(std::size_t(layers) * dim, true);            // rms_att
  tensor(std::size_t(layers) * dim * dim, false);     // wq
  tensor(std::size_t(layers) * kv_dim * dim, false);  // wk
  tensor(std::size_t(layers) * kv_dim * dim, false);  // wv
  tensor(std::size_t(layers) * dim * dim, false);     // wo
  tensor(std::size_t(layers) * dim, true);            // rms_ffn
  tensor(std::size_t(layers) * hidden * dim, false);  // w1 (gate)
  tensor(std::size_t(layers) * dim * hidden, false);  // w2 (down)
  tensor(std::size_t(layers) * hidden * dim, false);  // w3 (up)
  tensor(std::size_t(dim), true);                     // rms_final
  tensor(std::size_t(seq_len) * head_size, false);    // the unused RoPE table, real and imaginary
  return bytes;
}

}  // namespace

TEST_CASE("rotq-eval runs every row on another checkpoint and a Gutenberg text, by flags alone",
          "[eval][program]") {
  rotq_test::temp_dir dir;
  const std::string checkpoint = dir.file("other.bin");
  rotq_test::write_file(checkpoint, random_checkpoint());
  const std::string models = rotq_test::shared_dir() + "/models";
  const program_result r = run_program(
      "--checkpoint '" + checkpoint + "' --tokenizer '" + models + "/tok512.bin' --text '" +
          models + "/grimms_fairy_tales_pg2591.txt' --eval-stories 0-3 --calib-stories 20-25 " +
          "--max-tokens 96 --seeds 1 --smoothrot-alphas 0.5 --dfrot-iterations 3 --kv-bits 4 " +
          "--quiet --out out",
      dir.file(""));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);  // 3 when an invariance check fails
  for (const char* row : {"fp32", "rtn", "smoothquant", "quarot", "smoothrot", "duquant", "dfrot",
                          "adaptive", "duquant+gptq"})
    CHECK(r.output.find(std::string("\n") + row + " ") != std::string::npos);
  CHECK(r.output.find("FAIL") == std::string::npos);
  CHECK(r.output.find("W4A4KV4") != std::string::npos);
}
