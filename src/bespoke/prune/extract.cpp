#include "bespoke/prune/extract.h"

#include <cmath>

#include "bespoke/model/tensor_table.h"
#include "bespoke/model/units.h"

namespace bespoke::prune {

using model::Axis;

model::Transformer extract(model::Transformer& source, const Selection& selection) {
  const model::ModelSpec& s = source->spec();
  const model::ModelSpec target = selected_spec(s, selection);
  const torch::Tensor any = source->parameters().front();
  model::Transformer out(target, torch::TensorOptions().dtype(any.dtype()).device(any.device()));
  torch::NoGradGuard no_grad;
  auto from = source->named_parameters();
  auto to = out->named_parameters();
  const model::UnitMap layers = model::keep_units(selection.layers);
  for (const model::TensorInfo& info : model::tensor_table(target)) {
    const int64_t layer = info.layer >= 0 ? selection.layers[info.layer] : -1;  // the source's
    const std::string suffix = model::layer_tensor_suffix(info.name);
    torch::Tensor t = from[layer >= 0 ? model::layer_tensor_name(layer, suffix) : info.name].detach();
    for (size_t d = 0; d < info.axes.size(); ++d) {
      model::UnitMap map;
      if (info.axes[d] == Axis::kLayer)
        map = layers;
      else if (layer < 0)
        continue;
      else if (info.axes[d] == Axis::kQ)
        map = model::keep_units(selection.per_layer[layer].q_heads);
      else if (info.axes[d] == Axis::kKv)
        map = model::keep_units(selection.per_layer[layer].kv_groups);
      else if (info.axes[d] == Axis::kFfn)
        map = model::keep_units(selection.per_layer[layer].ffn);
      else
        continue;
      t = model::move_units(t, d, info.unit_width[d], map, info.units(d));
    }
    // A norm over the whole query or key width divides by that width, where the dropped heads
    // counted as zeros; here they are gone, so its weight takes sqrt(old width / new width).
    if (s.qk_norm == model::QkNorm::kFullWidth && (suffix == "attn_q_norm.weight" || suffix == "attn_k_norm.weight")) {
      const bool q = suffix == "attn_q_norm.weight";
      const model::LayerSpec &was = s.layers[layer], &is = target.layers[info.layer];
      t = t * std::sqrt(double(q ? was.n_heads : was.n_kv_heads) / double(q ? is.n_heads : is.n_kv_heads));
    }
    to[info.name].copy_(t);
  }
  return out;
}

}  // namespace bespoke::prune
