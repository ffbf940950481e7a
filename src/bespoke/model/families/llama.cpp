// Llama 2/3 (transformers models/llama/modeling_llama.py) and Mistral
// (models/mistral/modeling_mistral.py): the plain pre-norm transformer every other family
// amends. Llama-3 rope scaling is read by the generic config reader.
#include "bespoke/model/family.h"

namespace bespoke::model {
namespace {

void configure_llama(const nlohmann::json&, ModelSpec&) {}

}  // namespace

// transformers LlamaConfig / MistralConfig defaults.
constexpr const char* kLlamaDefaults = R"({"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
  "num_hidden_layers": 32, "num_attention_heads": 32, "max_position_embeddings": 2048, "rms_norm_eps": 1e-6,
  "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false})";
constexpr const char* kMistralDefaults = R"({"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
  "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false})";

extern const Family kLlamaFamily{"llama", {"llama"}, kLlamaDefaults, configure_llama, nullptr,
                                 llama_global_names(), llama_layer_names(), {}};
// Mistral applies `sliding_window` (v0.1: 4096, later null) to every layer.
extern const Family kMistralFamily{"mistral", {"mistral"}, kMistralDefaults, configure_llama,
                                   sliding_everywhere_layer_types, llama_global_names(), llama_layer_names(), {}};

}  // namespace bespoke::model
