// Tests for <rotq/model/llama2_checkpoint.hpp>: the stories260K checkpoint loads with the shapes
// and values its README documents, an untied classifier is read, and every kind of damaged file
// is refused with a message naming the file and the problem.

#include <rotq/model/llama2_checkpoint.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "support/shared_data.hpp"
#include "support/temp_dir.hpp"

namespace {

using rotq::model::llama2_model;
using rotq::model::load_llama2_checkpoint;
using rotq_test::read_file;
using rotq_test::temp_file;

std::string model_path() { return rotq_test::shared_file("models/stories260K.bin"); }

void put_int32(std::string& bytes, std::size_t offset, std::int32_t value) {
  std::memcpy(&bytes[offset], &value, sizeof value);
}

void put_float(std::string& bytes, std::size_t offset, float value) {
  std::memcpy(&bytes[offset], &value, sizeof value);
}

float get_float(const std::string& bytes, std::size_t offset) {
  float value;
  std::memcpy(&value, &bytes[offset], sizeof value);
  return value;
}

// The tensor order and shapes of stories260K.bin, from the models README (not from the loader):
// the float index at which each tensor starts.
constexpr std::size_t dim = 64, hidden = 172, layers = 5, kv_dim = 32, vocab = 512;
constexpr std::size_t embedding_at = 0;
constexpr std::size_t rms_att_at = embedding_at + vocab * dim;
constexpr std::size_t wq_at = rms_att_at + layers * dim;
constexpr std::size_t wk_at = wq_at + layers * dim * dim;
constexpr std::size_t wv_at = wk_at + layers * kv_dim * dim;
constexpr std::size_t wo_at = wv_at + layers * kv_dim * dim;
constexpr std::size_t rms_ffn_at = wo_at + layers * dim * dim;
constexpr std::size_t w1_at = rms_ffn_at + layers * dim;
constexpr std::size_t w2_at = w1_at + layers * hidden * dim;
constexpr std::size_t w3_at = w2_at + layers * dim * hidden;
constexpr std::size_t rms_final_at = w3_at + layers * hidden * dim;
constexpr std::size_t freq_cis_at = rms_final_at + dim;
constexpr std::size_t float_count = freq_cis_at + 2 * 512 * 4;
static_assert(28 + 4 * float_count == 1056540, "the README's file size");

std::size_t byte_of(std::size_t float_index) { return 28 + 4 * float_index; }

}  // namespace

TEST_CASE("stories260K loads with the README's header and tensor layout", "[model][checkpoint]") {
  const llama2_model m = load_llama2_checkpoint(model_path());
  const rotq::model::llama2_config& c = m.config;
  CHECK(c.dim == 64);
  CHECK(c.hidden_dim == 172);
  CHECK(c.n_layers == 5);
  CHECK(c.n_heads == 8);
  CHECK(c.n_kv_heads == 4);
  CHECK(c.vocab_size == 512);
  CHECK(c.seq_len == 512);
  CHECK(c.shared_classifier);
  CHECK(c.head_size() == 8);
  CHECK(c.kv_dim() == 32);
  REQUIRE(m.layers.size() == 5);
  CHECK_NOTHROW(rotq::model::validate_shapes(m));
  CHECK(m.classifier == m.token_embedding);

  // Every tensor, checked element for element against the raw file at the README's offsets.
  const std::string raw = read_file(model_path());
  const auto expect_tensor = [&](const auto& tensor, std::size_t start) {
    bool same = true;
    for (Eigen::Index r = 0; r < tensor.rows(); ++r)
      for (Eigen::Index k = 0; k < tensor.cols(); ++k)
        same &= tensor(r, k) == get_float(raw, byte_of(start + std::size_t(r * tensor.cols() + k)));
    return same;
  };
  CHECK(expect_tensor(m.token_embedding, embedding_at));
  for (std::size_t l = 0; l < layers; ++l) {
    CAPTURE(l);
    const auto& y = m.layers[l];
    CHECK(expect_tensor(y.attention_norm, rms_att_at + l * dim));
    CHECK(expect_tensor(y.wq, wq_at + l * dim * dim));
    CHECK(expect_tensor(y.wk, wk_at + l * kv_dim * dim));
    CHECK(expect_tensor(y.wv, wv_at + l * kv_dim * dim));
    CHECK(expect_tensor(y.wo, wo_at + l * dim * dim));
    CHECK(expect_tensor(y.ffn_norm, rms_ffn_at + l * dim));
    CHECK(expect_tensor(y.w_gate, w1_at + l * hidden * dim));
    CHECK(expect_tensor(y.w_down, w2_at + l * dim * hidden));
    CHECK(expect_tensor(y.w_up, w3_at + l * hidden * dim));
    CHECK(y.w_down.rows() == 64);
    CHECK(y.w_down.cols() == 172);
  }
  CHECK(expect_tensor(m.final_norm, rms_final_at));
}

