// Tests for <rotq/model/file_bytes.hpp>: whole-file reads and the little-endian byte cursor.

#include <rotq/model/file_bytes.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

TEST_CASE("read_file_bytes returns every byte, NULs and high bytes included", "[model][file]") {
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes += static_cast<char>((i * 7919) & 0xFF);
  const rotq_test::temp_dir dir;
  const std::string path = dir.file("bytes.bin");
  rotq_test::write_file(path, bytes);
  CHECK(rotq::model::read_file_bytes(path) == bytes);
  rotq_test::write_file(path, "");
  CHECK(rotq::model::read_file_bytes(path).empty());
}

TEST_CASE("read_file_bytes names the file and the reason it cannot be read",
          "[model][file][errors]") {
  const rotq_test::temp_dir dir;
  const std::string missing = dir.file("no_such_file.bin");
  CHECK_THROWS_AS(rotq::model::read_file_bytes(missing), rotq::error);
  CHECK_THROWS_WITH(rotq::model::read_file_bytes(missing),
                    Catch::Contains("cannot open '" + missing + "'") &&
                        Catch::Contains("No such file or directory"));
}

TEST_CASE("read_file_bytes refuses a character device, which never ends", "[model][file][errors]") {
  // /dev/zero would be read until memory ran out.
  REQUIRE(std::filesystem::is_character_file("/dev/zero"));
  CHECK_THROWS_AS(rotq::model::read_file_bytes("/dev/zero"), rotq::error);
  CHECK_THROWS_WITH(rotq::model::read_file_bytes("/dev/zero"),
                    Catch::Contains("'/dev/zero' is a character device; expected a file"));
}

TEST_CASE("byte_reader decodes little-endian int32 and float32 in sequence", "[model][file]") {
  // 0x01020304 as -2 int32 and 1.5f (0x3FC00000), written byte by byte, least significant first.
  const unsigned char raw[] = {0xFE, 0xFF, 0xFF, 0xFF, 0x04, 0x03, 0x02, 0x01,
                               0x00, 0x00, 0xC0, 0x3F, 'a',  'b',  'c'};
  const std::string bytes(reinterpret_cast<const char*>(raw), sizeof raw);
  rotq::model::byte_reader reader(bytes.data(), bytes.size());
  CHECK(reader.read_int32() == -2);
  CHECK(reader.read_int32() == 0x01020304);
  CHECK(reader.read_float32() == 1.5f);
  CHECK(reader.offset() == 12);
  CHECK(reader.remaining() == 3);
  reader.skip(1);
  CHECK(reader.read_bytes(2) == "bc");
  CHECK(reader.remaining() == 0);
  CHECK_THROWS_WITH(reader.read_int32(),
                    Catch::Contains("reading 4 bytes at offset 15 of a 15-byte buffer"));
  CHECK_THROWS_AS(reader.skip(1), rotq::error);
}

TEST_CASE("byte_reader copies runs of float32", "[model][file]") {
  const float values[] = {0.25f, -3.0f, 1e-30f, 7.5f};
  const std::string bytes(reinterpret_cast<const char*>(values), sizeof values);
  rotq::model::byte_reader reader(bytes.data(), bytes.size());
  float out[4] = {};
  reader.read_float32s(out, 4);
  for (int i = 0; i < 4; ++i) CHECK(out[i] == values[i]);
  CHECK_THROWS_AS(reader.read_float32s(out, 1), rotq::error);
}
