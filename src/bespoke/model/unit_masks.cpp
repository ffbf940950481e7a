#include "bespoke/model/unit_masks.h"

#include <string>

#include "bespoke/core/error.h"

namespace bespoke::model {
namespace {

void check_one(const std::vector<torch::Tensor>& masks, const ModelSpec& s, const char* what,
               int64_t (*units)(const LayerSpec&)) {
  if (!masks.empty() && int64_t(masks.size()) != s.n_layers())
    fail(ErrorKind::kInput, std::string(what) + " masks: " + std::to_string(masks.size()) + " for " +
                                std::to_string(s.n_layers()) + " layers");
  for (size_t i = 0; i < masks.size(); ++i)
    if (masks[i].defined() && (masks[i].dim() != 1 || masks[i].size(0) != units(s.layers[i])))
      fail(ErrorKind::kInput, "layer " + std::to_string(i) + ": its " + what + " mask needs " +
                                  std::to_string(units(s.layers[i])) + " entries");
}

}  // namespace

torch::Tensor mask_hidden(const UnitMasks* masks, const torch::Tensor& x) {
  if (!masks || !masks->hidden.defined()) return x;
  return x * masks->hidden.to(x.device(), x.scalar_type());
}

void check_masks(const ModelSpec& s, const UnitMasks& m) {
  check_one(m.heads, s, "head", [](const LayerSpec& l) { return l.head_units(); });
  check_one(m.kv, s, "KV-group", [](const LayerSpec& l) { return l.group_units(); });
  check_one(m.ffn, s, "FFN", [](const LayerSpec& l) { return l.ffn_dim; });
  for (int64_t i = 0; i < s.n_layers() && !m.kv.empty(); ++i)
    if (s.layers[i].kv_source >= 0 && m.kv[i].defined())
      fail(ErrorKind::kInput, "layer " + std::to_string(i) + " reads the keys and values of layer " +
                                  std::to_string(s.layers[i].kv_source) +
                                  ", whose KV mask it takes: it has none of its own");
  for (const auto& [mask, what] : {std::pair(&m.layers, "layer"), {&m.attn, "attention-block"}, {&m.mlp, "MLP-block"}})
    if (mask->defined() && (mask->dim() != 1 || mask->size(0) != s.n_layers()))
      fail(ErrorKind::kInput, std::string("the ") + what + " mask needs " + std::to_string(s.n_layers()) + " entries");
  if (m.hidden.defined() && (m.hidden.dim() != 1 || m.hidden.size(0) != s.hidden_size))
    fail(ErrorKind::kInput, "the hidden-channel mask needs " + std::to_string(s.hidden_size) + " entries");
}

}  // namespace bespoke::model
