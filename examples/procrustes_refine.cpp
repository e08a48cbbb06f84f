// DFRot on a real model: start from QuaRot's random Hadamard residual rotation R1 and refine it by
// alternating 4-bit quantisation and orthogonal Procrustes on the normalised hidden states that
// every q/k/v and gate/up reads, with massive-activation tokens weighted up.
//
//   example_procrustes_refine [model_dir] [seed]
//
// model_dir holds stories260K.bin, tok512.bin and tinystories_valid_head.txt (default: the shared
// data folder this example was built with). Calibration uses stories 60-68, as the evaluation does.

#include <rotq/calibration.hpp>
#include <rotq/dfrot.hpp>
#include <rotq/hadamard_transform.hpp>
#include <rotq/model/calibration_recorder.hpp>
#include <rotq/quantize.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "calibration_data.hpp"
#include "model_dir.hpp"

namespace {

using rotq_example::matrix;

/// ||X - Q(X)||_F / ||X||_F over the chosen rows (all when `rows` is empty), Q the 4-bit
/// per-token quantiser.
double int4_error(const matrix& x, const std::vector<std::size_t>& rows = {}) {
  matrix picked = x;
  if (!rows.empty()) {
    picked.resize(Eigen::Index(rows.size()), x.cols());
    for (std::size_t i = 0; i < rows.size(); ++i)
      picked.row(Eigen::Index(i)) = x.row(Eigen::Index(rows[i]));
  }
  matrix q = picked;
  rotq::fake_quantize_rows(q, rotq::quant_spec{});
  return double((picked - q).norm() / picked.norm());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string dir = rotq_example::find_model_dir(argc > 1 ? argv[1] : nullptr);
    const std::uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
    const rotq::model::llama2_model model =
        rotq::model::load_llama2_checkpoint(dir + "/stories260K.bin");

    // Both RMSNorm outputs of every layer; dividing out the gain gives the normalised hidden
    // state, which is what R1 rotates once the gains are fused into the next linears.
    rotq::model::calibration_recorder::options options;
    options.points = {rotq::model::hook_point::attention_input, rotq::model::hook_point::ffn_input};
    options.sample_capacity = 1024;
    rotq::model::calibration_recorder recorder(model.config, options);
    rotq_example::record_calibration(model, dir, recorder);
    std::vector<matrix> parts;
    Eigen::Index rows = 0;
    for (std::size_t l = 0; l < model.config.n_layers; ++l)
      for (const rotq::model::hook_point point : options.points) {
        const Eigen::VectorXf& gain = point == rotq::model::hook_point::attention_input
                                          ? model.layers[l].attention_norm
                                          : model.layers[l].ffn_norm;
        matrix part = rotq_example::sample_matrix(recorder.statistics(l, point));
        part.array().rowwise() /= gain.transpose().array();
        rows += part.rows();
        parts.push_back(std::move(part));
      }
    matrix features(rows, Eigen::Index(model.config.dim));
    Eigen::Index at = 0;
    for (const matrix& part : parts) {
      features.middleRows(at, part.rows()) = part;
      at += part.rows();
    }

    const std::size_t hidden = model.config.dim;
    const Eigen::MatrixXd start = rotq::random_hadamard(hidden, seed).matrix();
    const rotq::dfrot_result result = rotq::dfrot_refine(features, start);
    std::printf("%lld feature rows of %zu channels, %zu massive tokens (max|x| / ||x|| > 0.5)\n",
                static_cast<long long>(features.rows()), hidden, result.massive_tokens.size());
    std::printf("objective ||A_w R - Q(A_w R)||: start %.3f, best %.3f at iteration %zu of %zu\n\n",
                result.objective.front(), result.objective[result.best_iteration],
                result.best_iteration, result.objective.size() - 1);

    const matrix hadamard_rotated = (features.cast<double>() * start).cast<float>();
    const matrix refined = (features.cast<double>() * result.rotation).cast<float>();
    std::printf("relative int4 error        all tokens   massive tokens\n");
    const auto line = [&](const char* name, const matrix& x) {
      if (result.massive_tokens.empty())
        std::printf("%-26s %10.4f   %14s\n", name, int4_error(x), "-");
      else
        std::printf("%-26s %10.4f   %14.4f\n", name, int4_error(x),
                    int4_error(x, result.massive_tokens));
    };
    line("no rotation", features);
    line("random Hadamard R1", hadamard_rotated);
    line("refined R1 (DFRot)", refined);
    std::printf("\northogonality of the refined R1: max |R R^T - I| = %.2e\n",
                rotq::orthogonality_error(result.rotation));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example_procrustes_refine: %s\n", e.what());
    return 1;
  }
}
