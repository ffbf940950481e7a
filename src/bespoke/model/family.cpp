#include "bespoke/model/family.h"

#include "bespoke/core/error.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::model {

std::vector<NameRule> llama_global_names() {
  return {{"token_embd.weight", "model.embed_tokens.weight"},
          {"output_norm.weight", "model.norm.weight"},
          {"output.weight", "lm_head.weight"}};
}

std::vector<NameRule> llama_layer_names() {
  return {{"attn_norm.weight", "input_layernorm.weight"},    {"attn_q.weight", "self_attn.q_proj.weight"},
          {"attn_q.bias", "self_attn.q_proj.bias"},          {"attn_k.weight", "self_attn.k_proj.weight"},
          {"attn_k.bias", "self_attn.k_proj.bias"},          {"attn_v.weight", "self_attn.v_proj.weight"},
          {"attn_v.bias", "self_attn.v_proj.bias"},          {"attn_q_norm.weight", "self_attn.q_norm.weight"},
          {"attn_k_norm.weight", "self_attn.k_norm.weight"}, {"attn_output.weight", "self_attn.o_proj.weight"},
          {"attn_output.bias", "self_attn.o_proj.bias"},     {"ffn_norm.weight", "post_attention_layernorm.weight"},
          {"ffn_gate.weight", "mlp.gate_proj.weight"},       {"ffn_gate.bias", "mlp.gate_proj.bias"},
          {"ffn_up.weight", "mlp.up_proj.weight"},           {"ffn_up.bias", "mlp.up_proj.bias"},
          {"ffn_down.weight", "mlp.down_proj.weight"},       {"ffn_down.bias", "mlp.down_proj.bias"}};
}

std::vector<std::string> sliding_everywhere_layer_types(const nlohmann::json& c, int64_t n_layers) {
  const bool sliding =
      c.contains("sliding_window") && c["sliding_window"].is_number_integer() && c["sliding_window"].get<int64_t>() > 0;
  return std::vector<std::string>(n_layers, sliding ? "sliding_attention" : "full_attention");
}

const Family& family_for_model_type(const std::string& model_type) {
  std::string supported;
  for (const Family* f : families()) {
    for (const std::string& t : f->model_types) {
      if (t == model_type) return *f;
      supported += (supported.empty() ? "" : ", ") + t;
    }
  }
  fail(ErrorKind::kUnsupported, "unsupported model_type '" + model_type + "' (supported: " + supported + ")");
}

const Family& family_named(const std::string& name) {
  for (const Family* f : families())
    if (f->name == name) return *f;
  fail(ErrorKind::kInternal, "no family named '" + name + "'");
}

const Family& family_for_gguf_arch(const std::string& arch) {
  std::string supported;
  for (const Family* f : families())
    for (const std::string& a : f->gguf_reads) {
      if (a == arch) return *f;
      supported += (supported.empty() ? "" : ", ") + a;
    }
  fail(ErrorKind::kUnsupported, "GGUF architecture '" + arch + "' is not read by Bespoke (" + supported + ")");
}

std::string hf_tensor_name(const Family& family, const std::string& canonical) {
  for (const NameRule& r : family.global_names)
    if (r.canonical == canonical) return r.hf;
  if (canonical.rfind("blk.", 0) != 0) return "";
  const size_t dot = canonical.find('.', 4);
  const std::string layer = canonical.substr(4, dot - 4);
  const std::string suffix = layer_tensor_suffix(canonical);
  for (const NameRule& r : family.layer_names)
    if (r.canonical == suffix) return "model.layers." + layer + "." + r.hf;
  return "";
}

}  // namespace bespoke::model
