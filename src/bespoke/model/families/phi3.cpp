// Phi-3 / Phi-4-mini (transformers models/phi3/modeling_phi3.py): fused qkv_proj (rows Q, K,
// V) and gate_up_proj (rows gate, up), split on load into the canonical tensors; partial
// rotary and longrope are read by the generic config reader.
#include "bespoke/model/family.h"

namespace bespoke::model {
namespace {

void configure_phi3(const nlohmann::json&, ModelSpec&) {}

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
                          {"mlp.gate_up_proj.weight", {"ffn_gate.weight", "ffn_up.weight"}}}};

}  // namespace bespoke::model
