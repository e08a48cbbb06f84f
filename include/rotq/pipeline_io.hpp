#pragma once
// Saving calibrated pipelines and loading them back, as safetensors: an engine calibrates once and
// loads its transforms at start-up. Parameters live in the file's metadata, matrices and vectors
// in F64 / I64 tensors, so a round trip is bit-exact.
//
// Layout, for pipeline k (0-based, in name order) and its stage i:
//   metadata  format = "rotq.pipelines", format_version = "1", pipelines = <count>,
//             pipeline.<k>.name, pipeline.<k>.stages = <count>, pipeline.<k>.stage.<i>.kind,
//             and per kind: hadamard: size, transposed ("0"/"1"); random_hadamard: size, seed,
//             inverted ("0"/"1")
//   tensors   pipeline.<k>.stage.<i>.scales  F64 [n]          channel_scaling (T = diag(s)^-1)
//             pipeline.<k>.stage.<i>.perm    I64 [n]          permutation (y_j = x_perm[j])
//             pipeline.<k>.stage.<i>.blocks  F64 [K, bs, bs]  block_rotation
//             pipeline.<k>.stage.<i>.matrix  F64 [n, n]       dense_rotation (row-major R)

#include <Eigen/Core>

#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "rotq/pipeline.hpp"
#include "rotq/safetensors.hpp"

namespace rotq {

namespace detail {

inline std::string stage_key(std::size_t k, std::size_t i, const char* field) {
  return "pipeline." + std::to_string(k) + ".stage." + std::to_string(i) + "." + field;
}

inline void add_stage(safetensors_file& file, std::size_t k, std::size_t i,
                      const transform& stage) {
  file.metadata[stage_key(k, i, "kind")] = stage.kind();
  const std::string n = std::to_string(stage.size());
  if (const auto* h = stage.get_if<hadamard_transform>()) {
    file.metadata[stage_key(k, i, "size")] = n;
    file.metadata[stage_key(k, i, "transposed")] = h->transposed() ? "1" : "0";
  } else if (const auto* r = stage.get_if<random_hadamard>()) {
    file.metadata[stage_key(k, i, "size")] = n;
    file.metadata[stage_key(k, i, "seed")] = std::to_string(r->seed());
    file.metadata[stage_key(k, i, "inverted")] = r->inverted() ? "1" : "0";
  } else if (const auto* c = stage.get_if<channel_scaling>()) {
    file.tensors.push_back(tensor_record::from_values(stage_key(k, i, "scales"), tensor_dtype::f64,
                                                      {stage.size()}, c->scales().data(),
                                                      stage.size()));
  } else if (const auto* p = stage.get_if<permutation>()) {
    const std::vector<std::int64_t> perm(p->perm().begin(), p->perm().end());
    file.tensors.push_back(tensor_record::from_values(stage_key(k, i, "perm"), tensor_dtype::i64,
                                                      {perm.size()}, perm.data(), perm.size()));
  } else if (const auto* b = stage.get_if<block_rotation>()) {
    const std::size_t bs = b->block_size(), count = b->blocks().size();
    std::vector<double> values;
    values.reserve(count * bs * bs);
    for (const auto& block : b->blocks())
      for (Eigen::Index r = 0; r < block.rows(); ++r)
        for (Eigen::Index c = 0; c < block.cols(); ++c) values.push_back(block(r, c));
    file.tensors.push_back(tensor_record::from_values(stage_key(k, i, "blocks"), tensor_dtype::f64,
                                                      {count, bs, bs}, values.data(),
                                                      values.size()));
  } else if (const auto* d = stage.get_if<dense_rotation>()) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m = d->matrix();
    file.tensors.push_back(tensor_record::from_values(stage_key(k, i, "matrix"), tensor_dtype::f64,
                                                      {stage.size(), stage.size()}, m.data(),
                                                      std::size_t(m.size())));
  }
}

/// Reads pipelines back; `where` prefixes every error with the file name.
class pipeline_reader {
public:
  pipeline_reader(const safetensors_file& file, std::string where)
      : file_(file), where_(std::move(where)) {}

