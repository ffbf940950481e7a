// Llama 2/3 (transformers models/llama/modeling_llama.py) and Mistral
// (models/mistral/modeling_mistral.py): the plain pre-norm transformer every other family
// amends. Llama-3 rope scaling is read by the generic config reader.
#include "bespoke/io/hf_config.h"
#include "bespoke/model/family.h"

namespace bespoke::model {
namespace {

void configure_llama(const nlohmann::json&, ModelSpec&) {}

// Mistral applies `sliding_window` to every layer when set (v0.1: 4096, later null).
std::vector<std::string> mistral_layer_types(const nlohmann::json& c, int64_t n_layers) {
  const bool sliding = io::config_int(c, "sliding_window", 0) > 0;
  return std::vector<std::string>(n_layers, sliding ? "sliding_attention" : "full_attention");
}

}  // namespace

extern const Family kLlamaFamily{"llama", {"llama"}, configure_llama, nullptr, llama_global_names(),
                          llama_layer_names(), {}};
extern const Family kMistralFamily{"mistral", {"mistral"}, configure_llama, mistral_layer_types,
                            llama_global_names(), llama_layer_names(), {}};

}  // namespace bespoke::model
