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

// Head unit h of a layer with n units in n_groups groups reads group h / (n / n_groups) (a query
// head its KV head, a DeltaNet value head its key head). Padded, a group slot serves `group`
// head slots, so each real group takes ceil(its heads / group) slots, each holding a copy of it.
// Returns false if the slots run out or copies are forbidden.
bool place_heads(const LayerSpec& l, int64_t kv_slots, int64_t group, bool allow_copies, LayerPlacement& out) {
  out.q = {}, out.kv = {};
  if (l.head_units() == 0) return true;
  const int64_t n_groups = l.group_units(), g = l.head_units() / n_groups, copies = (g + group - 1) / group;
  if (n_groups * copies > kv_slots || (copies > 1 && !allow_copies)) return false;
  for (int64_t k = 0; k < n_groups; ++k)
    for (int64_t c = 0; c < copies; ++c) {
      const int64_t slot = k * copies + c;
      out.kv.add(k, slot);
      for (int64_t j = 0; j < group && c * group + j < g; ++j) out.q.add(k * g + c * group + j, slot * group + j);
    }
  return true;
}

// The padded head and group counts of the layers of one kind (attention, or DeltaNet), and
// where each of those layers' units go: the fewest group slots, dividing the heads evenly, that
// every layer fits into.
struct KindPadding {
  int64_t heads = 0, groups = 0;
};

KindPadding pad_kind(const ModelSpec& s, model::LayerKind kind, int64_t min_heads, bool allow_copies,
                     std::vector<LayerPlacement>& plan) {
  KindPadding k{min_heads, 1};
  std::vector<int64_t> layers;
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    if (l.kind != kind) continue;
    layers.push_back(i);
    k.heads = std::max(k.heads, l.head_units()), k.groups = std::max(k.groups, l.group_units());
  }
  if (layers.empty() || k.heads == 0) return k;
  int64_t misfit = -1;  // the layer that did not fit the first shape tried
  for (;; ++k.groups) {
    if (k.heads % k.groups != 0) continue;
    int64_t failed = -1;
    for (size_t n = 0; n < layers.size() && failed < 0; ++n)
      if (!place_heads(s.layers[layers[n]], k.groups, k.heads / k.groups, allow_copies, plan[layers[n]]))
        failed = layers[n];
    if (failed < 0) return k;
    if (misfit < 0) misfit = failed;
    if (k.groups == k.heads) {
      const LayerSpec& l = s.layers[misfit];
      const bool deltanet = kind == model::LayerKind::kLinearAttention;
      fail(ErrorKind::kUnsupported, "layer " + std::to_string(misfit) + ": its " + std::to_string(l.head_units()) +
                                        (deltanet ? " value heads in " : " query heads in ") +
                                        std::to_string(l.group_units()) + " groups fit no uniform shape" +
                                        (allow_copies ? "" : " without copying KV heads, which its full-width k norm forbids"));
    }
  }
}

}  // namespace

model::Transformer pad_uniform(model::Transformer& net) {
  const ModelSpec& s = net->spec();
  int64_t hd = 0, ffn = 0;
  const LayerSpec* first_deltanet = nullptr;
  for (const LayerSpec& l : s.layers) {
    if (l.kind == model::LayerKind::kLinearAttention) {
      if (!first_deltanet) first_deltanet = &l;
      if (l.deltanet.key_dim != first_deltanet->deltanet.key_dim ||
          l.deltanet.value_dim != first_deltanet->deltanet.value_dim)
        fail(ErrorKind::kUnsupported, "padding needs one DeltaNet head size for every layer");
    } else {
      if (hd == 0) hd = l.head_dim;
      if (l.head_dim != hd) fail(ErrorKind::kUnsupported, "padding needs one head_dim for every layer");
    }
    if (l.kv_source >= 0) fail(ErrorKind::kUnsupported, "padding models that share KV between layers is not supported");
    ffn = std::max(ffn, l.ffn_dim);
  }
  const bool full_width_norm = s.qk_norm == model::QkNorm::kFullWidth;
  std::vector<LayerPlacement> plan(s.n_layers());
  const KindPadding attention =
      pad_kind(s, model::LayerKind::kAttention, hd > 0 && s.hidden_size % hd == 0 ? s.hidden_size / hd : 0,
               !full_width_norm, plan);
  const KindPadding deltanet = pad_kind(s, model::LayerKind::kLinearAttention, 0, true, plan);
  const int64_t heads = attention.heads, kv_slots = attention.groups;
  for (int64_t i = 0; i < s.n_layers(); ++i)
    for (int64_t u = 0; u < s.layers[i].ffn_dim; ++u) plan[i].ffn.add(u, u);

  ModelSpec padded = s;
  for (LayerSpec& l : padded.layers) {
    l.ffn_dim = ffn;
    if (l.kind == model::LayerKind::kLinearAttention)
      l.deltanet.value_heads = deltanet.heads, l.deltanet.key_heads = deltanet.groups;
    else
      l.n_heads = heads, l.n_kv_heads = kv_slots;
  }
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