TEST_CASE("the model is a value: a copy's weights change alone", "[model][checkpoint]") {
  const llama2_model original = load_llama2_checkpoint(model_path());
  llama2_model copy = original;
  copy.layers[2].w_up *= 2.0f;
  copy.classifier.setZero();
  CHECK(original.layers[2].w_up != copy.layers[2].w_up);
  CHECK(original.classifier == original.token_embedding);
  CHECK(copy.token_embedding == original.token_embedding);
}

TEST_CASE("a negative vocab_size reads a separate classifier after the RoPE tables",
          "[model][checkpoint]") {
  std::string bytes = read_file(model_path());
  put_int32(bytes, 20, -512);
  std::vector<float> classifier(vocab * dim);
  for (std::size_t i = 0; i < classifier.size(); ++i)
    classifier[i] = static_cast<float>(std::sin(0.37 * double(i)));
  bytes.append(reinterpret_cast<const char*>(classifier.data()), classifier.size() * sizeof(float));
  const temp_file file("untied.bin", bytes);
  const llama2_model m = load_llama2_checkpoint(file.path());
  CHECK_FALSE(m.config.shared_classifier);
  CHECK(m.config.vocab_size == 512);
  REQUIRE(m.classifier.rows() == 512);
  REQUIRE(m.classifier.cols() == 64);
  CHECK(m.classifier(0, 0) == classifier[0]);
  CHECK(m.classifier(511, 63) == classifier.back());
  CHECK(m.classifier(3, 5) == classifier[3 * 64 + 5]);
  CHECK(m.token_embedding == load_llama2_checkpoint(model_path()).token_embedding);
}

