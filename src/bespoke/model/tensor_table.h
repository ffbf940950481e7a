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

// What a dimension indexes, so a pruning mask knows which slice to remove. Each axis is made
// of units, the pieces structured pruning keeps or drops whole: a query head (kQ) or KV group
// (kKv) is head_dim elements (2 head_dim for a query head with its output gate), a
// per-layer block (kLayer: Gemma 4's per-layer embedding columns) per_layer_input_dim; an FFN
// neuron, hidden channel or vocabulary entry is one. In a DeltaNet layer kQ indexes value heads
// (value_dim elements, or one where a tensor holds one entry per head) and kKv key heads
// (key_dim elements).
enum class Axis { kNone, kVocab, kHidden, kQ, kKv, kFfn, kPerLayerInput, kLayer };

struct TensorInfo {
  std::string name;
  int64_t layer = -1;  // -1 for global tensors
  std::vector<int64_t> shape;
  std::vector<Axis> axes;
  std::vector<int64_t> unit_width;  // per dimension: elements per unit of its axis
  // Tensors with a kQ or kKv axis: the layer whose KV groups their kKv axis (and the grouping of their
  // query heads) refers to. That is `layer`, or its kv_source where a layer reuses another's
  // keys and values. -1 elsewhere.
  int64_t kv_layer = -1;

  int64_t units(size_t dim) const { return shape[dim] / unit_width[dim]; }
};

// Returns every tensor of `spec` in a fixed order: globals first, then layer by layer.
std::vector<TensorInfo> tensor_table(const ModelSpec& spec);

// Which layers read the keys and values of each layer: readers[i] lists i itself (when it has
// its own) and every later layer whose kv_source is i. Dropping a KV group of layer i drops it
// for all of them.
std::vector<std::vector<int64_t>> kv_readers(const ModelSpec& spec);

// "blk.<layer>.<suffix>"
std::string layer_tensor_name(int64_t layer, const std::string& suffix);

// What follows "blk.<layer>." in a per-layer name ("attn_q.weight" for "blk.3.attn_q.weight");
// a global name as it is.
inline std::string layer_tensor_suffix(const std::string& name) {
  return name.rfind("blk.", 0) == 0 ? name.substr(name.find('.', 4) + 1) : name;
}

}  // namespace bespoke::model
