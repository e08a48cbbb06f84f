#pragma once
// The llama2.c byte-pair tokenizer: its file format, encoding exactly as llama2.c does, and
// decoding for printing.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "rotq/error.hpp"
#include "rotq/model/file_bytes.hpp"

namespace rotq {
namespace model {

namespace detail {

/// The piece llama2.c gives the byte-fallback token of `byte`: "<0xAB>".
inline std::string byte_piece(unsigned char byte) {
  const char* digits = "0123456789ABCDEF";
  return std::string("<0x") + digits[byte >> 4] + digits[byte & 15] + ">";
}

/// What is wrong with a vocabulary, or an empty string when nothing is.
inline std::string vocabulary_problem(const std::vector<std::string>& pieces,
                                      const std::vector<float>& scores) {
  std::ostringstream problem;
  if (pieces.size() != scores.size()) {
    problem << "pieces has " << pieces.size() << " entries but scores has " << scores.size();
    return problem.str();
  }
  if (pieces.size() < 259) {
    problem << "the vocabulary has " << pieces.size()
            << " pieces, expected at least 259 (<unk>, BOS, EOS and 256 byte tokens)";
    return problem.str();
  }
  for (int b = 0; b < 256; ++b) {
    const std::string& piece = pieces[std::size_t(b + 3)];
    if (piece == byte_piece(static_cast<unsigned char>(b))) continue;
    problem << "piece " << b + 3 << " is '" << piece << "', expected '"
            << byte_piece(static_cast<unsigned char>(b))
            << "' (ids 3..258 are the byte-fallback tokens)";
    return problem.str();
  }
  std::unordered_set<std::string_view> seen;
  for (std::size_t id = 0; id < pieces.size(); ++id) {
    if (pieces[id].empty())
      problem << "piece " << id << " is empty";
    else if (!seen.insert(pieces[id]).second)
      problem << "piece " << id << " '" << pieces[id] << "' appears twice";
    else if (!std::isfinite(scores[id]))  // a NaN would leave the merge order undefined
      problem << "piece " << id << " '" << pieces[id] << "' has score " << scores[id]
              << ", expected a finite score";
    else
      continue;
    return problem.str();
  }
  return {};
}

}  // namespace detail

/// A llama2.c vocabulary: token pieces (byte strings) with merge scores. Ids 0, 1 and 2 are
/// `<unk>`, BOS and EOS; ids 3..258 are the byte-fallback tokens `<0x00>`..`<0xFF>`. A copyable
/// value; every member function is const and safe to call from several threads at once.
class tokenizer {
public:
  static constexpr int unknown_id = 0;
  static constexpr int bos_id = 1;
  static constexpr int eos_id = 2;
  /// Byte b that no piece covers is encoded as token b + byte_fallback_offset.
  static constexpr int byte_fallback_offset = 3;

  /// Throws rotq::error unless `pieces` and `scores` have the same length, no piece is empty, no
  /// piece appears twice, and ids 3..258 are the byte-fallback pieces `<0x00>`..`<0xFF>`.
  tokenizer(std::vector<std::string> pieces, std::vector<float> scores)
      : pieces_(std::move(pieces)), scores_(std::move(scores)) {
    const std::string problem = detail::vocabulary_problem(pieces_, scores_);
    ROTQ_EXPECTS(problem.empty(), problem);
    ids_.reserve(pieces_.size());
    for (std::size_t id = 0; id < pieces_.size(); ++id)
      ids_.emplace(pieces_[id], static_cast<int>(id));
  }

  std::size_t size() const { return pieces_.size(); }

  /// The bytes of token `id`; throws rotq::error for an id outside 0..size()-1.
  const std::string& piece(int id) const {
    expect_id(id);
    return pieces_[std::size_t(id)];
  }

  /// The merge score of token `id`: a larger score merges first.
  float score(int id) const {
    expect_id(id);
    return scores_[std::size_t(id)];
  }

  /// The id of the token whose bytes are exactly `piece`, if there is one.
  std::optional<int> find(const std::string& piece) const {
    const auto it = ids_.find(piece);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }

  /// Encodes `text` (UTF-8 bytes) as llama2.c does, without BOS or EOS: a dummy-prefix space
  /// token when the text is not empty, then one token per UTF-8 code point (at most 4 bytes;
  /// a code point with no piece becomes its bytes' fallback tokens, byte b -> b + 3), then,
  /// repeatedly, the adjacent pair whose concatenated piece has the highest score is merged
  /// (the leftmost such pair on a tie) until no pair concatenates to a piece. Runs in
  /// O(n log n) with a heap rather than llama2.c's O(n²) scans; the merges are the same.
  std::vector<int> encode(std::string_view text) const {
    std::vector<int> symbols;
    if (text.empty()) return symbols;
    append_code_point(" ", symbols);
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      // A code point ends before a byte that does not continue it, or after 4 bytes.
      const bool continued = i + 1 < text.size() && is_continuation(text[i + 1]);
      if (continued && i + 1 - start < 4) continue;
      append_code_point(text.substr(start, i + 1 - start), symbols);
      start = i + 1;
    }
    return merge_pairs(std::move(symbols));
  }

  /// The text llama2.c prints for `id` when it follows `previous`: the piece, without its leading
  /// space right after BOS, and the raw byte for a byte-fallback token. Throws rotq::error for an
  /// id outside the vocabulary (`previous` may be any value; only BOS matters).
  std::string decode(int previous, int id) const {
    const std::string& text = piece(id);
    if (id >= byte_fallback_offset && id < byte_fallback_offset + 256)
      return std::string(1, static_cast<char>(id - byte_fallback_offset));
    if (previous == bos_id && text.front() == ' ') return text.substr(1);
    return text;
  }

