#include "bespoke/prune/selection.h"

#include <numeric>
#include <string>

#include "bespoke/core/error.h"
#include "bespoke/model/family.h"

namespace bespoke::prune {
namespace {

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

bool ascending_below(const std::vector<int64_t>& v, int64_t n) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] < 0 || v[i] >= n || (i > 0 && v[i] <= v[i - 1])) return false;
  return true;
}

void check(bool ok, int64_t layer, const std::string& what) {
  if (!ok) fail(ErrorKind::kInput, "layer " + std::to_string(layer) + ": " + what);
}

// Layer i's shape with `p`'s units, its heads checked against its groups (query heads in KV
// groups, or a DeltaNet's value heads in key heads).
model::LayerSpec selected_layer(const model::LayerSpec& l, const LayerSelection& p, int64_t i) {
  const bool deltanet = l.kind == model::LayerKind::kLinearAttention;
  const std::string heads = deltanet ? "value heads" : "query heads", group = deltanet ? "key head" : "KV group";
  const int64_t n_heads = l.head_units(), n_groups = l.group_units();
  check(ascending_below(p.kv_groups, n_groups), i,
        "kept " + group + "s must be ascending indices below " + std::to_string(n_groups));
  check(ascending_below(p.q_heads, n_heads), i,
        "kept " + heads + " must be ascending indices below " + std::to_string(n_heads));
  check(ascending_below(p.ffn, l.ffn_dim), i,
        "kept FFN neurons must be ascending indices below " + std::to_string(l.ffn_dim));
  std::vector<int64_t> in_group(n_groups, 0);
  for (const int64_t h : p.q_heads) ++in_group[h / (n_heads / n_groups)];
  std::vector<bool> kept(n_groups, false);
  for (const int64_t g : p.kv_groups) kept[g] = true;
  for (int64_t g = 0; g < n_groups; ++g)
    check(kept[g] || in_group[g] == 0, i,
          "keeps " + heads + " of " + group + " " + std::to_string(g) + ", which it drops");
  for (const int64_t g : p.kv_groups)
    check(in_group[g] > 0 && in_group[g] == in_group[p.kv_groups[0]], i,
          "every kept " + group + " needs the same number of " + heads + " (" + group + " " + std::to_string(g) +
              " keeps " + std::to_string(in_group[g]) + ")");
  model::LayerSpec out = l;
  if (deltanet) {
    check(!p.kv_groups.empty(), i, "a DeltaNet layer keeps at least one key head (or the layer goes)");
    out.deltanet.key_heads = int64_t(p.kv_groups.size());
    out.deltanet.value_heads = int64_t(p.q_heads.size());
  } else {
    out.n_kv_heads = int64_t(p.kv_groups.size());
    out.n_heads = int64_t(p.q_heads.size());
  }
  out.ffn_dim = int64_t(p.ffn.size());
  return out;
}

}  // namespace

Selection keep_everything(const model::ModelSpec& s) {
  Selection sel;
  sel.hidden = iota(s.hidden_size);
  sel.layers = iota(s.n_layers());
  for (const model::LayerSpec& l : s.layers)
    sel.per_layer.push_back({iota(l.group_units()), iota(l.head_units()), iota(l.ffn_dim)});
  return sel;
}

model::ModelSpec selected_spec(const model::ModelSpec& s, const Selection& sel) {
  if (int64_t(sel.per_layer.size()) != s.n_layers())
    fail(ErrorKind::kInput, "the selection describes " + std::to_string(sel.per_layer.size()) +
                                " layers, the model has " + std::to_string(s.n_layers()));
  if (sel.layers.empty() || !ascending_below(sel.layers, s.n_layers()))
    fail(ErrorKind::kInput,
         "kept layers must be ascending indices below " + std::to_string(s.n_layers()) + ", at least one");
  if (sel.hidden.empty() || !ascending_below(sel.hidden, s.hidden_size))
    fail(ErrorKind::kInput,
         "kept hidden channels must be ascending indices below " + std::to_string(s.hidden_size) + ", at least one");
  std::vector<int64_t> new_index(s.n_layers(), -1);
  for (size_t k = 0; k < sel.layers.size(); ++k) new_index[sel.layers[k]] = int64_t(k);
  model::ModelSpec out = s;
  out.hidden_size = int64_t(sel.hidden.size());
  if (out.hidden_size != s.hidden_size) {
    const model::Family& family = model::family_named(s.family);
    if (family.resize_hidden) family.resize_hidden(out);
  }
  out.layers.clear();
  for (const int64_t i : sel.layers) {
    model::LayerSpec l = selected_layer(s.layers[i], sel.per_layer[i], i);
    const int64_t source = s.layers[i].kv_source;
    if (source >= 0) {  // its keys and values are its source's: the same groups, or none
      check(new_index[source] >= 0 || l.n_heads == 0, i,
            "reads the keys and values of layer " + std::to_string(source) + ", which the selection drops");
      check(sel.per_layer[i].kv_groups == sel.per_layer[source].kv_groups, i,
            "must keep the KV groups of layer " + std::to_string(source) + ", whose keys and values it reads");
      l.kv_source = l.n_heads > 0 ? new_index[source] : -1;
    }
    out.layers.push_back(l);
  }
  model::validate(out);
  return out;
}

}  // namespace bespoke::prune
