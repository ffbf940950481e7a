// Phi-3 / Phi-4-mini (transformers models/phi3/modeling_phi3.py): fused qkv_proj (rows Q, K,
// V) and gate_up_proj (rows gate, up), split on load into the canonical tensors; partial
// rotary and longrope are read by the generic config reader.
#include "bespoke/model/family.h"

namespace bespoke::model {
namespace {

void configure_phi3(const nlohmann::json&, ModelSpec&) {}

}  // namespace

extern const Family kPhi3Family{"phi3",
                         {"phi3"},
                         configure_phi3,
                         nullptr,
                         llama_global_names(),
                         llama_layer_names(),
                         {{"self_attn.qkv_proj.weight", {"attn_q.weight", "attn_k.weight", "attn_v.weight"}},
                          {"mlp.gate_up_proj.weight", {"ffn_gate.weight", "ffn_up.weight"}}}};

}  // namespace bespoke::model
