// Tests for <rotq/safetensors.hpp>: a file assembled byte by byte reads back as written; round
// trips are exact; every kind of malformed file is rejected with a message naming it.

#include <rotq/safetensors.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>

#include "support/temp_dir.hpp"

namespace {

void write_raw(const std::string& path, const std::string& header,
               const std::vector<std::uint8_t>& data) {
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

std::vector<std::uint8_t> float_bytes(std::initializer_list<float> values) {
  std::vector<std::uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

}  // namespace

TEST_CASE("a safetensors file assembled by hand reads back", "[safetensors]") {
  rotq_test::temp_dir dir;
  const std::string path = dir.file("hand.safetensors");
  auto data = float_bytes({1.5f, -2.0f, 3.25f, 4.0f, 5.0f, 6.0f});
  data.push_back(7);
  data.push_back(9);
  write_raw(path,
            R"({"__metadata__":{"who":"test \"quoted\" \u00e9"},)"
            R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
            R"("b":{"dtype":"U8","shape":[2],"data_offsets":[24,26]}}  )",
            data);
  const rotq::safetensors_file f = rotq::read_safetensors(path);
  CHECK(f.metadata.at("who") == "test \"quoted\" \xc3\xa9");
  const rotq::tensor_record* w = f.find("w");
  REQUIRE(w != nullptr);
  CHECK(w->shape == std::vector<std::size_t>{2, 3});
  CHECK(w->values<float>() == std::vector<float>{1.5f, -2.0f, 3.25f, 4.0f, 5.0f, 6.0f});
  CHECK(f.find("b")->values<std::uint8_t>() == std::vector<std::uint8_t>{7, 9});
  CHECK(f.find("missing") == nullptr);
}

TEST_CASE("write then read is exact and the data starts 8-byte aligned", "[safetensors]") {
  rotq_test::temp_dir dir;
  const std::string path = dir.file("round.safetensors");
  rotq::safetensors_file f;
  f.metadata["note"] = "line\nbreak";
  const std::vector<double> d = {0.1, -1e300, 5e-324};
  const std::vector<std::int64_t> i = {-1, 0, 1LL << 62};
  f.tensors.push_back(
      rotq::tensor_record::from_values("d", rotq::tensor_dtype::f64, {3}, d.data(), 3));
  f.tensors.push_back(
      rotq::tensor_record::from_values("i", rotq::tensor_dtype::i64, {1, 3}, i.data(), 3));
  f.tensors.push_back(rotq::tensor_record{"empty", rotq::tensor_dtype::f32, {0, 4}, {}});
  rotq::write_safetensors(path, f);
  const auto g = rotq::read_safetensors(path);
  CHECK(g.metadata == f.metadata);
  CHECK(g.find("d")->values<double>() == d);
  CHECK(g.find("i")->values<std::int64_t>() == i);
  CHECK(g.find("empty")->element_count() == 0);
  std::ifstream in(path, std::ios::binary);
  std::uint64_t header = 0;
  in.read(reinterpret_cast<char*>(&header), 8);
  CHECK(header % 8 == 0);
}

TEST_CASE("malformed safetensors files are rejected with the file and the problem named",
          "[safetensors][errors]") {
  rotq_test::temp_dir dir;
  const std::string path = dir.file("bad.safetensors");
  const auto six = float_bytes({1, 2, 3, 4, 5, 6});
  auto check = [&](const std::string& header, const std::vector<std::uint8_t>& data,
                   const std::string& what) {
    write_raw(path, header, data);
    CHECK_THROWS_WITH(rotq::read_safetensors(path), Catch::Contains(what) && Catch::Contains(path));
  };
  check(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})", six, "malformed JSON");
  check(R"({"w":{"dtype":"F33","shape":[2,3],"data_offsets":[0,24]}})", six, "dtype 'F33'");
  check(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,24]}})", six, "spans 24 bytes");
  check(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,28]}})", six, "fall outside");
  check(
      R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"v":{"dtype":"F32","shape":[3],"data_offsets":[8,20]}})",
      six, "share bytes");
  check(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,24]}})", six, "only integers");
  check(R"({"__metadata__":{"n":3}})", six, "metadata 'n' is not a string");
  check(R"({"w":{"dtype":"F32","shape":[-6],"data_offsets":[0,24]}})", six, "unsupported value");
  check(R"([1,2])", six, "not a JSON object");
  check(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[{"a":"b"},24]}})", six,
        "tensor 'w' has non-integer data_offsets");
  // 2^62 x 4 floats: 2^66 bytes, which wrapped to 0 and matched empty offsets.
  check(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", six,
        "tensor 'w' has shape [4611686018427387904, 4], whose byte count overflows 64 bits");
  // A 0 dimension holds no bytes whatever the others are.
  write_raw(path, R"({"w":{"dtype":"F64","shape":[4611686018427387904,0],"data_offsets":[0,0]}})",
            six);
  CHECK(rotq::read_safetensors(path).tensors.at(0).bytes.empty());

  {  // header length beyond the end of the file
    std::ofstream out(path, std::ios::binary);
    const std::uint64_t n = 1000;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{}";
  }
  CHECK_THROWS_WITH(rotq::read_safetensors(path), Catch::Contains("header length 1000 exceeds"));
  {
    std::ofstream out(path, std::ios::binary);
    out << "abc";
  }
  CHECK_THROWS_WITH(rotq::read_safetensors(path), Catch::Contains("too short"));
  CHECK_THROWS_WITH(rotq::read_safetensors(dir.file("absent")), Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(rotq::read_safetensors(dir.file("")), Catch::Contains("is not a regular file"));
}

TEST_CASE("writing rejects inconsistent tensors", "[safetensors][errors]") {
  rotq_test::temp_dir dir;
  rotq::safetensors_file f;
  f.tensors.push_back(
      rotq::tensor_record{"x", rotq::tensor_dtype::f32, {3}, std::vector<std::uint8_t>(8)});
  CHECK_THROWS_WITH(rotq::write_safetensors(dir.file("x"), f),
                    Catch::Contains("has 8 bytes, expected 12"));
  f.tensors[0].bytes.resize(12);
  f.tensors.push_back(f.tensors[0]);
  CHECK_THROWS_WITH(rotq::write_safetensors(dir.file("x"), f), Catch::Contains("appears twice"));
}
