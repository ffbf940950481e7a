#include "bespoke/prune/expected_size.h"

#include "bespoke/model/tensor_table.h"

namespace bespoke::prune {
namespace {

using model::Axis;

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The expected units kept along one axis of tensor `t`, as a float64 scalar.
torch::Tensor expected_units(const model::ModelSpec& s, const model::UnitMasks& p, const model::TensorInfo& t,
                             size_t dim, const torch::TensorOptions& f64) {
  const auto sum = [&](const torch::Tensor& q, int64_t n) {
    return q.defined() ? q.to(f64).sum() : torch::scalar_tensor(double(n), f64);
  };
  const auto at = [](const std::vector<torch::Tensor>& v, int64_t i) { return v.empty() ? torch::Tensor() : v[i]; };
  const int64_t n = t.units(dim);
  switch (t.axes[dim]) {
    case Axis::kHidden:
      return sum(p.hidden, n);
    case Axis::kLayer:
      return sum(p.layers, n);
    case Axis::kFfn:
      return sum(at(p.ffn, t.layer), n);
    case Axis::kKv:
      return sum(at(p.kv, t.kv_layer), n);
    case Axis::kQ: {  // a query (or DeltaNet value) head is kept when it and its group are
      const model::LayerSpec& l = s.layers[t.layer];
      const int64_t groups = l.group_units();
      torch::Tensor heads = at(p.heads, t.layer), kv = at(p.kv, t.kv_layer);
      heads = heads.defined() ? heads.to(f64) : torch::ones({l.head_units()}, f64);
      kv = kv.defined() ? kv.to(f64) : torch::ones({groups}, f64);
      return (heads.view({groups, -1}).sum(1) * kv).sum();
    }
    default:
      return torch::scalar_tensor(double(n), f64);
  }
}

}  // namespace

torch::Tensor expected_params(const model::ModelSpec& s, const model::UnitMasks& p) {
  torch::Device device = torch::kCPU;
  for (const torch::Tensor* t : {&p.layers, &p.hidden, &p.attn, &p.mlp})
    if (t->defined()) device = t->device();
  const torch::TensorOptions f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const auto gate = [&](const torch::Tensor& q, int64_t i) {
    return q.defined() ? q[i].to(f64) : torch::scalar_tensor(1.0, f64);
  };
  torch::Tensor total = torch::zeros({}, f64);
  for (const model::TensorInfo& t : model::tensor_table(s)) {
    torch::Tensor count = torch::scalar_tensor(1.0, f64);
    for (size_t d = 0; d < t.shape.size(); ++d)
      count = count * expected_units(s, p, t, d, f64) * double(t.unit_width[d]);
    if (t.layer >= 0) {
      const std::string suffix = model::layer_tensor_suffix(t.name);
      count = count * gate(p.layers, t.layer);
      if (starts_with(suffix, "attn_") || starts_with(suffix, "ssm.") || starts_with(suffix, "post_attention_norm"))
        count = count * gate(p.attn, t.layer);
      if (starts_with(suffix, "ffn_") || starts_with(suffix, "post_ffw_norm")) count = count * gate(p.mlp, t.layer);
    }
    total = total + count;
  }
  return total;
}

std::vector<SizeConstraint> size_constraints(const model::ModelSpec& s, const model::UnitMasks& p, const Target& t) {
  std::vector<SizeConstraint> out;
  const int64_t L = s.n_layers();
  const auto one_row = [&](const char* type, const torch::Tensor& kept, int64_t target, int64_t units) {
    out.push_back({type, (kept.to(torch::kFloat64).sum() / double(units)).view({1}), double(target) / units, units});
  };
  if (p.layers.defined()) one_row("layers", p.layers, t.layers, L);
  const torch::Tensor layers = p.layers.defined() ? p.layers.to(torch::kFloat64) : torch::ones({L}, torch::kFloat64);
  if (p.attn.defined()) one_row("attn_blocks", layers.to(p.attn.device()) * p.attn, t.attn_blocks, L);
  if (p.mlp.defined()) one_row("mlp_blocks", layers.to(p.mlp.device()) * p.mlp, t.mlp_blocks, L);
  if (p.hidden.defined()) one_row("hidden", p.hidden, t.hidden, s.hidden_size);
  // Per-layer rows: the layers' shapes are alike where a target applies, so one type's rows
  // share their unit count (that of the first gated layer).
  const auto rows = [&](const char* type, const std::vector<torch::Tensor>& gates, const auto& split, int64_t target) {
    std::vector<torch::Tensor> kept;
    int64_t units = 0;
    for (int64_t i = 0; i < int64_t(gates.size()); ++i) {
      if (!gates[i].defined()) continue;
      const torch::Tensor r = split(i, gates[i].to(torch::kFloat64));  // [rows, units]
      units = r.size(1);
      kept.push_back(r.mean(1));
    }
    if (!kept.empty()) out.push_back({type, torch::cat(kept), double(target) / units, units});
  };
  const auto whole = [](int64_t, const torch::Tensor& g) { return g.view({1, -1}); };
  const auto by_group = [&](int64_t i, const torch::Tensor& g) { return g.view({s.layers[i].group_units(), -1}); };
  // Attention and DeltaNet layers are rows of their own types: the gates of one kind of layer.
  const auto of_kind = [&](const std::vector<torch::Tensor>& gates, bool deltanet) {
    std::vector<torch::Tensor> out(gates.size());
    for (size_t i = 0; i < gates.size(); ++i)
      if ((s.layers[i].kind == model::LayerKind::kLinearAttention) == deltanet) out[i] = gates[i];
    return out;
  };
  for (const bool deltanet : {false, true}) {
    int64_t groups = 0, per_group = 0;  // the target's, in the first layer of the kind with heads
    for (const model::LayerSpec& l : s.layers)
      if (l.head_units() > 0 && (l.kind == model::LayerKind::kLinearAttention) == deltanet && !per_group) {
        const HeadCut c = head_cut(l, t);
        groups = c.groups, per_group = c.heads / c.groups;
      }
    rows(deltanet ? "key_heads" : "kv_heads", of_kind(p.kv, deltanet), whole, groups);
    if (!p.heads.empty()) rows(deltanet ? "value_heads" : "heads", of_kind(p.heads, deltanet), by_group, per_group);
  }
  rows("ffn", p.ffn, whole, t.ffn);
  return out;
}

}  // namespace bespoke::prune
