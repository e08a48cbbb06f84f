#pragma once
// Evaluation text: splitting TinyStories-style text into stories, cleaning a Project Gutenberg
// book, and encoding stories as the evaluation protocol's token sequences.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rotq/error.hpp"
#include "rotq/model/tokenizer.hpp"

namespace rotq {
namespace model {

namespace detail {

inline std::string_view strip_whitespace(std::string_view text) {
  constexpr std::string_view whitespace = " \t\n\r\f\v";
  const std::size_t first = text.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(whitespace) - first + 1);
}

}  // namespace detail

/// The stories of a TinyStories text: the pieces between lines that read `<|endoftext|>`
/// (surrounding whitespace on that line ignored), each stripped of surrounding whitespace, in
/// order. Pieces that are empty after stripping (before the first separator, after the last,
/// between two adjacent ones) are dropped, so a text ending in a separator has no empty story.
inline std::vector<std::string> split_stories(std::string_view text) {
  constexpr std::string_view separator = "<|endoftext|>";
  std::vector<std::string> stories;
  std::size_t story_start = 0, line_start = 0;
  const auto close_story = [&](std::size_t end) {
    const std::string_view story =
        detail::strip_whitespace(text.substr(story_start, end - story_start));
    if (!story.empty()) stories.emplace_back(story);
  };
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    if (detail::strip_whitespace(text.substr(line_start, line_end - line_start)) == separator) {
      close_story(line_start);
      story_start = line_end;
    }
    line_start = line_end + 1;
  }
  close_story(text.size());
  return stories;
}

/// The body of a Project Gutenberg text: a leading UTF-8 byte-order mark removed, CRLF turned
/// into LF, and only the lines strictly between the first line starting with `*** START` and
/// the next line starting with `*** END` kept, stripped of surrounding whitespace. Throws
/// rotq::error when either marker line is missing.
inline std::string strip_gutenberg(std::string_view text) {
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  if (text.substr(0, bom.size()) == bom) text.remove_prefix(bom.size());
  std::string unix_text;
  unix_text.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i)
    if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) unix_text += text[i];

  const std::string_view lines = unix_text;
  // `from` is always the start of a line.
  const auto find_line_starting = [&](std::string_view prefix, std::size_t from) {
    while (from < lines.size()) {
      if (lines.substr(from, prefix.size()) == prefix) return from;
      const std::size_t newline = lines.find('\n', from);
      if (newline == std::string_view::npos) break;
      from = newline + 1;
    }
    return std::string_view::npos;
  };
  const std::size_t start_marker = find_line_starting("*** START", 0);
  ROTQ_EXPECTS(start_marker != std::string_view::npos,
               "text (" << text.size() << " bytes) has no line starting with '*** START': "
                        << "not a Project Gutenberg text");
  const std::size_t body_start = lines.find('\n', start_marker);
  const std::size_t end_marker = body_start == std::string_view::npos
                                     ? std::string_view::npos
                                     : find_line_starting("*** END", body_start + 1);
  ROTQ_EXPECTS(end_marker != std::string_view::npos,
               "text has no line starting with '*** END' after its '*** START' line");
  return std::string(detail::strip_whitespace(lines.substr(body_start, end_marker - body_start)));
}

/// The paragraphs of a plain text (e.g. strip_gutenberg's result): runs of non-blank lines, each
/// joined with single spaces and stripped of surrounding whitespace, in order. Blank lines (only
/// whitespace) separate paragraphs; a text of blank lines has none.
inline std::vector<std::string> split_paragraphs(std::string_view text) {
  std::vector<std::string> paragraphs;
  std::string current;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t newline = text.find('\n', start);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    const std::string_view line = detail::strip_whitespace(text.substr(start, end - start));
    if (line.empty()) {
      if (!current.empty()) paragraphs.push_back(std::move(current));
      current.clear();
    } else {
      if (!current.empty()) current += ' ';
      current += line;
    }
    if (newline == std::string_view::npos) break;
    start = newline + 1;
  }
  if (!current.empty()) paragraphs.push_back(std::move(current));
  return paragraphs;
}

/// The evaluation protocol's token sequences: for each story, BOS followed by
/// `vocabulary.encode(story)`, cut to its first `max_tokens` tokens (BOS included). Throws
/// rotq::error for max_tokens = 0.
inline std::vector<std::vector<int>> encode_stories(const tokenizer& vocabulary,
                                                    const std::vector<std::string>& stories,
                                                    std::size_t max_tokens = 512) {
  ROTQ_EXPECTS(max_tokens > 0, "max_tokens = 0, expected at least 1 (room for BOS)");
  std::vector<std::vector<int>> sequences;
  sequences.reserve(stories.size());
  for (const std::string& story : stories) {
    std::vector<int> tokens{tokenizer::bos_id};
    const std::vector<int> encoded = vocabulary.encode(story);
    tokens.insert(tokens.end(), encoded.begin(), encoded.end());
    if (tokens.size() > max_tokens) tokens.resize(max_tokens);
    sequences.push_back(std::move(tokens));
  }
  return sequences;
}

}  // namespace model
}  // namespace rotq
