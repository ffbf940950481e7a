#include "bespoke/model/tensor_table.h"

namespace bespoke::model {

std::string layer_tensor_name(int64_t layer, const std::string& suffix) {
  return "blk." + std::to_string(layer) + "." + suffix;
}

namespace {

// A row without its units, which set_units() fills.
TensorInfo row(std::string name, int64_t layer, std::vector<int64_t> shape, std::vector<Axis> axes) {
  TensorInfo t;
  t.name = std::move(name);
  t.layer = layer;
  t.shape = std::move(shape);
  t.axes = std::move(axes);
  return t;
}

void add_layer(const ModelSpec& s, int64_t i, std::vector<TensorInfo>& out) {
  const LayerSpec& l = s.layers[i];
  const int64_t E = s.hidden_size, q = l.n_heads * l.head_dim, kv = l.n_kv_heads * l.head_dim;
  auto add = [&](const std::string& suffix, std::vector<int64_t> shape, std::vector<Axis> axes) {
    out.push_back(row(layer_tensor_name(i, suffix), i, std::move(shape), std::move(axes)));
  };
  const bool attention = l.n_heads > 0, mlp = l.ffn_dim > 0;  // an absent one has no tensors, norms included
  if (l.kind == LayerKind::kLinearAttention) {                // key heads are its kKv units, value heads its kQ units
    const DeltaNetSpec& d = l.deltanet;
    const int64_t Ck = d.key_heads * d.key_dim, Cv = d.value_heads * d.value_dim, nv = d.value_heads, K = d.conv_kernel;
    if (s.attn_pre_norm) add("attn_norm.weight", {E}, {Axis::kHidden});
    add("ssm.in_q.weight", {Ck, E}, {Axis::kKv, Axis::kHidden});
    add("ssm.in_k.weight", {Ck, E}, {Axis::kKv, Axis::kHidden});
    add("ssm.in_v.weight", {Cv, E}, {Axis::kQ, Axis::kHidden});
    add("ssm.in_z.weight", {Cv, E}, {Axis::kQ, Axis::kHidden});
    add("ssm.in_b.weight", {nv, E}, {Axis::kQ, Axis::kHidden});
    add("ssm.in_a.weight", {nv, E}, {Axis::kQ, Axis::kHidden});
    add("ssm.conv_q", {Ck, 1, K}, {Axis::kKv, Axis::kNone, Axis::kNone});
    add("ssm.conv_k", {Ck, 1, K}, {Axis::kKv, Axis::kNone, Axis::kNone});
    add("ssm.conv_v", {Cv, 1, K}, {Axis::kQ, Axis::kNone, Axis::kNone});
    add("ssm.dt_bias", {nv}, {Axis::kQ});
    add("ssm.a_log", {nv}, {Axis::kQ});
    add("ssm.norm", {d.value_dim}, {Axis::kNone});
    add("ssm.out.weight", {E, Cv}, {Axis::kHidden, Axis::kQ});
  }
  if (attention) {
    if (s.attn_pre_norm) add("attn_norm.weight", {E}, {Axis::kHidden});
    const int64_t q_rows = s.attn_output_gate ? 2 * q : q;  // each head's [query | gate]
    add("attn_q.weight", {q_rows, E}, {Axis::kQ, Axis::kHidden});
    if (s.qkv_bias) add("attn_q.bias", {q_rows}, {Axis::kQ});
    const bool own_kv = l.kv_source < 0;
    if (own_kv) {
      add("attn_k.weight", {kv, E}, {Axis::kKv, Axis::kHidden});
      if (s.qkv_bias) add("attn_k.bias", {kv}, {Axis::kKv});
      if (!l.k_eq_v) {
        add("attn_v.weight", {kv, E}, {Axis::kKv, Axis::kHidden});
        if (s.qkv_bias) add("attn_v.bias", {kv}, {Axis::kKv});
      }
    }
    if (s.qk_norm == QkNorm::kPerHead) {
      add("attn_q_norm.weight", {l.head_dim}, {Axis::kNone});
      if (own_kv) add("attn_k_norm.weight", {l.head_dim}, {Axis::kNone});
    } else if (s.qk_norm == QkNorm::kFullWidth) {
      add("attn_q_norm.weight", {q}, {Axis::kQ});
      if (own_kv) add("attn_k_norm.weight", {kv}, {Axis::kKv});
    }
    add("attn_output.weight", {E, q}, {Axis::kHidden, Axis::kQ});
    if (s.o_bias) add("attn_output.bias", {E}, {Axis::kHidden});
    if (s.attn_post_norm) add("post_attention_norm.weight", {E}, {Axis::kHidden});
  }
  if (mlp) {
    if (s.ffn_pre_norm) add("ffn_norm.weight", {E}, {Axis::kHidden});
    add("ffn_gate.weight", {l.ffn_dim, E}, {Axis::kFfn, Axis::kHidden});
    if (s.mlp_bias) add("ffn_gate.bias", {l.ffn_dim}, {Axis::kFfn});
    add("ffn_up.weight", {l.ffn_dim, E}, {Axis::kFfn, Axis::kHidden});
    if (s.mlp_bias) add("ffn_up.bias", {l.ffn_dim}, {Axis::kFfn});
    add("ffn_down.weight", {E, l.ffn_dim}, {Axis::kHidden, Axis::kFfn});
    if (s.mlp_bias) add("ffn_down.bias", {E}, {Axis::kHidden});
    if (s.ffn_post_norm) add("post_ffw_norm.weight", {E}, {Axis::kHidden});
  }
  if (s.per_layer_input_dim > 0) {
    const int64_t P = s.per_layer_input_dim;
    add("inp_gate.weight", {P, E}, {Axis::kPerLayerInput, Axis::kHidden});
    add("proj.weight", {E, P}, {Axis::kHidden, Axis::kPerLayerInput});
    add("post_norm.weight", {E}, {Axis::kHidden});
  }
  if (s.layer_output_scale) add("layer_output_scale.weight", {1}, {Axis::kNone});
}

// Elements per head along a kQ or kKv axis of layer tensor `t`.
int64_t head_width(const ModelSpec& s, const LayerSpec& l, const TensorInfo& t, Axis a) {
  if (l.kind != LayerKind::kLinearAttention) {
    const bool gated_q = s.attn_output_gate && a == Axis::kQ && t.name.find(".attn_q.") != std::string::npos;
    return l.head_dim * (gated_q ? 2 : 1);  // a gated query head's rows are [query | gate]
  }
  if (a == Axis::kKv) return l.deltanet.key_dim;
  const std::string suffix = layer_tensor_suffix(t.name);
  const bool per_head =
      suffix == "ssm.in_b.weight" || suffix == "ssm.in_a.weight" || suffix == "ssm.dt_bias" || suffix == "ssm.a_log";
  return per_head ? 1 : l.deltanet.value_dim;
}

void set_units(const ModelSpec& s, TensorInfo& t) {
  const LayerSpec* l = t.layer >= 0 ? &s.layers[t.layer] : nullptr;
  for (Axis a : t.axes) {
    const bool head = a == Axis::kQ || a == Axis::kKv;
    t.unit_width.push_back(head && l ? head_width(s, *l, t, a) : a == Axis::kLayer ? s.per_layer_input_dim : 1);
    if (head && l) t.kv_layer = l->kv_source >= 0 ? l->kv_source : t.layer;
  }
}

}  // namespace

std::vector<TensorInfo> tensor_table(const ModelSpec& s) {
  const int64_t E = s.hidden_size, V = s.vocab_size;
  std::vector<TensorInfo> out;
  out.push_back(row("token_embd.weight", -1, {V, E}, {Axis::kVocab, Axis::kHidden}));
  if (s.per_layer_input_dim > 0) {
    const int64_t LP = s.n_layers() * s.per_layer_input_dim;
    out.push_back(row("per_layer_token_embd.weight", -1, {s.per_layer_vocab_size, LP}, {Axis::kVocab, Axis::kLayer}));
    out.push_back(row("per_layer_model_proj.weight", -1, {LP, E}, {Axis::kLayer, Axis::kHidden}));
    out.push_back(row("per_layer_proj_norm.weight", -1, {s.per_layer_input_dim}, {Axis::kPerLayerInput}));
  }
  for (int64_t i = 0; i < s.n_layers(); ++i) add_layer(s, i, out);
  out.push_back(row("output_norm.weight", -1, {E}, {Axis::kHidden}));
  if (!s.tie_embeddings) out.push_back(row("output.weight", -1, {V, E}, {Axis::kVocab, Axis::kHidden}));
  for (TensorInfo& t : out) set_units(s, t);
  return out;
}

std::vector<std::vector<int64_t>> kv_readers(const ModelSpec& s) {
  std::vector<std::vector<int64_t>> readers(s.n_layers());
  for (int64_t i = 0; i < s.n_layers(); ++i)
    readers[s.layers[i].kv_source >= 0 ? s.layers[i].kv_source : i].push_back(i);
  return readers;
}

}  // namespace bespoke::model
