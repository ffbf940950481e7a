#include "bespoke/export/pad_uniform.h"

#include <algorithm>
#include <cmath>

#include "bespoke/core/error.h"
#include "bespoke/model/tensor_table.h"
#include "bespoke/model/units.h"

namespace bespoke::exporter {
namespace {

using model::Axis;
using model::LayerSpec;
using model::ModelSpec;

// Where one layer's units go along each axis.
struct LayerPlacement {
  model::UnitMap q, kv, ffn;
};

// Query head h of a layer with n heads in n_kv groups reads KV head h / (n / n_kv). Padded, a
// KV slot serves `group` query slots, so each real KV head takes ceil(its heads / group) slots,
// each holding a copy of it. Returns false if the slots run out or copies are forbidden.
bool place_heads(const LayerSpec& l, int64_t kv_slots, int64_t group, bool allow_copies, LayerPlacement& out) {
  out.q = {}, out.kv = {};
  if (l.n_heads == 0) return true;
  const int64_t g = l.n_heads / l.n_kv_heads, copies = (g + group - 1) / group;
  if (l.n_kv_heads * copies > kv_slots || (copies > 1 && !allow_copies)) return false;
  for (int64_t k = 0; k < l.n_kv_heads; ++k)
    for (int64_t c = 0; c < copies; ++c) {
      const int64_t slot = k * copies + c;
      out.kv.add(k, slot);
      for (int64_t j = 0; j < group && c * group + j < g; ++j) out.q.add(k * g + c * group + j, slot * group + j);
    }
  return true;
}

}  // namespace

model::Transformer pad_uniform(model::Transformer& net) {
  const ModelSpec& s = net->spec();
  const int64_t hd = s.layers[0].head_dim;
  int64_t heads = 0, kv = 1, ffn = 0;
  for (const LayerSpec& l : s.layers) {
    if (l.head_dim != hd) fail(ErrorKind::kUnsupported, "padding needs one head_dim for every layer");
    if (l.kv_source >= 0) fail(ErrorKind::kUnsupported, "padding models that share KV between layers is not supported");
    heads = std::max(heads, l.n_heads), kv = std::max(kv, l.n_kv_heads), ffn = std::max(ffn, l.ffn_dim);
  }
  if (s.hidden_size % hd == 0) heads = std::max(heads, s.hidden_size / hd);
  const bool full_width_norm = s.qk_norm == model::QkNorm::kFullWidth;

  // The fewest KV slots (dividing the query heads evenly) that every layer fits into.
  std::vector<LayerPlacement> plan(s.n_layers());
  int64_t kv_slots = kv, misfit = -1;  // the layer that did not fit the first shape tried
  for (;; ++kv_slots) {
    if (heads % kv_slots != 0) continue;
    int64_t failed = -1;
    for (int64_t i = 0; i < s.n_layers() && failed < 0; ++i)
      if (!place_heads(s.layers[i], kv_slots, heads / kv_slots, !full_width_norm, plan[i])) failed = i;
    if (failed < 0) break;
    if (misfit < 0) misfit = failed;
    if (kv_slots == heads)
      fail(ErrorKind::kUnsupported,
           "layer " + std::to_string(misfit) + ": its " + std::to_string(s.layers[misfit].n_heads) +
               " query heads in " + std::to_string(s.layers[misfit].n_kv_heads) + " groups fit no uniform shape" +
               (full_width_norm ? " without copying KV heads, which its full-width k norm forbids" : ""));
  }
  for (int64_t i = 0; i < s.n_layers(); ++i)
    for (int64_t u = 0; u < s.layers[i].ffn_dim; ++u) plan[i].ffn.add(u, u);

  ModelSpec padded = s;
  for (LayerSpec& l : padded.layers) l.n_heads = heads, l.n_kv_heads = kv_slots, l.ffn_dim = ffn;
  const torch::Tensor any = net->parameters().front();
  model::Transformer out(padded, torch::TensorOptions().dtype(any.dtype()).device(any.device()));
  torch::NoGradGuard no_grad;
  auto from = net->named_parameters();
  auto to = out->named_parameters();
  for (const model::TensorInfo& info : model::tensor_table(padded)) {
    if (!from.contains(info.name)) {  // an absent attention or MLP: zeros, which add nothing
      to[info.name].zero_();
      continue;
    }
    torch::Tensor t = from[info.name].detach();
    for (size_t d = 0; d < info.axes.size() && info.layer >= 0; ++d) {
      const LayerPlacement& p = plan[info.layer];
      const model::UnitMap* map = info.axes[d] == Axis::kQ     ? &p.q
                                  : info.axes[d] == Axis::kKv  ? &p.kv
                                  : info.axes[d] == Axis::kFfn ? &p.ffn
                                                               : nullptr;
      if (map) t = model::move_units(t, d, info.unit_width[d], *map, info.units(d));
    }
    // A norm over all heads divides by the padded width: scale back by sqrt(kept / padded).
    const std::string suffix = info.layer >= 0 ? model::layer_tensor_suffix(info.name) : "";
    if (full_width_norm && (suffix == "attn_q_norm.weight" || suffix == "attn_k_norm.weight")) {
      const LayerSpec& l = s.layers[info.layer];
      const double kept = suffix == "attn_q_norm.weight" ? l.n_heads : l.n_kv_heads;
      const double wide = suffix == "attn_q_norm.weight" ? heads : kv_slots;
      t = t * std::sqrt(kept / wide);
    }
    to[info.name].copy_(t);
  }
  return out;
}

}  // namespace bespoke::exporter
