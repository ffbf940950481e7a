#include "bespoke/prune/non_uniform.h"

#include <algorithm>
#include <numeric>

#include "bespoke/model/tensor_table.h"
#include "bespoke/prune/rank.h"

namespace bespoke::prune {
namespace {

// One step a kept layer can grow by: its next slice of query heads (one more per kept group) or
// its next block of FFN neurons, taken only from `from` to `to`.
struct Step {
  int64_t layer;  // in the cut
  bool heads;
  int64_t from, to;  // heads per group, or neurons
  double score;      // the mean standardised score of the units it adds
  int64_t cost;      // parameters it adds
};

// (s - mean) / std within one layer, so that layers of larger activations do not win by scale.
std::vector<double> standardised(const torch::Tensor& scores) {
  const torch::Tensor s = scores.to(torch::kFloat64);
  const double std = s.numel() > 1 ? s.std(false).item<double>() : 0.0;
  const torch::Tensor z = (std > 0 ? (s - s.mean()) / std : torch::zeros_like(s)).contiguous();
  return std::vector<double>(z.data_ptr<double>(), z.data_ptr<double>() + z.numel());
}

// Indices of `z` from the highest value down; ties to the lower index.
std::vector<int64_t> descending(const std::vector<double>& z, int64_t first, int64_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), first);
  std::stable_sort(order.begin(), order.end(), [&z](int64_t a, int64_t b) { return z[a] > z[b]; });
  return order;
}

// Parameters the cut `spec` gains per query-head slice and per FFN neuron of its layer k.
std::pair<int64_t, int64_t> unit_costs(model::ModelSpec spec, int64_t k, int64_t kv) {
  const int64_t base = model::parameter_count(spec);
  spec.layers[k].n_heads += kv;
  const int64_t slice = model::parameter_count(spec) - base;
  spec.layers[k].n_heads -= kv;
  spec.layers[k].ffn_dim += 1;
  return {slice, model::parameter_count(spec) - base};
}

}  // namespace

int64_t ffn_block(int64_t ffn_dim) {
  return ffn_dim >= 512 ? 64 : std::max<int64_t>(1, ffn_dim / 8);
}

Selection non_uniform_selection(const model::ModelSpec& s, const Importance& imp, const Target& t, bool contiguous) {
  Selection sel = ranked_selection(s, imp, t, contiguous);
  model::ModelSpec cut = selected_spec(s, sel);
  const int64_t budget = model::parameter_count(cut);
  const int64_t n = cut.n_layers();
  std::vector<int64_t> per_group(n, 0), ffn(n, 0);
  std::vector<Step> steps;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = sel.layers[k];
    const model::LayerSpec& l = s.layers[i];
    const LayerSelection& p = sel.per_layer[i];
    const int64_t kv = int64_t(p.kv_groups.size()), q = ffn_block(l.ffn_dim), f = int64_t(p.ffn.size());
    const auto [slice_cost, neuron_cost] = unit_costs(cut, k, kv);
    if (kv > 0) {
      const int64_t group = l.n_heads / l.n_kv_heads;
      const std::vector<double> z = standardised(imp.heads[i]);
      std::vector<std::vector<int64_t>> ranked;  // each kept group's heads, best first
      for (const int64_t g : p.kv_groups) ranked.push_back(descending(z, g * group, group));
      per_group[k] = std::max<int64_t>(1, int64_t(p.q_heads.size()) / kv / 2);
      for (int64_t j = per_group[k]; j < group; ++j) {
        double sum = 0;
        for (const std::vector<int64_t>& heads : ranked) sum += z[heads[j]];
        steps.push_back({k, true, j, j + 1, sum / double(kv), slice_cost});
      }
    }
    if (l.ffn_dim > 0) {
      const std::vector<double> z = standardised(imp.ffn[i]);
      const std::vector<int64_t> ranked = descending(z, 0, l.ffn_dim);
      ffn[k] = f < q ? f : std::max(q, f / 2 / q * q);
      for (int64_t from = ffn[k]; from < l.ffn_dim; from += q) {
        const int64_t to = std::min(from + q, l.ffn_dim);
        double sum = 0;
        for (int64_t r = from; r < to; ++r) sum += z[ranked[r]];
        steps.push_back({k, false, from, to, sum / double(to - from), (to - from) * neuron_cost});
      }
    }
  }
  model::ModelSpec floor = cut;
  for (int64_t k = 0; k < n; ++k)
    floor.layers[k].n_heads = per_group[k] * floor.layers[k].n_kv_heads, floor.layers[k].ffn_dim = ffn[k];
  int64_t left = budget - model::parameter_count(floor);
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.score > b.score; });
  for (const Step& st : steps) {
    int64_t& now = st.heads ? per_group[st.layer] : ffn[st.layer];
    if (now != st.from || st.cost > left) continue;  // a layer grows in order, within the budget
    now = st.to;
    left -= st.cost;
  }
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = sel.layers[k];
    const model::LayerSpec& l = s.layers[i];
    LayerSelection& p = sel.per_layer[i];
    p.ffn = top(imp.ffn[i], ffn[k]);
    if (p.kv_groups.empty()) continue;
    const int64_t group = l.n_heads / l.n_kv_heads;
    p.q_heads.clear();
    for (const int64_t g : p.kv_groups)
      for (const int64_t h : top(imp.heads[i].view({l.n_kv_heads, group})[g], per_group[k]))
        p.q_heads.push_back(g * group + h);
  }
  return sel;
}

}  // namespace bespoke::prune
