// OLMo 2 (transformers models/olmo2/modeling_olmo2.py): no pre-norms; RMSNorm on the attention
// and MLP outputs before each residual add; q and k normed over their full width before the
// head split. In GGUF: llama.cpp's olmo2, which sizes every layer alike.
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"

namespace bespoke::model {
namespace {

void configure_olmo2(const nlohmann::json&, ModelSpec& s) {
  s.attn_pre_norm = s.ffn_pre_norm = false;
  s.attn_post_norm = s.ffn_post_norm = true;
  s.qk_norm = QkNorm::kFullWidth;
  s.norm_weight_in_fp32 = true;
}

std::vector<NameRule> olmo2_layer_names() {
  std::vector<NameRule> names = llama_layer_names();
  for (NameRule& r : names)
    if (r.canonical == "ffn_norm.weight") r.canonical = "post_attention_norm.weight";
  names.push_back({"post_ffw_norm.weight", "post_feedforward_layernorm.weight"});
  return names;
}

GgufArch olmo2_gguf(const ModelSpec& s) {
  return native_only(s, {"olmo2"});
}

nlohmann::json olmo2_gguf_config(const io::GgufFile& f) {
  return gguf_base_config(f, "olmo2");
}

}  // namespace

// transformers Olmo2Config defaults.
constexpr const char* kOlmo2Defaults = R"({"vocab_size": 50304, "hidden_size": 4096, "intermediate_size": 11008,
  "num_hidden_layers": 32, "num_attention_heads": 32, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5,
  "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false})";

extern const Family kOlmo2Family{
    "olmo2", {"olmo2"},  kOlmo2Defaults, configure_olmo2,   nullptr, llama_global_names(), olmo2_layer_names(),
    {},      olmo2_gguf, {"olmo2"},      olmo2_gguf_config, nullptr};

}  // namespace bespoke::model