  /// The text of a token sequence as llama2.c prints it: BOS and EOS print nothing, every other
  /// token decode(previous, id). So `decode({bos_id} + encode(s)) == s`: the dummy prefix is
  /// dropped again and byte-fallback tokens give back their bytes. Throws rotq::error for an id
  /// outside the vocabulary.
  std::string decode(const std::vector<int>& ids) const {
    std::string text;
    int previous = -1;
    for (const int id : ids) {
      if (id != bos_id && id != eos_id) text += decode(previous, id);
      previous = id;
    }
    return text;
  }

private:
  static bool is_continuation(char byte) {
    return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
  }

  void expect_id(int id) const {
    ROTQ_EXPECTS(
        id >= 0 && std::size_t(id) < pieces_.size(),
        "token id " << id << " is outside the vocabulary of " << pieces_.size() << " tokens");
  }

  void append_code_point(std::string_view code_point, std::vector<int>& symbols) const {
    if (const auto it = ids_.find(std::string(code_point)); it != ids_.end()) {
      symbols.push_back(it->second);
      return;
    }
    for (const char byte : code_point)
      symbols.push_back(static_cast<unsigned char>(byte) + byte_fallback_offset);
  }

  // A candidate merge of the symbols at `left` and `right` (positions in the initial sequence),
  // valid while both still hold the tokens they held when it was proposed and are adjacent.
  struct candidate {
    float score;
    std::size_t left, right;
    int left_id, right_id, merged_id;
  };

  std::vector<int> merge_pairs(std::vector<int> symbols) const {
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    const std::size_t n = symbols.size();
    std::vector<std::size_t> next(n), previous(n);
    for (std::size_t i = 0; i < n; ++i) {
      next[i] = i + 1 < n ? i + 1 : none;
      previous[i] = i > 0 ? i - 1 : none;
    }
    // Highest score first; on equal scores, the leftmost pair, as llama2.c's scan picks it.
    const auto later = [](const candidate& a, const candidate& b) {
      return a.score != b.score ? a.score < b.score : a.left > b.left;
    };
    std::priority_queue<candidate, std::vector<candidate>, decltype(later)> heap(later);
    const auto propose = [&](std::size_t left) {
      if (left == none || next[left] == none) return;
      const std::size_t right = next[left];
      const auto it =
          ids_.find(pieces_[std::size_t(symbols[left])] + pieces_[std::size_t(symbols[right])]);
      if (it == ids_.end()) return;
      heap.push({scores_[std::size_t(it->second)], left, right, symbols[left], symbols[right],
                 it->second});
    };
    for (std::size_t i = 0; i + 1 < n; ++i) propose(i);
    while (!heap.empty()) {
      const candidate c = heap.top();
      heap.pop();
      if (next[c.left] != c.right || symbols[c.left] != c.left_id || symbols[c.right] != c.right_id)
        continue;
      symbols[c.left] = c.merged_id;
      symbols[c.right] = -1;
      next[c.left] = next[c.right];
      if (next[c.right] != none) previous[next[c.right]] = c.left;
      propose(previous[c.left]);
      propose(c.left);
    }
    std::vector<int> merged;
    for (std::size_t i = 0; i != none; i = next[i]) merged.push_back(symbols[i]);
    return merged;
  }

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int> ids_;
};

/// Reads a llama2.c tokenizer file: int32 max_token_length, then per token a float32 score, an
/// int32 length (1..max_token_length) and that many bytes, to the end of the file. With
/// `expected_size > 0` the file must hold exactly that many tokens (llama2.c takes the count from
/// the model's vocab_size). Throws rotq::error naming the file and the problem: unreadable,
/// truncated inside an entry, a bad length, a wrong count, or a vocabulary the tokenizer
/// constructor refuses.
inline tokenizer load_tokenizer(const std::string& path, std::size_t expected_size = 0) {
  const std::string bytes = read_file_bytes(path);
  byte_reader reader(bytes.data(), bytes.size());
  ROTQ_EXPECTS(reader.remaining() >= 4, "'" << path << "' is " << bytes.size()
                                            << " bytes, too short for a tokenizer header");
  const std::int32_t max_length = reader.read_int32();
  ROTQ_EXPECTS(max_length > 0, "'" << path << "': max_token_length = " << max_length
                                   << ", expected a positive value");
  std::vector<std::string> pieces;
  std::vector<float> scores;
  while (reader.remaining() > 0) {
    const std::size_t id = pieces.size();
    ROTQ_EXPECTS(reader.remaining() >= 8, "'" << path << "' is truncated in the header of token "
                                              << id << " (byte offset " << reader.offset() << ")");
    scores.push_back(reader.read_float32());
    const std::int32_t length = reader.read_int32();
    ROTQ_EXPECTS(length > 0 && length <= max_length,
                 "'" << path << "': token " << id << " has length " << length << ", expected 1.."
                     << max_length << " (byte offset " << reader.offset() - 4 << ")");
    ROTQ_EXPECTS(reader.remaining() >= std::size_t(length),
                 "'" << path << "' is truncated in the bytes of token " << id << " (needs "
                     << length << ", " << reader.remaining() << " left)");
    pieces.push_back(reader.read_bytes(std::size_t(length)));
  }
  ROTQ_EXPECTS(expected_size == 0 || pieces.size() == expected_size,
               "'" << path << "' holds " << pieces.size() << " tokens, expected " << expected_size);
  const std::string problem = detail::vocabulary_problem(pieces, scores);
  ROTQ_EXPECTS(problem.empty(), "'" << path << "': " << problem);
  return tokenizer(std::move(pieces), std::move(scores));
}

}  // namespace model
}  // namespace rotq
