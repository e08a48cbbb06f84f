// Tests for <rotq/pipeline_io.hpp>: pipelines of every kind save and load bit-exactly; malformed
// or foreign files give clear errors.

#include <rotq/pipeline_io.hpp>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

namespace {

rotq::pipeline every_kind(std::size_t n) {
  std::vector<Eigen::MatrixXd> blocks;
  for (std::size_t b = 0; b < n / 8; ++b) blocks.push_back(rotq::random_orthogonal(8, 100 + b));
  Eigen::VectorXd s = Eigen::VectorXd::LinSpaced(Eigen::Index(n), 0.1, 7.3);
  rotq::pipeline p;
  p.then(rotq::channel_scaling(s))
      .then(rotq::random_hadamard(n, 0xFFFFFFFFFFFFFFFFull))
      .then(rotq::block_rotation(blocks))
      .then(rotq::zigzag_permutation(s.reverse(), 8))
      .then(rotq::dense_rotation(rotq::random_orthogonal(n, 9)))
      .then(rotq::hadamard_transform(n).inverse())
      .then(rotq::random_hadamard(n, 3).inverse());
  return p;
}

}  // namespace

TEST_CASE("pipelines of every kind save and load bit-exactly", "[pipeline_io]") {
  rotq_test::temp_dir dir;
  const std::string path = dir.file("p.safetensors");
  const std::map<std::string, rotq::pipeline> saved = {{"layers.0.ffn_down", every_kind(48)},
                                                       {"layers.1.attn_in", every_kind(24)},
                                                       {"empty", rotq::pipeline()}};
  rotq::save_pipelines(path, saved, {{"model", "stories260K"}});
  const auto loaded = rotq::load_pipelines(path);
  REQUIRE(loaded.size() == 3);
  for (const auto& [name, p] : saved) {
    CAPTURE(name);
    const rotq::pipeline& q = loaded.at(name);
    REQUIRE(q.stages().size() == p.stages().size());
    for (std::size_t i = 0; i < p.stages().size(); ++i) {
      CHECK(std::string(q.stages()[i].kind()) == p.stages()[i].kind());
      CHECK(q.stages()[i].matrix() == p.stages()[i].matrix());  // exact
    }
  }
  CHECK(rotq::read_safetensors(path).metadata.at("model") == "stories260K");

  rotq::save_pipeline(path, every_kind(16));
  CHECK(rotq::load_pipeline(path).matrix() == every_kind(16).matrix());
}

TEST_CASE("loading rejects foreign, truncated and inconsistent files", "[pipeline_io][errors]") {
  rotq_test::temp_dir dir;
  const std::string path = dir.file("p.safetensors");
  rotq::save_pipeline(path, every_kind(16));
  rotq::safetensors_file good = rotq::read_safetensors(path);

  auto rejects = [&](rotq::safetensors_file f, const std::string& what) {
    rotq::write_safetensors(path, f);
    CHECK_THROWS_WITH(rotq::load_pipelines(path), Catch::Contains(what) && Catch::Contains(path));
  };
  {
    auto f = good;
    f.metadata.erase("format");
    rejects(f, "not a rotq pipeline file");
  }
  {
    auto f = good;
    f.metadata["pipeline.0.stage.1.kind"] = "spin";
    rejects(f, "unknown kind 'spin'");
  }
  {
    auto f = good;
    f.metadata.erase("pipeline.0.stage.1.seed");
    rejects(f, "metadata 'pipeline.0.stage.1.seed' is missing");
  }
  {
    auto f = good;
    for (auto& t : f.tensors)
      if (t.name == "pipeline.0.stage.0.scales") t.dtype = rotq::tensor_dtype::i64;
    rejects(f, "is I64, expected F64");
  }
  {
    auto f = good;
    for (auto& t : f.tensors)
      if (t.name == "pipeline.0.stage.4.matrix") {
        auto v = t.values<double>();
        v[5] += 1e-3;
        t = rotq::tensor_record::from_values(t.name, t.dtype, t.shape, v.data(), v.size());
      }
    rejects(f, "stage 4 of pipeline 0: rotq::dense_rotation: r is not orthogonal");
  }
  {
    auto f = good;
    for (auto& t : f.tensors)
      if (t.name == "pipeline.0.stage.3.perm") {
        std::vector<std::int64_t> v(8);
        std::iota(v.begin(), v.end(), 0);
        t = rotq::tensor_record::from_values(t.name, t.dtype, {8}, v.data(), v.size());
      }
    rejects(f, "stage 3 has size 8, expected 16");
  }
  {  // empty blocks, with a count that would have run the reader's loop 2^62 times
    auto f = good;
    for (auto& t : f.tensors)
      if (t.name == "pipeline.0.stage.2.blocks")
        t = rotq::tensor_record::from_values<double>(t.name, t.dtype, {std::size_t{1} << 62, 0, 0},
                                                     nullptr, 0);
    rejects(f, "tensor 'pipeline.0.stage.2.blocks' has an empty dimension 1");
  }
  {  // a supported size far beyond memory (2^60 signs)
    auto f = good;
    f.metadata["pipeline.0.stage.1.size"] = std::to_string(std::size_t{1} << 60);
    rejects(f, "stage 1 of pipeline 0: it cannot be built");
  }
  {  // truncated copy
    rotq::write_safetensors(path, good);
    const std::string bytes = rotq_test::read_file(path);
    rotq_test::write_file(path, bytes.substr(0, bytes.size() - 100));
    CHECK_THROWS_WITH(rotq::load_pipelines(path), Catch::Contains("fall outside"));
  }
  CHECK_THROWS_WITH(rotq::save_pipelines(path, {}, {{"format", "x"}}), Catch::Contains("reserved"));
}
