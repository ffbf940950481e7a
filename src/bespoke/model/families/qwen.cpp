// Qwen2/2.5 (transformers models/qwen2/modeling_qwen2.py): q/k/v biases, no o bias.
// Qwen3 (models/qwen3/modeling_qwen3.py): per-head RMSNorm of q and k before rope.
// In GGUF: llama.cpp's qwen2 (deci for per-layer shapes) and qwen3 (openelm for per-layer
// shapes, which needs a tied output).
#include "bespoke/core/json.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"

namespace bespoke::model {
namespace {

// Older configs: sliding windows from layer `max_window_layers` on, if `use_sliding_window`.
std::vector<std::string> qwen_layer_types(const nlohmann::json& c, int64_t n_layers) {
  std::vector<std::string> types(n_layers, "full_attention");
  if (!config_bool(c, "use_sliding_window", false)) return types;
  for (int64_t i = config_int(c, "max_window_layers", n_layers); i < n_layers; ++i) types[i] = "sliding_attention";
  return types;
}

void configure_qwen2(const nlohmann::json&, ModelSpec& s) {
  s.qkv_bias = true;
  s.o_bias = false;
}

void configure_qwen3(const nlohmann::json&, ModelSpec& s) {
  s.qk_norm = QkNorm::kPerHead;
}

GgufArch qwen2_gguf(const ModelSpec& s) {
  return native_or_deci(s, {"qwen2"});
}

GgufArch qwen3_gguf(const ModelSpec& s) {
  if (first_irregular_layer(s) >= 0 && s.tie_embeddings) return openelm_arch(s);
  return native_only(s, {"qwen3"}, " (openelm would need tied embeddings)");
}

nlohmann::json qwen2_gguf_config(const io::GgufFile& f) {
  return gguf_base_config(f, "qwen2");
}
nlohmann::json qwen3_gguf_config(const io::GgufFile& f) {
  return gguf_base_config(f, "qwen3");
}

}  // namespace

// transformers Qwen2Config / Qwen3Config defaults.
constexpr const char* kQwen2Defaults = R"({"vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32, "max_position_embeddings": 32768,
  "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false})";
constexpr const char* kQwen3Defaults = R"({"vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32, "head_dim": 128,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
  "tie_word_embeddings": false})";

extern const Family kQwen2Family{
    "qwen2", {"qwen2"},  kQwen2Defaults, configure_qwen2,   qwen_layer_types, llama_global_names(), llama_layer_names(),
    {},      qwen2_gguf, {"qwen2"},      qwen2_gguf_config, nullptr};
extern const Family kQwen3Family{"qwen3",
                                 {"qwen3"},
                                 kQwen3Defaults,
                                 configure_qwen3,
                                 qwen_layer_types,
                                 llama_global_names(),
                                 llama_layer_names(),
                                 {},
                                 qwen3_gguf,
                                 {"qwen3", "openelm"},
                                 qwen3_gguf_config,
                                 nullptr};

}  // namespace bespoke::model
