// Tests for <rotq/model/tokenizer.hpp>: the llama2.c BPE against hand-derived encodings, a
// straightforward llama2.c-style reference encoder, round trips of whole texts, and the file and
// id errors.

#include <rotq/model/tokenizer.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "support/shared_data.hpp"
#include "support/shared_model.hpp"
#include "support/temp_dir.hpp"

namespace {

using rotq::model::load_tokenizer;
using rotq::model::tokenizer;
using rotq_test::shared_text;
using rotq_test::temp_file;
using rotq_test::tok512;

std::vector<int> with_bos(const std::vector<int>& ids) {
  std::vector<int> out{tokenizer::bos_id};
  out.insert(out.end(), ids.begin(), ids.end());
  return out;
}

/// llama2.c's encoder written as plainly as possible: a map from piece to id, a byte-fallback
/// loop per code point, and an O(n²) scan for the best pair on every merge.
std::vector<int> reference_encode(const tokenizer& t, const std::string& text) {
  std::map<std::string, int> ids;
  for (int id = 0; id < int(t.size()); ++id) ids[t.piece(id)] = id;
  std::vector<int> tokens;
  if (text.empty()) return tokens;
  tokens.push_back(ids.at(" "));
  std::string buffer;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0) != 0x80) buffer.clear();
    buffer += text[i];
    const bool next_continues =
        i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80;
    if (next_continues && buffer.size() < 4) continue;
    if (ids.count(buffer))
      tokens.push_back(ids[buffer]);
    else
      for (const char b : buffer) tokens.push_back(static_cast<unsigned char>(b) + 3);
    buffer.clear();
  }
  while (true) {
    float best_score = -1e10f;
    int best_id = -1;
    std::size_t best_at = 0;
    for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
      const auto it = ids.find(t.piece(tokens[i]) + t.piece(tokens[i + 1]));
      if (it != ids.end() && t.score(it->second) > best_score) {
        best_score = t.score(it->second);
        best_id = it->second;
        best_at = i;
      }
    }
    if (best_id < 0) break;
    tokens[best_at] = best_id;
    tokens.erase(tokens.begin() + std::ptrdiff_t(best_at) + 1);
  }
  return tokens;
}

/// A vocabulary of <unk>, BOS, EOS, the 256 byte tokens, then `extra` pieces with their scores.
tokenizer small_vocabulary(const std::vector<std::pair<std::string, float>>& extra) {
  std::vector<std::string> pieces{"<unk>", "\n<s>\n", "\n</s>\n"};
  const char* digits = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b)
    pieces.push_back(std::string("<0x") + digits[b >> 4] + digits[b & 15] + ">");
  std::vector<float> scores(pieces.size(), 0.0f);
  for (const auto& [piece, score] : extra) {
    pieces.push_back(piece);
    scores.push_back(score);
  }
  return tokenizer(pieces, scores);
}

/// A tokenizer file: max_token_length, then (score, length, bytes) per entry.
std::string tokenizer_file(std::int32_t max_length,
                           const std::vector<std::pair<std::string, float>>& entries) {
  std::string bytes(reinterpret_cast<const char*>(&max_length), 4);
  for (const auto& [piece, score] : entries) {
    const auto length = static_cast<std::int32_t>(piece.size());
    bytes.append(reinterpret_cast<const char*>(&score), 4);
    bytes.append(reinterpret_cast<const char*>(&length), 4);
    bytes += piece;
  }
  return bytes;
}

}  // namespace

TEST_CASE("tok512.bin loads as the README describes it", "[model][tokenizer]") {
  const tokenizer t = tok512();
  CHECK(t.size() == 512);
  CHECK(t.piece(tokenizer::unknown_id) == "<unk>");
  CHECK(t.piece(tokenizer::bos_id) == "\n<s>\n");
  CHECK(t.piece(tokenizer::eos_id) == "\n</s>\n");
  CHECK(t.piece(3) == "<0x00>");
  CHECK(t.piece(3 + 0x41) == "<0x41>");
  CHECK(t.piece(258) == "<0xFF>");
  CHECK(t.find(" Lily") == 317);
  CHECK_FALSE(t.find("\n").has_value());
  CHECK(t.score(259) > t.score(260));  // merges were written best first
}

