#include "bespoke/prune/fold.h"

#include "bespoke/model/tensor_table.h"

namespace bespoke::prune {
namespace {

using torch::Tensor;

class Folder {
 public:
  explicit Folder(model::Transformer& m) : spec_(m->spec()), params_(m->named_parameters()) {}

  // The parameter `name`, or an undefined tensor where the model has none.
  Tensor at(const std::string& name) {
    Tensor* p = params_.find(name);
    return p ? *p : Tensor();
  }
  Tensor at(int64_t layer, const std::string& suffix) { return at(model::layer_tensor_name(layer, suffix)); }

  // t *= by, `by` broadcast from the CPU mask's values.
  static void scale(Tensor t, const Tensor& by) {
    if (t.defined()) t.mul_(by.detach().to(t.device(), t.scalar_type()));
  }
  // A norm's (offset + w) times `by`.
  void scale_norm(Tensor w, const Tensor& by) {
    if (!w.defined()) return;
    const double offset = spec_.norm_weight_offset;
    w.copy_(((w.to(torch::kFloat64) + offset) * by.detach().to(w.device(), torch::kFloat64) - offset).to(w.dtype()));
  }

  void heads(int64_t i, const Tensor& head, const Tensor& kv_of_source, const Tensor& own_kv) {
    const model::LayerSpec& l = spec_.layers[i];
    const int64_t H = l.n_heads, KV = l.n_kv_heads, hd = l.head_dim, E = spec_.hidden_size;
    Tensor per_head = head.defined() ? head.detach().to(torch::kFloat32) : torch::ones({H});
    if (kv_of_source.defined())
      per_head = per_head * kv_of_source.detach().to(torch::kFloat32).repeat_interleave(H / KV);
    scale(at(i, "attn_output.weight").view({E, H, hd}), per_head.view({1, H, 1}));
    if (spec_.qk_norm != model::QkNorm::kFullWidth) return;
    Tensor q = head.defined() ? head.detach().to(torch::kFloat32) : Tensor();
    if (own_kv.defined()) {
      const Tensor group = own_kv.detach().to(torch::kFloat32).repeat_interleave(H / KV);
      q = q.defined() ? q * group : group;
    }
    if (q.defined()) {
      scale(at(i, "attn_q.weight").view({H, hd, E}), q.view({H, 1, 1}));
      if (Tensor b = at(i, "attn_q.bias"); b.defined()) scale(b.view({H, hd}), q.view({H, 1}));
    }
    if (own_kv.defined()) {
      scale(at(i, "attn_k.weight").view({KV, hd, E}), own_kv.view({KV, 1, 1}));
      if (Tensor b = at(i, "attn_k.bias"); b.defined()) scale(b.view({KV, hd}), own_kv.view({KV, 1}));
    }
  }

  // A DeltaNet's value-head values, times those of their key heads, into ssm.out's columns: each
  // head's output reaches only its own columns.
  void deltanet_heads(int64_t i, const Tensor& head, const Tensor& key) {
    const model::DeltaNetSpec& d = spec_.layers[i].deltanet;
    const int64_t nv = d.value_heads, E = spec_.hidden_size;
    Tensor per_head = head.defined() ? head.detach().to(torch::kFloat32) : torch::ones({nv});
    if (key.defined()) per_head = per_head * key.detach().to(torch::kFloat32).repeat_interleave(nv / d.key_heads);
    scale(at(i, "ssm.out.weight").view({E, nv, d.value_dim}), per_head.view({1, nv, 1}));
  }

  // A branch's scale: into its post-norm where it has one, else into the matrix that writes it.
  void branch(int64_t i, const Tensor& s, const char* post_norm, const char* writer) {
    if (Tensor w = at(i, std::string(post_norm) + ".weight"); w.defined()) return scale_norm(w, s);
    scale(at(i, std::string(writer) + ".weight"), s);
    scale(at(i, std::string(writer) + ".bias"), s);
  }

  void hidden(const Tensor& z) {
    const int64_t E = spec_.hidden_size;
    scale(at("token_embd.weight"), z.view({1, E}));
    for (int64_t i = 0; i < spec_.n_layers(); ++i)
      for (const char* writer : {"attn_output", "ssm.out", "ffn_down", "proj"}) {
        scale(at(i, std::string(writer) + ".weight"), z.view({E, 1}));
        scale(at(i, std::string(writer) + ".bias"), z);
      }
    // Dropped channels are zero in the stream, whatever the norm's weight there.
    if (spec_.tie_embeddings)
      scale_norm(at("output_norm.weight"), torch::reciprocal(torch::where(z > 0, z, torch::ones_like(z))));
  }

 private:
  const model::ModelSpec& spec_;
  torch::OrderedDict<std::string, Tensor> params_;
};

Tensor entry(const Tensor& t, int64_t i) {
  return t.defined() ? t[i] : Tensor();
}

Tensor product(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  return b.defined() ? a * b : a;
}

Tensor layer_entry(const std::vector<Tensor>& v, int64_t i) {
  return v.empty() ? Tensor() : v[i];
}

}  // namespace

void fold_mask_values(model::Transformer& model, const model::UnitMasks& v) {
  torch::NoGradGuard no_grad;
  Folder f(model);
  const model::ModelSpec& s = model->spec();
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    const int64_t source = l.kv_source >= 0 ? l.kv_source : i;
    const bool deltanet = l.kind == model::LayerKind::kLinearAttention;
    if (deltanet) f.deltanet_heads(i, layer_entry(v.heads, i), layer_entry(v.kv, i));
    if (l.n_heads > 0) f.heads(i, layer_entry(v.heads, i), layer_entry(v.kv, source), layer_entry(v.kv, i));
    if (const Tensor z = layer_entry(v.ffn, i); z.defined() && l.ffn_dim > 0)
      Folder::scale(f.at(i, "ffn_down.weight"), z.view({1, l.ffn_dim}));
    const Tensor layer = entry(v.layers, i);
    if (const Tensor s_attn = product(layer, entry(v.attn, i)); s_attn.defined() && (l.n_heads > 0 || deltanet))
      f.branch(i, s_attn, "post_attention_norm", deltanet ? "ssm.out" : "attn_output");
    if (const Tensor s_mlp = product(layer, entry(v.mlp, i)); s_mlp.defined() && l.ffn_dim > 0)
      f.branch(i, s_mlp, "post_ffw_norm", "ffn_down");
    if (!layer.defined()) continue;
    if (s.per_layer_input_dim > 0) f.scale_norm(f.at(i, "post_norm.weight"), layer);
    if (Tensor w = f.at(i, "layer_output_scale.weight"); w.defined()) {
      const Tensor z = layer.detach().to(w.device(), w.scalar_type());
      w.mul_(z).add_(1 - z);
    }
  }
  if (v.hidden.defined()) f.hidden(v.hidden.detach().to(torch::kFloat32));
}

}  // namespace bespoke::prune
