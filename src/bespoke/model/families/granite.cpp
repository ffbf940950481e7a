// Granite 3.x (transformers models/granite/modeling_granite.py): Llama with four multipliers:
// embeddings (embedding_multiplier), attention scores (attention_multiplier replaces
// 1/sqrt(head_dim)), block outputs (residual_multiplier) and logits (divided by
// logits_scaling). In GGUF: llama.cpp's granite, or deci for per-layer shapes, where the
// multipliers go into the weights.
#include <cmath>

#include "bespoke/core/json.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"

namespace bespoke::model {
namespace {

void configure_granite(const nlohmann::json& c, ModelSpec& s) {
  s.embedding_scale = config_double(c, "embedding_multiplier", 1.0);
  s.attn_scale = config_double(c, "attention_multiplier", 1.0);
  s.residual_scale = config_double(c, "residual_multiplier", 1.0);
  s.logit_divisor = config_double(c, "logits_scaling", 1.0);
}

void granite_keys(const ModelSpec& s, const std::string& a, io::GgufWriter& out) {
  out.add_float32(a + ".logit_scale", float(s.logit_divisor));
  out.add_float32(a + ".residual_scale", float(s.residual_scale));
  out.add_float32(a + ".embedding_scale", float(s.embedding_scale));
  out.add_float32(a + ".attention.scale", float(s.attn_scale));
}

// deci has none of the four multipliers, and each is linear in one weight, so it moves there.
torch::Tensor fold_multipliers(const ModelSpec& s, const std::string& suffix, const torch::Tensor& w) {
  if (suffix == "token_embd.weight") return w * s.embedding_scale;
  if (suffix == "output.weight") return w / s.logit_divisor;
  const double root_head = std::sqrt(double(s.layers[0].head_dim));  // deci scales scores by 1/sqrt(head_dim)
  if (suffix == "attn_q.weight" || suffix == "attn_q.bias")
    return w * (s.attn_scale > 0 ? s.attn_scale * root_head : 1.0);
  if (suffix == "attn_output.weight" || suffix == "attn_output.bias" || suffix == "ffn_down.weight" ||
      suffix == "ffn_down.bias")
    return w * s.residual_scale;
  return w;
}

GgufArch granite_gguf(const ModelSpec& s) {
  if (first_irregular_layer(s) < 0) {
    GgufArch a{"granite"};
    a.keys = granite_keys;
    return a;
  }
  GgufArch a = deci_arch(s);
  a.weight = fold_multipliers;
  a.untie = true;  // the scaled embedding can no longer double as the head
  return a;
}

nlohmann::json granite_gguf_config(const io::GgufFile& f) {
  nlohmann::json c = gguf_base_config(f, "granite");
  c["embedding_multiplier"] = gguf_number(f, "granite.embedding_scale", 1.0);
  c["attention_multiplier"] = gguf_number(f, "granite.attention.scale", 1.0 / std::sqrt(c["head_dim"].get<double>()));
  c["residual_multiplier"] = gguf_number(f, "granite.residual_scale", 1.0);
  c["logits_scaling"] = gguf_number(f, "granite.logit_scale", 1.0);
  return c;
}

}  // namespace

// transformers GraniteConfig defaults.
constexpr const char* kGraniteDefaults = R"({"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
  "num_hidden_layers": 32, "num_attention_heads": 32, "max_position_embeddings": 2048, "rms_norm_eps": 1e-6,
  "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false})";

extern const Family kGraniteFamily{"granite",    {"granite"},          kGraniteDefaults,    configure_granite,
                                   nullptr,      llama_global_names(), llama_layer_names(), {},
                                   granite_gguf, {"granite"},          granite_gguf_config, nullptr};

}  // namespace bespoke::model