TEST_CASE("known encodings, derived from the tok512 vocabulary by hand", "[model][tokenizer]") {
  const tokenizer t = tok512();
  // Every word of the prompt is a piece of its own with its leading space (" Once" = 403,
  // " upon" = 407, " a" = 261, " time" = 378), and each is reachable by merges of pieces
  // that exist (" On" + "ce", " u" + "p" ... ), so BPE ends at one token per word.
  CHECK(t.encode("Once upon a time") == std::vector<int>{403, 407, 261, 378});
  // "the": " t" (score 0) merges first, then "he" (-1) beats " th" (-49); " t" + "he" = " the".
  CHECK(t.encode("the") == std::vector<int>{265});
  // No piece for '\n' (byte fallback 0x0A + 3 = 13) and none starting with it; the dummy-prefix
  // space stays alone (410) because " \n" is no piece either.
  CHECK(t.encode("\nLily") == std::vector<int>{410, 13, 438, 310});
  CHECK(t.encode("").empty());
}

TEST_CASE("merges pick the highest-scoring pair, the leftmost on ties", "[model][tokenizer]") {
  // Pieces start at id 259.
  const tokenizer high_right = small_vocabulary(
      {{" ", -9}, {"a", -9}, {"b", -9}, {"c", -9}, {"ab", -2}, {"bc", -1}, {" a", -5}});
  // " a b c": "bc" (-1) beats "ab" (-2) and " a" (-5); then " a" merges; "a"+"bc" is no piece.
  CHECK(high_right.encode("abc") == std::vector<int>{265, 264});
  const tokenizer high_left = small_vocabulary(
      {{" ", -9}, {"a", -9}, {"b", -9}, {"c", -9}, {"ab", -1}, {"bc", -2}, {" ab", -5}});
  // "ab" (-1) first, then " ab" (-5); "bc" never forms because b is gone.
  CHECK(high_left.encode("abc") == std::vector<int>{265, 262});
  const tokenizer tie = small_vocabulary({{" ", -9}, {"a", -9}, {"aa", -1}});
  // " a a a": both "aa" pairs tie; the leftmost merges, leaving " ", "aa", "a".
  CHECK(tie.encode("aaa") == std::vector<int>{259, 261, 260});
}

TEST_CASE("code points without a piece fall back to their bytes", "[model][tokenizer]") {
  const tokenizer t = tok512();
  // U+00FC (c3 bc) and U+1F600 (f0 9f 98 80) have no piece; U+00E9 (c3 a9) has one (485).
  CHECK(t.encode("\xC3\xBC") == std::vector<int>{410, 0xC3 + 3, 0xBC + 3});
  CHECK(t.encode("\xF0\x9F\x98\x80") ==
        std::vector<int>{410, 0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3});
  CHECK(t.encode("\xC3\xA9") == std::vector<int>{410, 485});
  // A stray continuation byte is a code point of its own.
  CHECK(t.encode("\x80") == std::vector<int>{410, 0x80 + 3});
  CHECK(t.decode(with_bos(t.encode("\xC3\xBC\xF0\x9F\x98\x80"))) == "\xC3\xBC\xF0\x9F\x98\x80");
}

TEST_CASE("encode matches a plain llama2.c-style encoder on real stories", "[model][tokenizer]") {
  const tokenizer t = tok512();
  const std::string text = shared_text("models/tinystories_valid_head.txt");
  // Slices of the evaluation text, cut at arbitrary places, plus unicode the vocabulary lacks.
  for (const std::size_t start : {0, 4321, 20011, 40000}) {
    const std::string slice = text.substr(start, 1500);
    CAPTURE(start);
    CHECK(t.encode(slice) == reference_encode(t, slice));
  }
  const std::string mixed = "Grüße, \xE2\x80\x9CLily\xE2\x80\x9D said \xF0\x9F\x98\x80 ...";
  CHECK(t.encode(mixed) == reference_encode(t, mixed));
}

TEST_CASE("whole texts round-trip through encode and decode", "[model][tokenizer]") {
  const tokenizer t = tok512();
  const std::string stories = shared_text("models/tinystories_valid_head.txt");
  const std::vector<int> ids = t.encode(stories);
  CHECK(ids.size() < stories.size() / 2);  // BPE compresses English text
  CHECK(t.decode(with_bos(ids)) == stories);
  const std::string grimm = shared_text("models/grimms_fairy_tales_pg2591.txt");
  CHECK(t.decode(with_bos(t.encode(grimm))) == grimm);
  // Without BOS the dummy-prefix space is printed.
  CHECK(t.decode(t.encode("Hi")) == " Hi");
}

