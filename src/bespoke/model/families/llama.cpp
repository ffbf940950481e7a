// Llama 2/3 (transformers models/llama/modeling_llama.py) and Mistral
// (models/mistral/modeling_mistral.py): the plain pre-norm transformer every other family
// amends. Llama-3 rope scaling is read by the generic config reader. In GGUF: llama.cpp's
// llama, or deci (Nemotron-NAS) for per-layer shapes, which is read back here too.
#include "bespoke/core/error.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"

namespace bespoke::model {
namespace {

void configure_llama(const nlohmann::json&, ModelSpec&) {}

GgufArch llama_gguf(const ModelSpec& s) {
  return native_or_deci(s, {"llama"});
}

// deci names no family: q/k/v biases without an o bias are Qwen 2's. llama.cpp's deci skips
// the rest of a layer whose FFN width is 0, attention included, so a file with such a layer
// that has heads means something no Bespoke spec computes; it is refused.
nlohmann::json llama_gguf_config(const io::GgufFile& f) {
  const bool qkv_bias = gguf_has_layer_tensor(f, "attn_q.bias"), o_bias = gguf_has_layer_tensor(f, "attn_output.bias");
  nlohmann::json c = gguf_base_config(f, qkv_bias && !o_bias ? "qwen2" : "llama");
  c["attention_bias"] = qkv_bias;
  if (gguf_key(f, "general.architecture") == "deci")
    for (int64_t i = 0; i < c["num_hidden_layers"].get<int64_t>(); ++i)
      if (gguf_per_layer(f, "deci.feed_forward_length", i) == 0 &&
          gguf_per_layer(f, "deci.attention.head_count", i) > 0)
        fail(ErrorKind::kUnsupported,
             f.path() + ": layer " + std::to_string(i) +
                 " has attention heads and no FFN, which llama.cpp's deci skips whole (attention included)");
  return c;
}

}  // namespace

// transformers LlamaConfig / MistralConfig defaults.
constexpr const char* kLlamaDefaults = R"({"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
  "num_hidden_layers": 32, "num_attention_heads": 32, "max_position_embeddings": 2048, "rms_norm_eps": 1e-6,
  "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false})";
constexpr const char* kMistralDefaults = R"({"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
  "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false})";

extern const Family kLlamaFamily{
    "llama", {"llama"},  kLlamaDefaults,    configure_llama,   nullptr, llama_global_names(), llama_layer_names(),
    {},      llama_gguf, {"llama", "deci"}, llama_gguf_config, nullptr};
// Mistral applies `sliding_window` (v0.1: 4096, later null) to every layer.
// In GGUF a Llama: llama.cpp's llama reads it back as one.
extern const Family kMistralFamily{"mistral",
                                   {"mistral"},
                                   kMistralDefaults,
                                   configure_llama,
                                   sliding_everywhere_layer_types,
                                   llama_global_names(),
                                   llama_layer_names(),
                                   {},
                                   llama_gguf,
                                   {},
                                   nullptr,
                                   nullptr};

}  // namespace bespoke::model
