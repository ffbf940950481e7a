// Gemma 4 text (transformers models/gemma4/modeling_gemma4.py). Beyond Gemma 3:
// - plain-w RMSNorm (not 1 + w), a weightless RMSNorm on v, attention scale 1;
// - per-layer token embeddings fed to every layer (hidden_size_per_layer_input);
// - a learned scalar on each layer's output (layer_scalar);
// - "proportional" rope on global layers, which may have another head_dim
//   (per_layer_config, or global_head_dim in older configs);
// - the last num_kv_shared_layers layers reuse the keys and values of the last earlier
//   layer of the same type.
#include <cmath>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/model/families/gemma_common.h"

namespace bespoke::model {
namespace {

// Per-layer overrides keyed by layer index ("05" = layer 5). Keys past the last layer are
// ignored: configs of truncated models keep the original's entries.
void apply_per_layer_config(const nlohmann::json& c, ModelSpec& s) {
  if (c.contains("global_head_dim") && !c["global_head_dim"].is_null()) {
    for (LayerSpec& l : s.layers) {
      if (l.window > 0) continue;
      l.head_dim = config_int(c, "global_head_dim");
    }
  }
  if (!c.contains("per_layer_config") || !c["per_layer_config"].is_object()) return;
  for (const auto& [key, overrides] : c["per_layer_config"].items()) {
    int64_t i = -1;
    try {
      i = std::stoll(key);
    } catch (const std::exception&) {
      fail(ErrorKind::kInput, "per_layer_config key '" + key + "' is not a layer index");
    }
    if (i < 0 || i >= s.n_layers()) continue;
    LayerSpec& l = s.layers[i];
    l.head_dim = config_int(overrides, "head_dim", l.head_dim);
    l.n_heads = config_int(overrides, "num_attention_heads", l.n_heads);
    l.n_kv_heads = config_int(overrides, "num_key_value_heads", l.n_kv_heads);
    l.ffn_dim = config_int(overrides, "intermediate_size", l.ffn_dim);
  }
}

void share_kv(const nlohmann::json& c, ModelSpec& s) {
  const int64_t first_shared = s.n_layers() - config_int(c, "num_kv_shared_layers", 0);
  const bool double_wide = config_bool(c, "use_double_wide_mlp", false);
  for (int64_t i = std::max<int64_t>(first_shared, 1); i < s.n_layers(); ++i) {
    LayerSpec& l = s.layers[i];
    for (int64_t j = first_shared - 1; j >= 0 && l.kv_source < 0; --j)
      if ((s.layers[j].window > 0) == (l.window > 0)) l.kv_source = j;
    if (l.kv_source < 0) fail(ErrorKind::kInput, "layer " + std::to_string(i) + " shares kv but no earlier layer has its type");
    if (double_wide) l.ffn_dim *= 2;
  }
}

void configure_gemma4(const nlohmann::json& c, ModelSpec& s) {
  if (config_bool(c, "enable_moe_block", false))
    fail(ErrorKind::kUnsupported, "Gemma 4 mixture-of-experts layers are not supported");
  if (config_bool(c, "attention_k_eq_v", false))
    fail(ErrorKind::kUnsupported, "Gemma 4 attention_k_eq_v is not supported");
  if (c.contains("use_bidirectional_attention") && !c["use_bidirectional_attention"].is_null() &&
      c["use_bidirectional_attention"] != false)
    fail(ErrorKind::kUnsupported, "Gemma 4 bidirectional attention is not supported");
  configure_gemma_common(c, s);
  s.norm_weight_offset = 0.0;
  s.attn_scale = 1.0;
  s.qk_norm = QkNorm::kPerHead;
  s.v_norm = true;
  s.layer_output_scale = true;
  s.per_layer_input_dim = config_int(c, "hidden_size_per_layer_input", 0);
  s.per_layer_vocab_size = config_int(c, "vocab_size_per_layer_input", s.vocab_size);
  apply_per_layer_config(c, s);
  share_kv(c, s);
}

std::vector<NameRule> gemma4_global_names() {
  std::vector<NameRule> names = llama_global_names();
  names.push_back({"per_layer_token_embd.weight", "model.embed_tokens_per_layer.weight"});
  names.push_back({"per_layer_model_proj.weight", "model.per_layer_model_projection.weight"});
  names.push_back({"per_layer_proj_norm.weight", "model.per_layer_projection_norm.weight"});
  return names;
}

std::vector<NameRule> gemma4_layer_names() {
  std::vector<NameRule> names = gemma_layer_names();
  names.push_back({"inp_gate.weight", "per_layer_input_gate.weight"});
  names.push_back({"proj.weight", "per_layer_projection.weight"});
  names.push_back({"post_norm.weight", "post_per_layer_input_norm.weight"});
  names.push_back({"layer_output_scale.weight", "layer_scalar"});
  return names;
}

// Older configs without layer_types: five local layers to one global, the last always global.
std::vector<std::string> gemma4_layer_types(const nlohmann::json&, int64_t n_layers) {
  std::vector<std::string> types;
  for (int64_t i = 0; i < n_layers; ++i)
    types.push_back((i + 1) % 6 == 0 || i + 1 == n_layers ? "full_attention" : "sliding_attention");
  return types;
}

// Gemma 4 configs list every key; these fill only what a text_config may leave out.
constexpr const char* kGemma4Defaults = R"({"hidden_activation": "gelu_pytorch_tanh", "rms_norm_eps": 1e-6,
  "tie_word_embeddings": true})";

}  // namespace

extern const Family kGemma4Family{"gemma4", {"gemma4_text", "gemma4"}, kGemma4Defaults, configure_gemma4, gemma4_layer_types,
                           gemma4_global_names(), gemma4_layer_names(), {}};

}  // namespace bespoke::model