  std::map<std::string, pipeline> read_all() const {
    const auto format = file_.metadata.find("format");
    fail_unless(format != file_.metadata.end() && format->second == "rotq.pipelines",
                "metadata 'format' is not \"rotq.pipelines\": not a rotq pipeline file");
    fail_unless(text("format_version") == "1",
                "format_version '" + text("format_version") + "' is not one this rotq reads (1)");
    std::map<std::string, pipeline> result;
    const std::size_t count = integer("pipelines");
    for (std::size_t k = 0; k < count; ++k) {
      const std::string prefix = "pipeline." + std::to_string(k) + ".";
      const std::string name = text(prefix + "name");
      fail_unless(result.count(name) == 0, "pipeline name '" + name + "' appears twice");
      pipeline p;
      const std::size_t stages = integer(prefix + "stages");
      for (std::size_t i = 0; i < stages; ++i) {
        transform stage = read_stage(k, i);
        fail_unless(p.empty() || stage.size() == p.size(),
                    "pipeline '" + name + "' stage " + std::to_string(i) + " has size " +
                        std::to_string(stage.size()) + ", expected " + std::to_string(p.size()));
        p.then(std::move(stage));
      }
      result.emplace(name, std::move(p));
    }
    return result;
  }

private:
  [[noreturn]] void fail(const std::string& what) const {
    throw_error("load_pipelines", where_ + ": " + what);
  }

  void fail_unless(bool ok, const std::string& what) const {
    if (!ok) fail(what);
  }

  std::string text(const std::string& key) const {
    const auto it = file_.metadata.find(key);
    fail_unless(it != file_.metadata.end(), "metadata '" + key + "' is missing");
    return it->second;
  }

  std::uint64_t integer(const std::string& key) const {
    const std::string value = text(key);
    std::uint64_t result = 0;
    bool ok = !value.empty();
    for (char c : value) {
      const auto digit = static_cast<std::uint64_t>(c - '0');
      ok = ok && c >= '0' && c <= '9' && result <= (UINT64_MAX - digit) / 10;
      if (ok) result = result * 10 + digit;
    }
    fail_unless(ok, "metadata '" + key + "' = '" + value + "' is not a non-negative integer");
    return result;
  }

  bool flag(const std::string& key) const {
    const std::string value = text(key);
    fail_unless(value == "0" || value == "1",
                "metadata '" + key + "' = '" + value + "', expected 0 or 1");
    return value == "1";
  }

  const tensor_record& tensor(const std::string& key, tensor_dtype dtype, std::size_t dims) const {
    const tensor_record* t = file_.find(key);
    fail_unless(t != nullptr, "tensor '" + key + "' is missing");
    fail_unless(t->dtype == dtype, "tensor '" + key + "' is " + dtype_name(t->dtype) +
                                       ", expected " + dtype_name(dtype));
    fail_unless(t->shape.size() == dims, "tensor '" + key + "' has " +
                                             std::to_string(t->shape.size()) +
                                             " dimensions, expected " + std::to_string(dims));
    // Every stage's tensor holds something; an empty dimension would also let the others be
    // anything (the byte count is 0 whatever they are) and the loops below run on them.
    for (std::size_t d = 0; d < dims; ++d)
      fail_unless(t->shape[d] > 0, "tensor '" + key + "' has an empty dimension " +
                                       std::to_string(d) + ", expected at least 1 entry");
    return *t;
  }