TEST_CASE("damaged checkpoints are refused with the file and the problem named",
          "[model][checkpoint][errors]") {
  const std::string original = read_file(model_path());
  const auto refuses = [](const std::string& name, const std::string& bytes,
                          const std::string& problem) {
    const temp_file file(name, bytes);
    CAPTURE(name);
    CHECK_THROWS_AS(load_llama2_checkpoint(file.path()), rotq::error);
    CHECK_THROWS_WITH(load_llama2_checkpoint(file.path()),
                      Catch::Contains("'" + file.path() + "'") && Catch::Contains(problem));
  };

  SECTION("missing file") {
    const rotq_test::temp_dir dir;
    const std::string missing = dir.file("no_model.bin");
    CHECK_THROWS_WITH(load_llama2_checkpoint(missing),
                      Catch::Contains("cannot open '" + missing + "'"));
  }
  SECTION("shorter than the header") {
    refuses("header_only.bin", original.substr(0, 20), "shorter than the 28-byte");
  }
  SECTION("truncated by one float") {
    refuses("truncated.bin", original.substr(0, original.size() - 4),
            "is 1056536 bytes but its header");
    refuses("truncated.bin", original.substr(0, original.size() - 4), "the file is truncated");
  }
  SECTION("one trailing byte") {
    refuses("trailing.bin", original + '\0', "the file has trailing bytes");
  }
  SECTION("a dimension that is not positive") {
    std::string bytes = original;
    put_int32(bytes, 0, -64);
    refuses("negative_dim.bin", bytes, "header field dim = -64, expected a positive value");
    bytes = original;
    put_int32(bytes, 24, 0);
    refuses("zero_seq_len.bin", bytes, "header field seq_len = 0");
    bytes = original;
    put_int32(bytes, 20, 0);
    refuses("zero_vocab.bin", bytes, "header field vocab_size = 0");
  }
  SECTION("heads that do not divide") {
    std::string bytes = original;
    put_int32(bytes, 16, 3);
    refuses("kv_heads.bin", bytes, "n_heads = 8 is not a multiple of n_kv_heads = 3");
    bytes = original;
    put_int32(bytes, 12, 6);
    put_int32(bytes, 16, 6);
    refuses("heads.bin", bytes, "dim = 64 is not a multiple of n_heads = 6");
    bytes = original;
    put_int32(bytes, 12, 64);
    put_int32(bytes, 16, 64);
    refuses("odd_head.bin", bytes, "head_size = dim / n_heads = 1 is odd");
  }
  SECTION("a header whose sizes overflow 64 bits") {
    std::string bytes = original;
    put_int32(bytes, 0, std::numeric_limits<std::int32_t>::max() - 3);  // 2 heads of even size
    put_int32(bytes, 4, std::numeric_limits<std::int32_t>::max());
    put_int32(bytes, 8, std::numeric_limits<std::int32_t>::max());
    put_int32(bytes, 12, 2);
    put_int32(bytes, 16, 2);
    refuses("huge.bin", bytes, "the file is truncated");
  }
  SECTION("a NaN or infinite weight, named with its tensor, layer and index") {
    std::string bytes = original;
    put_float(bytes, byte_of(wq_at + 1 * dim * dim + 2 * dim + 3),
              std::numeric_limits<float>::quiet_NaN());
    refuses("nan.bin", bytes, "wq of layer 1 has nan at [2, 3]");
    bytes = original;
    put_float(bytes, byte_of(w2_at + 4 * dim * hidden + 63 * hidden + 171),
              -std::numeric_limits<float>::infinity());
    refuses("inf.bin", bytes, "w2 of layer 4 has -inf at [63, 171]");
    bytes = original;
    put_float(bytes, byte_of(embedding_at + 7 * dim + 1), std::numeric_limits<float>::infinity());
    refuses("inf_embedding.bin", bytes, "token_embedding has inf at [7, 1]");
    bytes = original;
    put_float(bytes, byte_of(rms_final_at + 10), std::numeric_limits<float>::quiet_NaN());
    refuses("nan_final.bin", bytes, "rms_final has nan at [0, 10]");
  }
}

TEST_CASE("validate_shapes names a tensor whose shape a pipeline broke",
          "[model][checkpoint][errors]") {
  const llama2_model original = load_llama2_checkpoint(model_path());
  llama2_model m = original;
  m.layers[3].w_down.resize(64, 171);
  CHECK_THROWS_WITH(rotq::model::validate_shapes(m),
                    Catch::Contains("w_down of layer 3 is 64 x 171, expected 64 x 172"));
  m = original;
  m.layers[0].ffn_norm.resize(63);
  CHECK_THROWS_WITH(rotq::model::validate_shapes(m),
                    Catch::Contains("ffn_norm of layer 0 has 63 entries, expected 64"));
  m = original;
  m.layers.pop_back();
  CHECK_THROWS_WITH(rotq::model::validate_shapes(m),
                    Catch::Contains("model.layers has 4 layers, expected 5"));
  m = original;
  m.classifier.resize(511, 64);
  CHECK_THROWS_WITH(rotq::model::validate_shapes(m),
                    Catch::Contains("classifier is 511 x 64, expected 512 x 64"));
  m = original;
  m.config.n_kv_heads = 3;
  CHECK_THROWS_WITH(rotq::model::validate_shapes(m),
                    Catch::Contains("n_heads = 8 is not a multiple of n_kv_heads = 3"));
}
