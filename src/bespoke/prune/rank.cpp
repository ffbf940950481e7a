#include "bespoke/prune/rank.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "bespoke/core/error.h"
#include "bespoke/prune/depth.h"

namespace bespoke::prune {
namespace {

void check_count(const torch::Tensor& t, int64_t want, int64_t layer, const std::string& what) {
  const int64_t got = t.defined() ? t.numel() : 0;
  if (got != want)
    fail(ErrorKind::kInput, "importance of layer " + std::to_string(layer) + " scores " + std::to_string(got) + " " +
                                what + ", the model has " + std::to_string(want));
}

}  // namespace

const torch::Tensor& layer_scores(const Importance& imp) {
  return imp.skip_loss.defined() ? imp.skip_loss : imp.layers;
}

void check_importance(const model::ModelSpec& s, const Importance& imp) {
  if (int64_t(imp.heads.size()) != s.n_layers() || int64_t(imp.kv.size()) != s.n_layers() ||
      int64_t(imp.ffn.size()) != s.n_layers() || !imp.layers.defined() || imp.layers.numel() != s.n_layers())
    fail(ErrorKind::kInput,
         "the importance is of a model with another number of layers than " + std::to_string(s.n_layers()));
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    check_count(imp.heads[i], l.head_units(), i, "heads");
    check_count(imp.kv[i], l.head_units() > 0 ? l.group_units() : 0, i, "head groups");
    check_count(imp.ffn[i], l.ffn_dim, i, "FFN neurons");
  }
}

std::vector<int64_t> top(const torch::Tensor& scores, int64_t k) {
  const torch::Tensor flat = scores.to(torch::kFloat64).contiguous();
  const double* v = flat.data_ptr<double>();
  std::vector<int64_t> order(flat.numel());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [v](int64_t a, int64_t b) { return v[a] > v[b]; });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

Selection ranked_selection(const model::ModelSpec& s, const Importance& imp, const Target& t, bool contiguous) {
  check_target(s, t);
  check_importance(s, imp);
  Selection sel = keep_everything(s);
  if (t.hidden) {
    if (!imp.hidden.defined() || imp.hidden.numel() != s.hidden_size)
      fail(ErrorKind::kInput, "target hidden: the importance has no score for each of the " +
                                  std::to_string(s.hidden_size) + " hidden channels");
    sel.hidden = top(imp.hidden, t.hidden);
  }
  if (t.layers) sel.layers = ranked_layers(s, layer_scores(imp), t.layers, contiguous);
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    LayerSelection& p = sel.per_layer[i];
    if (t.ffn) p.ffn = top(imp.ffn[i], t.ffn);
    if (l.head_units() == 0) continue;
    const HeadCut c = head_cut(l, t);
    const int64_t group = l.head_units() / l.group_units(), per_group = c.heads / c.groups;
    p.kv_groups = l.kv_source >= 0 ? sel.per_layer[l.kv_source].kv_groups : top(imp.kv[i], c.groups);
    const torch::Tensor heads = imp.heads[i].view({l.group_units(), group});
    p.q_heads.clear();
    for (const int64_t g : p.kv_groups)
      for (const int64_t h : top(heads[g], per_group)) p.q_heads.push_back(g * group + h);
  }
  return sel;
}

}  // namespace bespoke::prune
