// What a pruned model should be: uniform sizes ("layers=20,hidden=2048,heads=16,kv_heads=4,ffn=5504",
// value_heads=N and key_heads=N for the DeltaNet layers of a hybrid, global_heads=N and
// global_kv_heads=N for the global layers of a model whose global and sliding layers differ in
// shape (Gemma 4), and for learned masks attn_blocks=N, mlp_blocks=N); a size left out keeps the
// source's.
#pragma once

#include <cstdint>
#include <string>

#include "bespoke/model/spec.h"
#include "bespoke/prune/selection.h"

namespace bespoke::prune {

struct Target {
  int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, ffn = 0;  // 0: the source's
  int64_t value_heads = 0, key_heads = 0;                            // DeltaNet layers'; 0: the source's
  int64_t global_heads = 0, global_kv_heads = 0;                     // global layers'; 0: heads, kv_heads
  // Of the kept layers, how many keep their attention and their MLP (learned masks only; 0: all).
  int64_t attn_blocks = 0, mlp_blocks = 0;
};

// The heads and groups `target` keeps in layer `l` (query heads and KV groups, or a DeltaNet's
// value and key heads), the layer's own where the target leaves them, and the target's keys
// for them.
struct HeadCut {
  int64_t heads, groups;
  const char *heads_key, *groups_key;
};
HeadCut head_cut(const model::LayerSpec& l, const Target& target);

// Throws Error(kInput) naming the key for an unknown key, a value that is not a positive
// integer.
Target parse_target(const std::string& text);

// Throws Error(kInput) naming the key for a target `source` cannot be cut to: more units than
// it has, heads not a multiple of kv_heads, more query heads per KV group than its groups
// hold, or more attention or MLP blocks than layers. Per-layer shapes in the source: every layer is checked.
void check_target(const model::ModelSpec& source, const Target& target);

// A selection of `target`'s sizes with each unit drawn uniformly (seeded): the control every
// importance-based cut is compared against. Its layers keep what every depth cut keeps
// (depth.h): the layers others read keys and values from, and a pattern llama.cpp can express.
Selection random_selection(const model::ModelSpec& source, const Target& target, uint64_t seed);

}  // namespace bespoke::prune
