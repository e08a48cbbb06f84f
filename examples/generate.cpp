// Greedy text generation with a llama2.c checkpoint: the smallest end-to-end use of rotq::model.
//
//   example_generate ["prompt"] [max_new_tokens]
//
// Reads stories260K.bin and tok512.bin from the folder model_dir.hpp finds.

#include <rotq/model/generate.hpp>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "model_dir.hpp"


int main(int argc, char** argv) {
  try {
    const std::string prompt = argc > 1 ? argv[1] : "Once upon a time";
    std::size_t max_new_tokens = 200;
    if (argc > 2) {
      char* end = nullptr;
      max_new_tokens = std::strtoul(argv[2], &end, 10);
      if (end == argv[2] || *end != '\0')
        throw std::runtime_error(std::string("max_new_tokens '") + argv[2] + "' is not a number");
    }
    const std::string dir = rotq_example::find_model_dir();
    const rotq::model::llama2_model model =
        rotq::model::load_llama2_checkpoint(dir + "/stories260K.bin");
    const rotq::model::tokenizer vocabulary =
        rotq::model::load_tokenizer(dir + "/tok512.bin", model.config.vocab_size);

    std::vector<int> tokens{rotq::model::tokenizer::bos_id};
    for (const int id : vocabulary.encode(prompt)) tokens.push_back(id);
    const std::vector<int> continuation =
        rotq::model::generate_greedy(model, tokens, max_new_tokens);
    tokens.insert(tokens.end(), continuation.begin(), continuation.end());
    std::cout << vocabulary.decode(tokens);
    std::cout << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "example_generate: " << e.what() << '\n';
    return 1;
  }
}
