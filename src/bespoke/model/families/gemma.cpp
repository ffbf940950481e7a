// Gemma 2 (transformers models/gemma2/modeling_gemma2.py) and Gemma 3 text
// (models/gemma3/modeling_gemma3.py): (1 + w) RMSNorm, embeddings times sqrt(hidden),
// sandwich norms around attention and MLP, scores scaled by query_pre_attn_scalar^-0.5,
// soft-capped scores and logits (Gemma 2), per-head q/k norms and local/global rope bases
// (Gemma 3).
#include <cmath>

#include "bespoke/core/json.h"
#include "bespoke/model/families/gemma_common.h"

namespace bespoke::model {

// Shared with Gemma 4.
void configure_gemma_common(const nlohmann::json& c, ModelSpec& s) {
  s.norm_weight_offset = 1.0;
  s.norm_weight_in_fp32 = true;
  s.attn_post_norm = s.ffn_post_norm = true;
  s.embedding_scale = std::sqrt(static_cast<double>(s.hidden_size));
  const double scalar = config_double(c, "query_pre_attn_scalar", 0.0);
  if (scalar > 0) s.attn_scale = 1.0 / std::sqrt(scalar);
  s.attn_softcap = config_double(c, "attn_logit_softcapping", 0.0);
  s.final_softcap = config_double(c, "final_logit_softcapping", 0.0);
}

std::vector<NameRule> gemma_layer_names() {
  std::vector<NameRule> names = llama_layer_names();
  for (NameRule& r : names)
    if (r.canonical == "ffn_norm.weight") r.canonical = "post_attention_norm.weight";
  names.push_back({"ffn_norm.weight", "pre_feedforward_layernorm.weight"});
  names.push_back({"post_ffw_norm.weight", "post_feedforward_layernorm.weight"});
  return names;
}

namespace {

void configure_gemma3(const nlohmann::json& c, ModelSpec& s) {
  configure_gemma_common(c, s);
  s.qk_norm = QkNorm::kPerHead;
}

// Older Gemma 2 configs: even layers are local.
std::vector<std::string> gemma2_layer_types(const nlohmann::json&, int64_t n_layers) {
  std::vector<std::string> types;
  for (int64_t i = 0; i < n_layers; ++i) types.push_back(i % 2 ? "full_attention" : "sliding_attention");
  return types;
}

// Older Gemma 3 configs: every `sliding_window_pattern`-th layer is global.
std::vector<std::string> gemma3_layer_types(const nlohmann::json& c, int64_t n_layers) {
  const int64_t period = config_int(c, "sliding_window_pattern", 6);
  std::vector<std::string> types;
  for (int64_t i = 0; i < n_layers; ++i)
    types.push_back((i + 1) % period ? "sliding_attention" : "full_attention");
  return types;
}

}  // namespace

// transformers Gemma2Config / Gemma3TextConfig defaults.
constexpr const char* kGemma2Defaults = R"({"vocab_size": 256000, "hidden_size": 2304, "intermediate_size": 9216,
  "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 8192, "rms_norm_eps": 1e-6,
  "rope_theta": 10000.0, "query_pre_attn_scalar": 256, "sliding_window": 4096, "final_logit_softcapping": 30.0,
  "attn_logit_softcapping": 50.0, "tie_word_embeddings": true})";
constexpr const char* kGemma3Defaults = R"({"vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216,
  "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 131072, "rms_norm_eps": 1e-6,
  "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "query_pre_attn_scalar": 256, "sliding_window": 4096,
  "sliding_window_pattern": 6, "tie_word_embeddings": true})";

extern const Family kGemma2Family{"gemma2", {"gemma2"}, kGemma2Defaults, configure_gemma_common, gemma2_layer_types,
                                  llama_global_names(), gemma_layer_names(), {}};
extern const Family kGemma3Family{"gemma3", {"gemma3_text", "gemma3"}, kGemma3Defaults, configure_gemma3,
                                  gemma3_layer_types, llama_global_names(), gemma_layer_names(), {}};

}  // namespace bespoke::model
