// The tensor table: one row per canonical weight of a ModelSpec, with its shape and the
// axis each dimension belongs to. Loading, saving, parameter counts and (later) pruning and
// export all read this table, so none of them switches on the family.
// Canonical names follow llama.cpp's GGUF names ("blk.3.attn_q.weight").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bespoke/model/spec.h"

namespace bespoke::model {

// What a dimension indexes, so a pruning mask knows which slice to remove.
enum class Axis { kNone, kVocab, kHidden, kQ, kKv, kFfn, kPerLayerInput };

struct TensorInfo {
  std::string name;
  int64_t layer = -1;  // -1 for global tensors
  std::vector<int64_t> shape;
  std::vector<Axis> axes;
};

// Returns every tensor of `spec` in a fixed order: globals first, then layer by layer.
std::vector<TensorInfo> tensor_table(const ModelSpec& spec);

// "blk.<layer>.<suffix>"
std::string layer_tensor_name(int64_t layer, const std::string& suffix);

// What follows "blk.<layer>." in a per-layer name ("attn_q.weight" for "blk.3.attn_q.weight");
// a global name as it is.
inline std::string layer_tensor_suffix(const std::string& name) {
  return name.rfind("blk.", 0) == 0 ? name.substr(name.find('.', 4) + 1) : name;
}

}  // namespace bespoke::model
