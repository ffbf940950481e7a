#include "bespoke/prune/masks.h"

namespace bespoke::prune {
namespace {

torch::Tensor ones_at(int64_t n, const std::vector<int64_t>& kept) {
  torch::Tensor m = torch::zeros({n});
  for (const int64_t u : kept) m[u] = 1.0;
  return m;
}

}  // namespace

model::UnitMasks masks_of(const model::ModelSpec& s, const Selection& sel) {
  selected_spec(s, sel);
  model::UnitMasks m;
  m.layers = ones_at(s.n_layers(), sel.layers);
  m.hidden = ones_at(s.hidden_size, sel.hidden);
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    const LayerSelection& p = sel.per_layer[i];
    m.heads.push_back(ones_at(l.head_units(), p.q_heads));
    m.kv.push_back(l.kv_source >= 0 ? torch::Tensor() : ones_at(l.group_units(), p.kv_groups));
    m.ffn.push_back(ones_at(l.ffn_dim, p.ffn));
  }
  return m;
}

}  // namespace bespoke::prune
