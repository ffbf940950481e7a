#include "bespoke/prune/learned_masks.h"

#include <ATen/CPUGeneratorImpl.h>

#include "bespoke/core/error.h"
#include "bespoke/model/tensor_table.h"
#include "bespoke/prune/hard_concrete.h"
#include "bespoke/prune/rank.h"

namespace bespoke::prune {
namespace {

// log α = 5 for the `k` highest of `scores`, 0 for the rest.
torch::Tensor top_open(const torch::Tensor& scores, int64_t k) {
  torch::Tensor out = torch::zeros({scores.numel()});
  const torch::Tensor order =
      std::get<1>(scores.to(torch::kFloat64).sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  out.index_fill_(0, order.narrow(0, 0, k), 5.0);
  return out;
}

void check_size(const torch::Tensor& scores, int64_t n, const std::string& what) {
  if (!scores.defined() || scores.numel() != n)
    fail(ErrorKind::kInput, "importance: " + what + " has " + std::to_string(scores.defined() ? scores.numel() : 0) +
                                " scores, the model " + std::to_string(n) + " units");
}

}  // namespace

std::vector<bool> layers_read_by_others(const model::ModelSpec& s) {
  const std::vector<std::vector<int64_t>> readers = model::kv_readers(s);
  std::vector<bool> out(s.n_layers());
  for (int64_t i = 0; i < s.n_layers(); ++i) out[i] = readers[i].size() > 1;
  return out;
}

std::vector<bool> attention_shared(const model::ModelSpec& s) {
  std::vector<bool> out = layers_read_by_others(s);
  for (int64_t i = 0; i < s.n_layers(); ++i) out[i] = out[i] || s.layers[i].kv_source >= 0;
  return out;
}

namespace {

// Whether `t` cuts the heads within layer l's groups, and whether it cuts the groups (query heads
// and KV groups, or a DeltaNet's value and key heads).
std::pair<bool, bool> cuts_heads_and_groups(const model::LayerSpec& l, const Target& t) {
  if (l.head_units() == 0) return {false, false};
  const HeadCut c = head_cut(l, t);
  return {c.heads / c.groups < l.head_units() / l.group_units(), c.groups < l.group_units()};
}

}  // namespace

model::UnitMasks make_learned_masks(const model::ModelSpec& s, const Target& t, uint64_t seed) {
  check_target(s, t);
  if (t.global_heads || t.global_kv_heads)
    fail(ErrorKind::kUnsupported,
         "learned masks do not take global-layer head targets yet (global_heads, global_kv_heads): cut those with "
         "--method minitron, taylor or random");
  if (t.attn_blocks)
    for (int64_t i = 0; i < s.n_layers(); ++i)
      if (s.layers[i].kind == model::LayerKind::kLinearAttention)
        fail(ErrorKind::kUnsupported, "target attn_blocks: layer " + std::to_string(i) +
                                          " is a DeltaNet layer, which keeps its mixer (cut its heads or the layer)");
  const at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto start = [&](int64_t n) { return at::normal(5.0, 0.01, {n}, gen); };
  model::UnitMasks m;
  const int64_t L = s.n_layers();
  if (t.layers && t.layers < L) m.layers = start(L);
  if (t.attn_blocks) m.attn = start(L);
  if (t.mlp_blocks) m.mlp = start(L);
  if (t.hidden && t.hidden < s.hidden_size) m.hidden = start(s.hidden_size);
  bool heads = false, kv = false, ffn = false;
  for (const model::LayerSpec& l : s.layers) {
    const auto [cut_heads, cut_groups] = cuts_heads_and_groups(l, t);
    heads = heads || cut_heads;
    kv = kv || cut_groups;
    ffn = ffn || (t.ffn && t.ffn < l.ffn_dim);
  }
  for (const model::LayerSpec& l : s.layers) {
    const auto [cut_heads, cut_groups] = cuts_heads_and_groups(l, t);
    if (heads) m.heads.push_back(cut_heads ? start(l.head_units()) : torch::Tensor());
    if (kv) m.kv.push_back(cut_groups && l.kv_source < 0 ? start(l.group_units()) : torch::Tensor());
    if (ffn) m.ffn.push_back(l.ffn_dim > 0 ? start(l.ffn_dim) : torch::Tensor());
  }
  return m;
}

void init_from_importance(model::UnitMasks& m, const model::ModelSpec& s, const Target& t, const Importance& imp) {
  torch::NoGradGuard no_grad;
  const int64_t L = s.n_layers();
  if (m.hidden.defined()) {
    check_size(imp.hidden, s.hidden_size, "hidden");
    m.hidden.copy_(top_open(imp.hidden, t.hidden));
  }
  if (m.layers.defined()) {
    const torch::Tensor scores = layer_scores(imp);
    check_size(scores, L, "layers");
    m.layers.copy_(top_open(scores, t.layers));
  }
  for (int64_t i = 0; i < L; ++i) {
    const model::LayerSpec& l = s.layers[i];
    const std::string at = " of layer " + std::to_string(i);
    if (!m.ffn.empty() && m.ffn[i].defined()) {
      check_size(i < int64_t(imp.ffn.size()) ? imp.ffn[i] : torch::Tensor(), l.ffn_dim, "ffn" + at);
      m.ffn[i].copy_(top_open(imp.ffn[i], t.ffn));
    }
    const HeadCut c = head_cut(l, t);
    if (!m.kv.empty() && m.kv[i].defined()) {
      check_size(i < int64_t(imp.kv.size()) ? imp.kv[i] : torch::Tensor(), l.group_units(), "kv" + at);
      m.kv[i].copy_(top_open(imp.kv[i], c.groups));
    }
    if (!m.heads.empty() && m.heads[i].defined()) {
      check_size(i < int64_t(imp.heads.size()) ? imp.heads[i] : torch::Tensor(), l.head_units(), "heads" + at);
      const int64_t group = l.head_units() / l.group_units(), per_group = c.heads / c.groups;
      for (int64_t g = 0; g < l.group_units(); ++g)
        m.heads[i].narrow(0, g * group, group).copy_(top_open(imp.heads[i].narrow(0, g * group, group), per_group));
    }
  }
}

std::vector<std::pair<std::string, torch::Tensor>> named_gates(const model::UnitMasks& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [name, t] :
       {std::pair("layers", &m.layers), {"attn", &m.attn}, {"mlp", &m.mlp}, {"hidden", &m.hidden}})
    if (t->defined()) out.push_back({name, *t});
  for (const auto& [name, v] : {std::pair("heads", &m.heads), {"kv", &m.kv}, {"ffn", &m.ffn}})
    for (size_t i = 0; i < v->size(); ++i)
      if ((*v)[i].defined()) out.push_back({std::string(name) + "." + std::to_string(i), (*v)[i]});
  return out;
}

model::UnitMasks map_gates(const model::UnitMasks& m, const std::function<torch::Tensor(const torch::Tensor&)>& f) {
  const auto one = [&](const torch::Tensor& t) { return t.defined() ? f(t) : torch::Tensor(); };
  const auto each = [&](const std::vector<torch::Tensor>& v) {
    std::vector<torch::Tensor> out;
    for (const torch::Tensor& t : v) out.push_back(one(t));
    return out;
  };
  model::UnitMasks out;
  out.layers = one(m.layers);
  out.attn = one(m.attn);
  out.mlp = one(m.mlp);
  out.hidden = one(m.hidden);
  out.heads = each(m.heads);
  out.kv = each(m.kv);
  out.ffn = each(m.ffn);
  return out;
}

namespace {

// `gates` with the entries where `held` open at 1.
torch::Tensor hold_open(const torch::Tensor& gates, const std::vector<bool>& held) {
  if (!gates.defined()) return gates;
  torch::Tensor free = torch::ones({int64_t(held.size())});
  for (size_t i = 0; i < held.size(); ++i) free[i] = held[i] ? 0.0 : 1.0;
  free = free.to(gates.device());
  return gates * free + (1 - free);
}

// The gates learning never moves: the layer gates of layers others read from, the attention
// gates of layers that share keys and values.
model::UnitMasks hold_fixed_gates(const model::ModelSpec& s, model::UnitMasks m) {
  m.layers = hold_open(m.layers, layers_read_by_others(s));
  m.attn = hold_open(m.attn, attention_shared(s));
  return m;
}

}  // namespace

model::UnitMasks sample_masks(const model::ModelSpec& s, const model::UnitMasks& log_alpha) {
  return hold_fixed_gates(s, map_gates(log_alpha, sample_gates));
}

model::UnitMasks open_probabilities(const model::ModelSpec& s, const model::UnitMasks& log_alpha) {
  return hold_fixed_gates(s, map_gates(log_alpha, gate_open_probability));
}

}  // namespace bespoke::prune
