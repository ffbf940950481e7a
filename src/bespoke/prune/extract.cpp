#include "bespoke/prune/extract.h"

#include <cmath>

#include "bespoke/model/tensor_table.h"
#include "bespoke/model/units.h"

namespace bespoke::prune {

using model::Axis;

namespace {

// What keeps the function after a hidden cut from E to E' channels. The cut model's norms over
// the residual divide by E' where the masked model's divided by E with zeros in the dropped
// channels: their (offset + w) takes sqrt(E / E'), exact up to epsilon. A scale that the
// family derives from E changes with it (Gemma's sqrt(E) on the embeddings): the embeddings
// take the old scale over the new, so that they enter the stream as before; a head tied to them
// sees them scaled, which the output norm takes back. Gemma 4's per-layer projection divides
// by sqrt(E), and now by sqrt(E'), so its weight takes sqrt(E' / E).
torch::Tensor fold_hidden_cut(const model::ModelSpec& s, const model::ModelSpec& cut, const model::TensorInfo& info,
                              const torch::Tensor& t) {
  if (cut.hidden_size == s.hidden_size) return t;
  const double norm = std::sqrt(double(s.hidden_size) / double(cut.hidden_size));
  const double embedding = s.embedding_scale / cut.embedding_scale;
  const bool reads_stream = info.axes.size() == 1 && info.axes[0] == Axis::kHidden && info.name.size() > 11 &&
                            info.name.compare(info.name.size() - 11, 11, "norm.weight") == 0;
  if (reads_stream) {
    const double k = info.name == "output_norm.weight" && s.tie_embeddings ? norm / embedding : norm;
    return (t + s.norm_weight_offset) * k - s.norm_weight_offset;
  }
  if (info.name == "token_embd.weight") return t * embedding;
  if (info.name == "per_layer_model_proj.weight") return t * (1.0 / norm);
  return t;
}

}  // namespace

model::Transformer extract(model::Transformer& source, const Selection& selection) {
  const model::ModelSpec& s = source->spec();
  const model::ModelSpec target = selected_spec(s, selection);
  const torch::Tensor any = source->parameters().front();
  model::Transformer out(target, torch::TensorOptions().dtype(any.dtype()).device(any.device()));
  torch::NoGradGuard no_grad;
  auto from = source->named_parameters();
  auto to = out->named_parameters();
  const model::UnitMap layers = model::keep_units(selection.layers);
  const model::UnitMap hidden = model::keep_units(selection.hidden);
  for (const model::TensorInfo& info : model::tensor_table(target)) {
    const int64_t layer = info.layer >= 0 ? selection.layers[info.layer] : -1;  // the source's
    const std::string suffix = model::layer_tensor_suffix(info.name);
    torch::Tensor t = from[layer >= 0 ? model::layer_tensor_name(layer, suffix) : info.name].detach();
    for (size_t d = 0; d < info.axes.size(); ++d) {
      model::UnitMap map;
      if (info.axes[d] == Axis::kLayer)
        map = layers;
      else if (info.axes[d] == Axis::kHidden)
        map = hidden;
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
    t = fold_hidden_cut(s, target, info, t);
    to[info.name].copy_(t);
  }
  return out;
}

}  // namespace bespoke::prune
