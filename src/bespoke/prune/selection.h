// Which units a pruned model keeps, as indices into the source's: its layers, and in each kept
// layer its KV groups, the query heads within them and its FFN neurons. A selection is data,
// derived from the tensor table's axes, so no family is special-cased; extract.h applies it by
// slicing, masks.h as masks.
#pragma once

#include <cstdint>
#include <vector>

#include "bespoke/model/spec.h"

namespace bespoke::prune {

// A DeltaNet layer's groups are its key heads, its heads its value heads.
struct LayerSelection {
  std::vector<int64_t> kv_groups;  // kept KV heads, ascending; none: the layer keeps no attention
  std::vector<int64_t> q_heads;    // kept query heads, ascending: as many in every kept group
  std::vector<int64_t> ffn;        // kept FFN neurons, ascending; none: the layer keeps no MLP
};

struct Selection {
  std::vector<int64_t> hidden;            // kept hidden channels, ascending: one set for the whole residual stream
  std::vector<int64_t> layers;            // kept source layers, ascending
  std::vector<LayerSelection> per_layer;  // one per source layer; a dropped layer's is ignored
};

// Every unit of `spec`: extracting it gives the model back.
Selection keep_everything(const model::ModelSpec& spec);

// The spec of the model `selection` keeps of `source`. Throws Error(kInput) naming the layer
// for a selection no model can have: an index out of range or out of order, a query head
// outside the kept groups, groups of unequal size, or a layer that reads another's keys and
// values keeping other groups than it (or keeping it not at all).
model::ModelSpec selected_spec(const model::ModelSpec& source, const Selection& selection);

}  // namespace bespoke::prune
