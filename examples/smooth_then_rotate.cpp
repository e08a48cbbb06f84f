// SmoothRot on one layer of a real model: smooth the down-projection input (where massive
// activations live) with an alpha picked on calibration loss, then apply the Hadamard transform
// of the FFN size, and see what each step does to the activations and to the W4A4 layer output.
//
//   example_smooth_then_rotate [model_dir] [layer]
//
// model_dir holds stories260K.bin, tok512.bin and tinystories_valid_head.txt (default: the shared
// data folder this example was built with). Calibration uses stories 60-68, as the evaluation does.

#include <rotq/calibration.hpp>
#include <rotq/hadamard_transform.hpp>
#include <rotq/model/calibration_recorder.hpp>
#include <rotq/pipeline.hpp>
#include <rotq/quantize.hpp>
#include <rotq/smoothing.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "calibration_data.hpp"
#include "model_dir.hpp"

namespace {

using rotq_example::matrix;

/// ||Q(X) Q(W)^T - X W^T||_F / ||X W^T||_F with 4-bit per-token activations and per-channel
/// weights: how much W4A4 quantisation disturbs the layer.
double w4a4_output_error(const matrix& x, const matrix& w, const matrix& reference) {
  matrix xq = x, wq = w;
  rotq::fake_quantize_rows(xq, rotq::quant_spec{});
  rotq::fake_quantize_rows(wq, rotq::quant_spec{});
  const matrix y = xq * wq.transpose();
  return double((y - reference).norm() / reference.norm());
}

/// ||X - Q(X)||_F / ||X||_F, Q the 4-bit per-token quantiser.
double int4_error(const matrix& x) {
  matrix q = x;
  rotq::fake_quantize_rows(q, rotq::quant_spec{});
  return double((x - q).norm() / x.norm());
}

void describe(const char* stage, const matrix& x, const matrix& w, const matrix& reference) {
  const double rms = std::sqrt(double(x.squaredNorm()) / double(x.size()));
  std::printf(
      "%-22s max|x| %7.3f  rms %5.3f  max/rms %5.1f  int4 error %.4f  "
      "W4A4 output error %.4f\n",
      stage, double(x.cwiseAbs().maxCoeff()), rms, double(x.cwiseAbs().maxCoeff()) / rms,
      int4_error(x), w4a4_output_error(x, w, reference));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string dir = rotq_example::find_model_dir(argc > 1 ? argv[1] : nullptr);
    const std::size_t layer = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 4;
    const rotq::model::llama2_model model =
        rotq::model::load_llama2_checkpoint(dir + "/stories260K.bin");

    // Record the down-projection input of every layer on the calibration stories.
    rotq::model::calibration_recorder::options options;
    options.points = {rotq::model::hook_point::down_input};
    options.sample_capacity = 4096;
    rotq::model::calibration_recorder recorder(model.config, options);
    rotq_example::record_calibration(model, dir, recorder);
    const rotq::activation_statistics& stats =
        recorder.statistics(layer, rotq::model::hook_point::down_input);
    const matrix x = rotq_example::sample_matrix(stats);
    const matrix& w = model.layers.at(layer).w_down;
    const matrix reference = x * w.transpose();
    std::printf("layer %zu down projection: %zu calibration tokens, %zu channels\n\n", layer,
                stats.rows_seen(), stats.channels());

    // Smoothing statistics: activation abs-max over every token, weight column abs-max.
    const Eigen::VectorXd act_absmax = stats.channel_absmax();
    const Eigen::VectorXd weight_absmax = rotq::weight_column_absmax({w});
    const rotq::hadamard_transform hadamard(stats.channels());

    // Pick alpha on the W4A4 output error of the smoothed and rotated layer.
    const auto loss = [&](const Eigen::VectorXd& scales) {
      rotq::pipeline p;
      p.then(rotq::channel_scaling(scales)).then(hadamard);
      matrix xs = x, ws = w;
      p.apply_activations(xs);
      p.apply_weights(ws);
      return w4a4_output_error(xs, ws, reference);
    };
    const std::vector<double> alphas = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
    const rotq::alpha_sweep_result sweep =
        rotq::sweep_smoothing_alpha(act_absmax, weight_absmax, alphas, loss);
    std::printf("alpha sweep (W4A4 output error after smoothing + Hadamard):\n");
    for (std::size_t i = 0; i < alphas.size(); ++i)
      std::printf("  alpha %.1f: %.4f%s\n", alphas[i], sweep.losses[i],
                  alphas[i] == sweep.best_alpha ? "  <- best" : "");
    const rotq::smoothing_report report =
        rotq::smoothing_scales_with_report(act_absmax, weight_absmax, sweep.best_alpha);
    std::printf("%zu channels hit the floor\n\n", report.floored_channels.size());

    // The three stages side by side.
    matrix x_rotated = x, w_rotated = w;
    hadamard.apply_activations(x_rotated);
    hadamard.apply_weights(w_rotated);
    const rotq::channel_scaling smoothing(report.scales);
    matrix x_smoothed = x, w_smoothed = w;
    smoothing.apply_activations(x_smoothed);
    smoothing.apply_weights(w_smoothed);
    matrix x_both = x_smoothed, w_both = w_smoothed;
    hadamard.apply_activations(x_both);
    hadamard.apply_weights(w_both);
    describe("original", x, w, reference);
    describe("Hadamard only", x_rotated, w_rotated, reference);
    describe("smoothing only", x_smoothed, w_smoothed, reference);
    describe("smoothing + Hadamard", x_both, w_both, reference);
    // Invariance: without quantisation the transformed layer computes the same output.
    const matrix y = x_both * w_both.transpose();
    std::printf("\nfp32 output change after smoothing + Hadamard: %.2e (relative)\n",
                double((y - reference).norm() / reference.norm()));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example_smooth_then_rotate: %s\n", e.what());
    return 1;
  }
}
