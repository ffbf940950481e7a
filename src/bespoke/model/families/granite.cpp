// Granite 3.x (transformers models/granite/modeling_granite.py): Llama with four multipliers:
// embeddings (embedding_multiplier), attention scores (attention_multiplier replaces
// 1/sqrt(head_dim)), block outputs (residual_multiplier) and logits (divided by
// logits_scaling).
#include "bespoke/core/json.h"
#include "bespoke/model/family.h"

namespace bespoke::model {
namespace {

void configure_granite(const nlohmann::json& c, ModelSpec& s) {
  s.embedding_scale = config_double(c, "embedding_multiplier", 1.0);
  s.attn_scale = config_double(c, "attention_multiplier", 1.0);
  s.residual_scale = config_double(c, "residual_multiplier", 1.0);
  s.logit_divisor = config_double(c, "logits_scaling", 1.0);
}

}  // namespace

// transformers GraniteConfig defaults.
constexpr const char* kGraniteDefaults = R"({"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
  "num_hidden_layers": 32, "num_attention_heads": 32, "max_position_embeddings": 2048, "rms_norm_eps": 1e-6,
  "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false})";

extern const Family kGraniteFamily{"granite", {"granite"}, kGraniteDefaults, configure_granite, nullptr, llama_global_names(),
                            llama_layer_names(), {}};

}  // namespace bespoke::model
