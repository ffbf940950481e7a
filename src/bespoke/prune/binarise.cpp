#include "bespoke/prune/binarise.h"

#include <algorithm>

#include "bespoke/core/error.h"
#include "bespoke/prune/depth.h"
#include "bespoke/prune/hard_concrete.h"
#include "bespoke/prune/learned_masks.h"

namespace bespoke::prune {
namespace {

std::vector<double> values_of(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// The `k` of `candidates` with the highest `score`, ascending; ties to the lower index.
std::vector<int64_t> top(const std::vector<double>& score, std::vector<int64_t> candidates, int64_t k) {
  std::stable_sort(candidates.begin(), candidates.end(), [&](int64_t a, int64_t b) { return score[a] > score[b]; });
  candidates.resize(std::min<int64_t>(k, candidates.size()));
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> v;
  for (int64_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

// The deterministic values at the kept units, 0 elsewhere; undefined without gates.
torch::Tensor kept_values(const torch::Tensor& log_alpha, const std::vector<int64_t>& kept) {
  if (!log_alpha.defined()) return {};
  const torch::Tensor det = deterministic_gates(log_alpha.detach().to(torch::kCPU, torch::kFloat32));
  torch::Tensor keep = torch::zeros_like(det);
  for (const int64_t u : kept) keep[u] = 1.0;
  return det * keep;
}

const torch::Tensor& gates_at(const std::vector<torch::Tensor>& v, int64_t i) {
  static const torch::Tensor none;
  return v.empty() ? none : v[i];
}

}  // namespace

Binarised binarise(const model::ModelSpec& s, const model::UnitMasks& a, const Target& t) {
  const int64_t L = s.n_layers();
  const std::vector<bool> read = layers_read_by_others(s), shared = attention_shared(s);
  Binarised out;
  Selection& sel = out.selection;
  sel = keep_everything(s);
  const auto score = [](const torch::Tensor& log_alpha) { return values_of(deterministic_gates(log_alpha.detach())); };
  if (a.hidden.defined()) sel.hidden = top(score(a.hidden), sel.hidden, t.hidden);
  if (a.layers.defined()) sel.layers = ranked_layers(s, deterministic_gates(a.layers.detach()), t.layers, false);
  // A block stays where its layer stays, those that share keys and values first.
  const auto blocks = [&](const torch::Tensor& log_alpha, int64_t n, const std::vector<bool>& forced) {
    std::vector<double> v = score(log_alpha);
    for (const int64_t i : sel.layers)
      if (forced[i]) v[i] = 2.0;  // above every deterministic value
    return top(v, sel.layers, n);
  };
  const std::vector<int64_t> attn = a.attn.defined() ? blocks(a.attn, t.attn_blocks, shared) : sel.layers;
  const std::vector<int64_t> mlp = a.mlp.defined() ? blocks(a.mlp, t.mlp_blocks, std::vector<bool>(L)) : sel.layers;
  for (const int64_t i : sel.layers)
    if (shared[i] && !std::binary_search(attn.begin(), attn.end(), i))
      fail(ErrorKind::kInput, "target attn_blocks " + std::to_string(t.attn_blocks) +
                                  ": fewer than the kept layers that share keys and values");

  out.values.heads.resize(a.heads.size());
  out.values.kv.resize(a.kv.size());
  out.values.ffn.resize(a.ffn.size());
  for (int64_t i = 0; i < L; ++i) {
    const model::LayerSpec& l = s.layers[i];
    LayerSelection& p = sel.per_layer[i];
    if (!std::binary_search(mlp.begin(), mlp.end(), i)) p.ffn.clear();
    if (const torch::Tensor& g = gates_at(a.ffn, i); g.defined() && !p.ffn.empty()) p.ffn = top(score(g), p.ffn, t.ffn);
    if (!out.values.ffn.empty()) out.values.ffn[i] = kept_values(gates_at(a.ffn, i), p.ffn);
    if (l.head_units() == 0) continue;
    const HeadCut c = head_cut(l, t);  // query heads in KV groups, or a DeltaNet's value heads in key heads
    if (!std::binary_search(attn.begin(), attn.end(), i)) {
      p.kv_groups.clear();
      p.q_heads.clear();
    } else {
      if (l.kv_source >= 0)
        p.kv_groups = sel.per_layer[l.kv_source].kv_groups;
      else if (const torch::Tensor& g = gates_at(a.kv, i); g.defined())
        p.kv_groups = top(score(g), p.kv_groups, c.groups);
      const int64_t group = l.head_units() / l.group_units();
      const torch::Tensor& g = gates_at(a.heads, i);
      const int64_t per_group = g.defined() ? c.heads / c.groups : group;
      p.q_heads.clear();
      for (const int64_t k : p.kv_groups) {
        const std::vector<int64_t> in_group = range(k * group, (k + 1) * group);
        for (const int64_t h : g.defined() ? top(score(g), in_group, per_group) : in_group) p.q_heads.push_back(h);
      }
    }
    if (!out.values.kv.empty()) out.values.kv[i] = kept_values(gates_at(a.kv, i), p.kv_groups);
    if (!out.values.heads.empty()) out.values.heads[i] = kept_values(gates_at(a.heads, i), p.q_heads);
  }
  out.values.hidden = kept_values(a.hidden, sel.hidden);
  // The held gates are 1, as while learning.
  const auto held = [&](torch::Tensor v, const std::vector<bool>& at) {
    for (int64_t i = 0; i < L && v.defined(); ++i)
      if (at[i]) v[i] = 1.0;
    return v;
  };
  out.values.layers = held(kept_values(a.layers, sel.layers), read);
  out.values.attn = held(kept_values(a.attn, attn), shared);
  out.values.mlp = kept_values(a.mlp, mlp);
  selected_spec(s, sel);  // a selection no model can have is refused here, naming the layer
  return out;
}

}  // namespace bespoke::prune
