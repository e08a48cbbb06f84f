// Adaptive layer-wise selection on a real model: the kurtosis of every linear's weights, the
// robust z-score within its group (attention inputs, attention output, FFN inputs, FFN output),
// and which of two pipelines each layer would get. The activation kurtosis of each input is shown
// beside it, the cheap per-channel outlier diagnostic.
//
//   example_select_layers_by_kurtosis [model_dir] [beta]
//
// model_dir holds stories260K.bin, tok512.bin and tinystories_valid_head.txt (default: the shared
// data folder this example was built with). beta (default 3.5, Iglewicz and Hoaglin's cut-off) is
// the threshold of every group.

#include <rotq/calibration.hpp>
#include <rotq/model/calibration_recorder.hpp>
#include <rotq/stats.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "calibration_data.hpp"
#include "model_dir.hpp"

int main(int argc, char** argv) {
  try {
    namespace model = rotq::model;
    const std::string dir = rotq_example::find_model_dir(argc > 1 ? argv[1] : nullptr);
    const double beta = argc > 2 ? std::strtod(argv[2], nullptr) : 3.5;
    const model::llama2_model m = model::load_llama2_checkpoint(dir + "/stories260K.bin");

    // Activation statistics of every linear input, for the per-channel kurtosis column.
    model::calibration_recorder recorder(m.config, model::calibration_recorder::options{});
    rotq_example::record_calibration(m, dir, recorder);

    struct linear {
      const char* name;
      const char* group;
      const model::weight_matrix* weights;
      model::hook_point input;
    };
    std::vector<rotq::layer_kurtosis> layers;
    std::map<std::string, double> input_kurtosis;  // max over channels of the input's kurtosis
    for (std::size_t l = 0; l < m.config.n_layers; ++l) {
      const model::llama2_layer& layer = m.layers[l];
      const linear linears[] = {
          {"wq", "attention inputs", &layer.wq, model::hook_point::attention_input},
          {"wk", "attention inputs", &layer.wk, model::hook_point::attention_input},
          {"wv", "attention inputs", &layer.wv, model::hook_point::attention_input},
          {"wo", "attention output", &layer.wo, model::hook_point::attention_output},
          {"w_gate", "FFN inputs", &layer.w_gate, model::hook_point::ffn_input},
          {"w_up", "FFN inputs", &layer.w_up, model::hook_point::ffn_input},
          {"w_down", "FFN output", &layer.w_down, model::hook_point::down_input},
      };
      for (const linear& lin : linears) {
        const std::string name = "layers." + std::to_string(l) + "." + lin.name;
        layers.push_back({name, lin.group, rotq::weight_kurtosis(*lin.weights)});
        const Eigen::VectorXd per_channel =
            rotq::activation_kurtosis_per_channel(recorder.statistics(l, lin.input).sample());
        // A constant channel reports NaN; the largest finite value is the diagnostic.
        input_kurtosis[name] = per_channel.array().isNaN().select(0.0, per_channel).maxCoeff();
      }
    }

    rotq::layer_selection_rule rule;
    for (const char* group : {"attention inputs", "attention output", "FFN inputs", "FFN output"})
      rule.thresholds[group] = beta;
    rule.plain = "quarot";
    rule.strong = "duquant";
    const std::vector<rotq::layer_decision> decisions =
        rotq::select_layers_by_kurtosis(layers, rule);

    std::printf("%-16s %-17s %9s %8s  %-8s %s\n", "layer", "group", "kurtosis", "z", "pipeline",
                "input kurtosis (max over channels)");
    std::size_t heavy = 0;
    for (const rotq::layer_decision& d : decisions) {
      std::printf("%-16s %-17s %9.3f %8.3f  %-8s %8.2f\n", d.layer.c_str(), d.group.c_str(),
                  d.kurtosis, d.zscore, d.pipeline.c_str(), input_kurtosis[d.layer]);
      heavy += d.outlier_heavy ? 1 : 0;
    }
    std::printf(
        "\n%zu of %zu linears are outlier-heavy (z > %.2f) and get '%s'; the rest get "
        "'%s'\n",
        heavy, decisions.size(), beta, rule.strong.c_str(), rule.plain.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example_select_layers_by_kurtosis: %s\n", e.what());
    return 1;
  }
}
