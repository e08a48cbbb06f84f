// DuQuant on one layer input of a real model: smoothing, a greedy block rotation, the zigzag
// permutation and a second block rotation, calibrated on the FFN input (read by gate and up) and
// compared with no transform at every stage.
//
//   example_duquant_layer [model_dir] [layer]
//
// model_dir holds stories260K.bin, tok512.bin and tinystories_valid_head.txt (default: the shared
// data folder this example was built with). Calibration uses stories 60-68, as the evaluation does.

#include <rotq/calibration.hpp>
#include <rotq/duquant.hpp>
#include <rotq/model/calibration_recorder.hpp>
#include <rotq/quantize.hpp>
#include <rotq/smoothing.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "calibration_data.hpp"
#include "model_dir.hpp"

namespace {

using rotq_example::matrix;

/// ||X - Q(X)||_F / ||X||_F, Q the 4-bit per-token quantiser.
double int4_error(const matrix& x) {
  matrix q = x;
  rotq::fake_quantize_rows(q, rotq::quant_spec{});
  return double((x - q).norm() / x.norm());
}

/// Relative error of the W4A4 outputs of every layer reading x (here gate and up).
double w4a4_output_error(const matrix& x, const std::vector<matrix>& weights,
                         const std::vector<matrix>& references) {
  matrix xq = x;
  rotq::fake_quantize_rows(xq, rotq::quant_spec{});
  double error = 0, total = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    matrix wq = weights[i];
    rotq::fake_quantize_rows(wq, rotq::quant_spec{});
    error += double((xq * wq.transpose() - references[i]).squaredNorm());
    total += double(references[i].squaredNorm());
  }
  return std::sqrt(error / total);
}

/// The largest block peak max - min over the blocks of bs channels: what the rotations lower.
double largest_block_peak(const matrix& x, std::size_t bs) {
  double peak = 0;
  for (Eigen::Index first = 0; first < x.cols(); first += Eigen::Index(bs)) {
    const auto block = x.middleCols(first, Eigen::Index(bs));
    peak = std::max(peak, double(block.maxCoeff() - block.minCoeff()));
  }
  return peak;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string dir = rotq_example::find_model_dir(argc > 1 ? argv[1] : nullptr);
    const std::size_t layer = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1;
    const rotq::model::llama2_model model =
        rotq::model::load_llama2_checkpoint(dir + "/stories260K.bin");

    rotq::model::calibration_recorder::options options;
    options.points = {rotq::model::hook_point::ffn_input};
    options.sample_capacity = 4096;
    rotq::model::calibration_recorder recorder(model.config, options);
    rotq_example::record_calibration(model, dir, recorder);
    const rotq::activation_statistics& stats =
        recorder.statistics(layer, rotq::model::hook_point::ffn_input);
    const matrix x = rotq_example::sample_matrix(stats);
    const rotq::model::llama2_layer& linears = model.layers.at(layer);
    const std::vector<matrix> weights = {linears.w_gate, linears.w_up};
    std::vector<matrix> references;
    for (const matrix& w : weights) references.push_back(x * w.transpose());

    // DuQuant as the evaluation runs it: smoothing (alpha 0.6, weight statistic over gate and up
    // together), then (R P) R with the default block size.
    const std::size_t bs = rotq::duquant_block_size(stats.channels());
    rotq::duquant_options duquant;
    duquant.seed = 0;
    duquant.smoothing = rotq::duquant_smoothing{
        rotq::weight_column_absmax({weights[0], weights[1]}), stats.channel_absmax(), 0.6, 1e-2};
    const rotq::pipeline transform = rotq::duquant_transform(stats.sample(), duquant);
    std::printf("layer %zu FFN input: %zu calibration tokens, %zu channels, block size %zu\n\n",
                layer, stats.rows_seen(), stats.channels(), bs);

    // Walk the pipeline stage by stage.
    matrix xt = x;
    std::vector<matrix> wt = weights;
    const auto report = [&](const char* stage) {
      const double rms = std::sqrt(double(xt.squaredNorm()) / double(xt.size()));
      std::printf(
          "%-18s max|x| %7.3f  rms %6.3f  block peak %7.3f  int4 error %.4f  W4A4 output "
          "error %.4f\n",
          stage, double(xt.cwiseAbs().maxCoeff()), rms, largest_block_peak(xt, bs), int4_error(xt),
          w4a4_output_error(xt, wt, references));
    };
    report("original");
    for (const rotq::transform& stage : transform.stages()) {
      stage.apply_activations(xt);
      for (matrix& w : wt) stage.apply_weights(w);
      report(stage.kind());
    }
    double drift = 0;
    for (std::size_t i = 0; i < wt.size(); ++i)
      drift = std::max(
          drift, double((xt * wt[i].transpose() - references[i]).norm() / references[i].norm()));
    std::printf("\nfp32 output change after the whole transform: %.2e (relative)\n", drift);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example_duquant_layer: %s\n", e.what());
    return 1;
  }
}