TEST_CASE("decode prints pieces as llama2.c does", "[model][tokenizer]") {
  const tokenizer t = tok512();
  CHECK(t.decode(tokenizer::bos_id, 317) == "Lily");  // leading space dropped after BOS
  CHECK(t.decode(261, 317) == " Lily");
  CHECK(t.decode(261, 0x0A + 3) == "\n");
  CHECK(t.decode(tokenizer::bos_id, 3) == std::string(1, '\0'));
  CHECK(t.decode(std::vector<int>{tokenizer::bos_id, 317, 13, tokenizer::eos_id}) == "Lily\n");
  CHECK_THROWS_WITH(t.decode(1, 512),
                    Catch::Contains("token id 512 is outside the vocabulary of 512 tokens"));
  CHECK_THROWS_WITH(t.decode(std::vector<int>{1, -1}), Catch::Contains("token id -1"));
}

TEST_CASE("the 32000-token Llama 2 vocabulary loads and encodes as Llama does",
          "[model][tokenizer]") {
  const tokenizer t = load_tokenizer(rotq_test::shared_file("models/tokenizer.bin"), 32000);
  CHECK(t.size() == 32000);
  // The ids SentencePiece gives "▁Hello" and "▁world" in Llama 2.
  CHECK(t.encode("Hello world") == std::vector<int>{15043, 3186});
  const std::string text = shared_text("models/tinystories_valid_head.txt").substr(0, 3000);
  CHECK(t.encode(text) == reference_encode(t, text));
  CHECK(t.decode(with_bos(t.encode(text))) == text);
}

TEST_CASE("damaged tokenizer files are refused with the file and the problem named",
          "[model][tokenizer][errors]") {
  std::vector<std::pair<std::string, float>> entries{{"<unk>", 0}, {"\n<s>\n", 0}, {"\n</s>\n", 0}};
  const char* digits = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b)
    entries.push_back({std::string("<0x") + digits[b >> 4] + digits[b & 15] + ">", 0});
  entries.push_back({" ", -1});
  const std::string good = tokenizer_file(7, entries);
  {
    const temp_file file("good.bin", good);
    CHECK(load_tokenizer(file.path()).size() == 260);
  }
  const auto refuses = [](const std::string& name, const std::string& bytes,
                          const std::string& problem, std::size_t expected_size = 0) {
    const temp_file file(name, bytes);
    CAPTURE(name);
    CHECK_THROWS_AS(load_tokenizer(file.path(), expected_size), rotq::error);
    CHECK_THROWS_WITH(load_tokenizer(file.path(), expected_size),
                      Catch::Contains("'" + file.path() + "'") && Catch::Contains(problem));
  };
  refuses("empty.bin", "", "too short for a tokenizer header");
  refuses("bad_max.bin", tokenizer_file(0, entries), "max_token_length = 0");
  refuses("cut_header.bin", good.substr(0, good.size() - 6),
          "truncated in the header of token 259");
  refuses("cut_bytes.bin", good.substr(0, good.size() - 1), "truncated in the bytes of token 259");
  refuses("too_long.bin", tokenizer_file(5, entries), "token 2 has length 6, expected 1..5");
  std::string zero_length = good;
  const std::int32_t zero = 0;
  std::memcpy(&zero_length[good.size() - 5], &zero, 4);  // the last entry's length field
  refuses("zero_length.bin", zero_length, "token 259 has length 0");
  refuses("count.bin", good, "holds 260 tokens, expected 512", 512);
  auto swapped = entries;
  std::swap(swapped[3], swapped[4]);
  refuses("swapped.bin", tokenizer_file(7, swapped), "piece 3 is '<0x01>', expected '<0x00>'");
  auto repeated = entries;
  repeated.push_back({" ", -2});
  refuses("repeated.bin", tokenizer_file(7, repeated), "piece 260 ' ' appears twice");
  auto unscored = entries;
  unscored.back().second = std::numeric_limits<float>::quiet_NaN();
  refuses("nan_score.bin", tokenizer_file(7, unscored), "piece 259 ' ' has score nan");
  CHECK_THROWS_WITH(load_tokenizer("/nonexistent/tok.bin"),
                    Catch::Contains("cannot open '/nonexistent/tok.bin'"));
}

TEST_CASE("the constructor checks the vocabulary", "[model][tokenizer][errors]") {
  CHECK_THROWS_WITH(tokenizer({"a"}, {0.0f, 1.0f}),
                    Catch::Contains("pieces has 1 entries but scores has 2"));
  CHECK_THROWS_WITH(tokenizer({"<unk>"}, {0.0f}), Catch::Contains("expected at least 259"));
  CHECK_THROWS_WITH(small_vocabulary({{"", 0}}), Catch::Contains("piece 259 is empty"));
}
