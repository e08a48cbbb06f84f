// Tests for <rotq/model/stories.hpp>: splitting on <|endoftext|> lines, cleaning a Gutenberg book,
// and the protocol's BOS + encode(story) sequences cut at 512 tokens.

#include <rotq/model/stories.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/shared_data.hpp"
#include "support/shared_model.hpp"

namespace {

using rotq::model::split_stories;
using rotq::model::strip_gutenberg;

using rotq_test::shared_text;

}  // namespace

TEST_CASE("split_stories cuts at whole <|endoftext|> lines and strips each story",
          "[model][stories]") {
  CHECK(split_stories(" a b\n<|endoftext|>\n\n c \n<|endoftext|>\n") ==
        std::vector<std::string>{"a b", "c"});
  // Separator lines may carry whitespace (CRLF included); stories keep their inner lines.
  CHECK(split_stories("one\r\ntwo\r\n  <|endoftext|> \r\nthree") ==
        std::vector<std::string>{"one\r\ntwo", "three"});
  // The marker inside a line is text, not a separator.
  CHECK(split_stories("x <|endoftext|> y") == std::vector<std::string>{"x <|endoftext|> y"});
  // Empty pieces (leading, doubled, trailing separators) are dropped.
  CHECK(split_stories("<|endoftext|>\n<|endoftext|>\nz\n<|endoftext|>") ==
        std::vector<std::string>{"z"});
  CHECK(split_stories("").empty());
  CHECK(split_stories(" \n\t").empty());
}

TEST_CASE("the evaluation text holds 69 stories", "[model][stories]") {
  const std::vector<std::string> stories =
      split_stories(shared_text("models/tinystories_valid_head.txt"));
  REQUIRE(stories.size() == 69);  // the README: the first 69 complete stories
  CHECK(stories[0].rfind("Spot. Spot saw the shiny car", 0) == 0);  // the leading space is gone
  CHECK(stories[1].rfind("Once upon a time, in a big forest", 0) == 0);
  for (const std::string& story : stories) {
    CHECK_FALSE(story.empty());
    CHECK(story.find("<|endoftext|>") == std::string::npos);
    CHECK(story.front() != ' ');
    CHECK(story.back() != '\n');
  }
}

TEST_CASE("strip_gutenberg keeps the body between the markers, without BOM and CR",
          "[model][stories]") {
  const std::string book =
      "\xEF\xBB\xBFThe Project Gutenberg EBook\r\n\r\n*** START OF THIS EBOOK ***\r\n\r\n"
      "Title\r\n\r\nOnce there was a king.\r\n\r\n*** END OF THIS EBOOK ***\r\nLicense\r\n"
      "*** START: FULL LICENSE ***\r\n";
  CHECK(strip_gutenberg(book) == "Title\n\nOnce there was a king.");
  // A lone CR is text, only CRLF pairs become LF.
  CHECK(strip_gutenberg("*** START\na\rb\n*** END") == "a\rb");
  CHECK_THROWS_WITH(strip_gutenberg("no markers\r\n"),
                    Catch::Contains("no line starting with '*** START'"));
  CHECK_THROWS_WITH(strip_gutenberg("*** START ***\nbody\n"),
                    Catch::Contains("no line starting with '*** END'"));
  CHECK_THROWS_WITH(strip_gutenberg("*** START ***"),
                    Catch::Contains("no line starting with '*** END'"));
  // A marker must start its line.
  CHECK_THROWS_WITH(strip_gutenberg("x *** START\nbody\n*** END"),
                    Catch::Contains("no line starting with '*** START'"));
}

TEST_CASE("the Grimm book's body has no header, footer, BOM or CR", "[model][stories]") {
  const std::string raw = shared_text("models/grimms_fairy_tales_pg2591.txt");
  const std::string body = strip_gutenberg(raw);
  CHECK(body.rfind("Produced by Emma Dudding", 0) == 0);
  CHECK(body.find('\r') == std::string::npos);
  CHECK(body.find("*** START") == std::string::npos);
  CHECK(body.find("*** END") == std::string::npos);
  CHECK(body.find("FULL LICENSE") == std::string::npos);
  CHECK(body.find("HANSEL AND GRETEL") != std::string::npos);
  CHECK(body.size() > raw.size() * 9 / 10);
}

TEST_CASE("encode_stories gives BOS + encode(story), cut at max_tokens", "[model][stories]") {
  const rotq::model::tokenizer& vocabulary = rotq_test::tok512();
  const std::vector<std::string> stories =
      split_stories(shared_text("models/tinystories_valid_head.txt"));
  const auto sequences = rotq::model::encode_stories(vocabulary, stories);
  REQUIRE(sequences.size() == stories.size());
  std::size_t cut = 0;
  for (std::size_t s = 0; s < stories.size(); ++s) {
    CAPTURE(s);
    const std::vector<int> encoded = vocabulary.encode(stories[s]);
    const std::vector<int>& tokens = sequences[s];
    REQUIRE(tokens.size() == std::min<std::size_t>(encoded.size() + 1, 512));
    CHECK(tokens[0] == rotq::model::tokenizer::bos_id);
    CHECK(std::equal(tokens.begin() + 1, tokens.end(), encoded.begin()));
    cut += encoded.size() + 1 > 512;
  }
  CHECK(cut > 0);  // at least one story is longer than the context and was cut
  const auto short_ones = rotq::model::encode_stories(vocabulary, {"Hi there", ""}, 2);
  CHECK(short_ones == std::vector<std::vector<int>>{{1, vocabulary.encode("Hi there")[0]}, {1}});
  CHECK_THROWS_WITH(rotq::model::encode_stories(vocabulary, stories, 0),
                    Catch::Contains("max_tokens = 0"));
}

TEST_CASE("split_paragraphs joins non-blank lines and splits at blank ones", "[model][stories]") {
  using rotq::model::split_paragraphs;
  CHECK(split_paragraphs("one\ntwo  \n\n  three\n \t \nfour") ==
        std::vector<std::string>{"one two", "three", "four"});
  CHECK(split_paragraphs("\n\n").empty());
  CHECK(split_paragraphs("").empty());
  CHECK(split_paragraphs("last line without newline") ==
        std::vector<std::string>{"last line without newline"});
}

TEST_CASE("the Grimm book's body splits into many paragraphs", "[model][stories]") {
  const auto paragraphs = rotq::model::split_paragraphs(
      rotq::model::strip_gutenberg(shared_text("models/grimms_fairy_tales_pg2591.txt")));
  CHECK(paragraphs.size() > 500);
  for (const auto& p : paragraphs) {
    CHECK_FALSE(p.empty());
    CHECK(p.find('\n') == std::string::npos);
  }
}