  // Runs a transform constructor; one that rejects what the file holds (a non-orthogonal matrix,
  // an unsupported size, a size too large for memory, ...) is reported with the file, pipeline
  // and stage.
  template <class Make>
  transform construct(std::size_t k, std::size_t i, Make make) const {
    const std::string stage = "stage " + std::to_string(i) + " of pipeline " + std::to_string(k);
    try {
      return transform(make());
    } catch (const error& e) {
      fail(stage + ": " + e.what());
    } catch (const std::exception& e) {  // std::bad_alloc or std::length_error: too large
      fail(stage + ": it cannot be built (" + e.what() + "): its size is beyond memory");
    }
  }

  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  transform read_stage(std::size_t k, std::size_t i) const {
    const std::string kind = text(stage_key(k, i, "kind"));
    auto key = [&](const char* field) { return stage_key(k, i, field); };
    if (kind == hadamard_transform::kind) {
      const std::uint64_t n = integer(key("size"));
      const bool transposed = flag(key("transposed"));
      return construct(k, i, [&] { return hadamard_transform(n, transposed); });
    }
    if (kind == random_hadamard::kind) {
      const std::uint64_t n = integer(key("size")), seed = integer(key("seed"));
      const bool inverted = flag(key("inverted"));
      return construct(k, i, [&] { return random_hadamard(n, seed, inverted); });
    }
    if (kind == channel_scaling::kind) {
      const auto values = tensor(key("scales"), tensor_dtype::f64, 1).values<double>();
      const Eigen::Map<const Eigen::VectorXd> s(values.data(), Eigen::Index(values.size()));
      return construct(k, i, [&] { return channel_scaling(s); });
    }
    if (kind == permutation::kind) {
      const auto values = tensor(key("perm"), tensor_dtype::i64, 1).values<std::int64_t>();
      std::vector<std::size_t> perm;
      for (std::int64_t v : values) {
        fail_unless(v >= 0,
                    "tensor '" + key("perm") + "' holds the negative index " + std::to_string(v));
        perm.push_back(static_cast<std::size_t>(v));
      }
      return construct(k, i, [&] { return permutation(perm); });
    }
    if (kind == block_rotation::kind) {
      const tensor_record& t = tensor(key("blocks"), tensor_dtype::f64, 3);
      fail_unless(t.shape[1] == t.shape[2], "tensor '" + key("blocks") + "' blocks are not square");
      const auto values = t.values<double>();
      const auto bs = static_cast<Eigen::Index>(t.shape[1]);
      std::vector<Eigen::MatrixXd> blocks;
      for (std::size_t b = 0; b < t.shape[0]; ++b)
        blocks.emplace_back(
            Eigen::Map<const row_major>(values.data() + b * t.shape[1] * t.shape[2], bs, bs));
      return construct(k, i, [&] { return block_rotation(blocks); });
    }
    if (kind == dense_rotation::kind) {
      const tensor_record& t = tensor(key("matrix"), tensor_dtype::f64, 2);
      const auto values = t.values<double>();
      const Eigen::MatrixXd r = Eigen::Map<const row_major>(values.data(), Eigen::Index(t.shape[0]),
                                                            Eigen::Index(t.shape[1]));
      return construct(k, i, [&] { return dense_rotation(r); });
    }
    fail("stage " + std::to_string(i) + " of pipeline " + std::to_string(k) +
         " has unknown kind '" + kind +
         "' (known: hadamard, random_hadamard, channel_scaling, permutation, block_rotation, "
         "dense_rotation)");
  }

  const safetensors_file& file_;
  std::string where_;
};

}  // namespace detail

/// Saves named pipelines (e.g. one per layer input: "layers.3.ffn_down") in one safetensors file.
/// `metadata` adds the caller's own string entries (model name, calibration settings, ...); keys
/// starting with "pipeline" or named format/format_version/pipelines are reserved. Throws
/// rotq::error on an I/O failure or a reserved key.
inline void save_pipelines(const std::string& path,
                           const std::map<std::string, pipeline>& pipelines,
                           const std::map<std::string, std::string>& metadata = {}) {
  safetensors_file file;
  for (const auto& [key, value] : metadata) {
    ROTQ_EXPECTS(key.rfind("pipeline", 0) != 0 && key != "format" && key != "format_version",
                 "metadata key '" << key << "' is reserved");
    file.metadata[key] = value;
  }
  file.metadata["format"] = "rotq.pipelines";
  file.metadata["format_version"] = "1";
  file.metadata["pipelines"] = std::to_string(pipelines.size());
  std::size_t k = 0;
  for (const auto& [name, p] : pipelines) {
    const std::string prefix = "pipeline." + std::to_string(k) + ".";
    file.metadata[prefix + "name"] = name;
    file.metadata[prefix + "stages"] = std::to_string(p.stages().size());
    for (std::size_t i = 0; i < p.stages().size(); ++i)
      detail::add_stage(file, k, i, p.stages()[i]);
    ++k;
  }
  write_safetensors(path, file);
}

/// Loads every pipeline of a file written by save_pipelines, by name. Throws rotq::error naming
/// the file and the problem: not a safetensors file, truncated, not a rotq pipeline file, missing
/// or malformed metadata, unknown stage kind, wrong tensor dtype or shape, or a stage its own
/// constructor rejects (e.g. a matrix that is not orthogonal).
inline std::map<std::string, pipeline> load_pipelines(const std::string& path) {
  return detail::pipeline_reader(read_safetensors(path), "'" + path + "'").read_all();
}

/// save_pipelines with one pipeline, named "pipeline".
inline void save_pipeline(const std::string& path, const pipeline& p,
                          const std::map<std::string, std::string>& metadata = {}) {
  save_pipelines(path, {{"pipeline", p}}, metadata);
}

/// The single pipeline of a file; throws rotq::error if it holds a different number.
inline pipeline load_pipeline(const std::string& path) {
  auto all = load_pipelines(path);
  ROTQ_EXPECTS(all.size() == 1, "'" << path << "' holds " << all.size()
                                    << " pipelines; use load_pipelines to pick one by name");
  return std::move(all.begin()->second);
}

}  // namespace rotq
