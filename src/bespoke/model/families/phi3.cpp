// Phi-3 / Phi-4-mini (transformers models/phi3/modeling_phi3.py): fused qkv_proj (rows Q, K,
// V) and gate_up_proj (rows gate, up), split on load into the canonical tensors; partial
// rotary and longrope are read by the generic config reader. In GGUF: a Llama (deci for
// per-layer shapes) where the rope is plain, else llama.cpp's phi3.
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"

namespace bespoke::model {
namespace {

void configure_phi3(const nlohmann::json&, ModelSpec&) {}

// llama.cpp's phi3 picks longrope's factor set by context size (long above the original
// context), where Bespoke and transformers pick by sequence length.
void phi3_keys(const ModelSpec& s, const std::string& a, io::GgufWriter& out) {
  const RopeSpec& r = s.layers[0].rope;
  out.add_uint32(a + ".attention.sliding_window", 0);
  if (r.type != RopeType::kLongRope) return;
  out.add_uint32(a + ".rope.scaling.original_context_length", uint32_t(r.original_context));
  out.add_float32(a + ".rope.scaling.attn_factor", float(r.attention_factor));
}

GgufArch phi3_gguf(const ModelSpec& s) {
  const RopeSpec& r = s.layers[0].rope;
  if (r.type != RopeType::kLongRope && r.partial_rotary_factor == 1.0) return native_or_deci(s, {"llama"});
  GgufArch a{"phi3"};
  a.fused_qkv = a.fused_gate_up = a.longrope = true;
  a.keys = phi3_keys;
  return native_only(s, a, " and deci cannot rotate part of a head or switch longrope factors");
}

std::vector<double> values(const io::GgufFile& f, const std::string& name) {
  const torch::Tensor t = f.get(name).to(torch::kFloat64).contiguous();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

nlohmann::json phi3_gguf_config(const io::GgufFile& f) {
  nlohmann::json c = gguf_base_config(f, "phi3");
  if (!f.has("rope_factors_long.weight")) return c;
  c["original_max_position_embeddings"] = int64_t(gguf_number(f, "phi3.rope.scaling.original_context_length", 0));
  c["rope_scaling"] = {{"rope_type", "longrope"},
                       {"long_factor", values(f, "rope_factors_long.weight")},
                       {"short_factor", values(f, "rope_factors_short.weight")},
                       {"attention_factor", gguf_number(f, "phi3.rope.scaling.attn_factor", 1.0)}};
  return c;
}

}  // namespace

// transformers Phi3Config defaults.
constexpr const char* kPhi3Defaults = R"({"vocab_size": 32064, "hidden_size": 3072, "intermediate_size": 8192,
  "num_hidden_layers": 32, "num_attention_heads": 32, "max_position_embeddings": 4096,
  "original_max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
  "tie_word_embeddings": false})";

// Phi-3 masks every layer to `sliding_window` when the config sets one.
extern const Family kPhi3Family{"phi3",
                                {"phi3"},
                                kPhi3Defaults,
                                configure_phi3,
                                sliding_everywhere_layer_types,
                                llama_global_names(),
                                llama_layer_names(),
                                {{"self_attn.qkv_proj.weight", {"attn_q.weight", "attn_k.weight", "attn_v.weight"}},
                                 {"mlp.gate_up_proj.weight", {"ffn_gate.weight", "ffn_up.weight"}}},
                                phi3_gguf,
                                {"phi3"},
                                phi3_gguf_config,
                                nullptr};

}  // namespace bespoke::model
