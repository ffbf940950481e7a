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

// Layer k's query-head slices above its floor, which it sets in `per_group`: slice j adds the
// j-th best head of every kept group.
void head_steps(const model::LayerSpec& l, const LayerSelection& p, const torch::Tensor& scores, int64_t k,
                int64_t cost, int64_t& per_group, std::vector<Step>& steps) {
  const int64_t kv = int64_t(p.kv_groups.size()), group = l.n_heads / l.n_kv_heads;
  const std::vector<double> z = standardised(scores);
  std::vector<std::vector<int64_t>> ranked;  // each kept group's heads, best first
  for (const int64_t g : p.kv_groups) ranked.push_back(descending(z, g * group, group));
  per_group = std::max<int64_t>(1, int64_t(p.q_heads.size()) / kv / 2);
  for (int64_t j = per_group; j < group; ++j) {
    double sum = 0;
    for (const std::vector<int64_t>& heads : ranked) sum += z[heads[j]];
    steps.push_back({k, true, j, j + 1, sum / double(kv), cost});
  }
}

// Layer k's FFN blocks above its floor, which it sets in `ffn`; `kept` is the uniform width.
void ffn_steps(const model::LayerSpec& l, int64_t kept, const torch::Tensor& scores, int64_t k, int64_t neuron_cost,
               int64_t& ffn, std::vector<Step>& steps) {
  const int64_t q = ffn_block(l.ffn_dim);
  const std::vector<double> z = standardised(scores);
  const std::vector<int64_t> ranked = descending(z, 0, l.ffn_dim);
  ffn = kept < q ? kept : std::max(q, kept / 2 / q * q);
  for (int64_t from = ffn, to; from < l.ffn_dim; from = to) {
    to = std::min((from / q + 1) * q, l.ffn_dim);  // a floor below one block first grows to one
    double sum = 0;
    for (int64_t r = from; r < to; ++r) sum += z[ranked[r]];
    steps.push_back({k, false, from, to, sum / double(to - from), (to - from) * neuron_cost});
  }
}

// Each kept layer k of `sel` with its per_group[k] best query heads in every kept group and its
// ffn[k] best neurons.
void keep_best(const model::ModelSpec& s, const Importance& imp, const std::vector<int64_t>& per_group,
               const std::vector<int64_t>& ffn, Selection& sel) {
  for (size_t k = 0; k < sel.layers.size(); ++k) {
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
}

}  // namespace

int64_t ffn_block(int64_t ffn_dim) {
  return ffn_dim >= 512 ? 64 : std::max<int64_t>(1, ffn_dim / 8);
}

Selection non_uniform_selection(const model::ModelSpec& s, const Importance& imp, const Target& t, bool contiguous) {
  Selection sel = ranked_selection(s, imp, t, contiguous);
  const model::ModelSpec cut = selected_spec(s, sel);
  const int64_t n = cut.n_layers();
  std::vector<int64_t> per_group(n, 0), ffn(n, 0);
  std::vector<Step> steps;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = sel.layers[k];
    const LayerSelection& p = sel.per_layer[i];
    const auto [slice_cost, neuron_cost] = unit_costs(cut, k, int64_t(p.kv_groups.size()));
    if (!p.kv_groups.empty()) head_steps(s.layers[i], p, imp.heads[i], k, slice_cost, per_group[k], steps);
    if (s.layers[i].ffn_dim > 0)
      ffn_steps(s.layers[i], int64_t(p.ffn.size()), imp.ffn[i], k, neuron_cost, ffn[k], steps);
  }
  model::ModelSpec floor = cut;
  for (int64_t k = 0; k < n; ++k)
    floor.layers[k].n_heads = per_group[k] * floor.layers[k].n_kv_heads, floor.layers[k].ffn_dim = ffn[k];
  int64_t left = model::parameter_count(cut) - model::parameter_count(floor);
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.score > b.score; });
  for (const Step& st : steps) {
    int64_t& now = st.heads ? per_group[st.layer] : ffn[st.layer];
    if (now != st.from || st.cost > left) continue;  // a layer grows in order, within the budget
    now = st.to;
    left -= st.cost;
  }
  keep_best(s, imp, per_group, ffn, sel);
  return sel;
}

}  // namespace bespoke::prune
