// What a pruned model should be: uniform sizes ("layers=20,hidden=2048,heads=16,kv_heads=4,ffn=5504",
// and for learned masks attn_blocks=N, mlp_blocks=N); a size left out keeps the source's.
#pragma once

#include <cstdint>
#include <string>

#include "bespoke/model/spec.h"
#include "bespoke/prune/selection.h"

namespace bespoke::prune {

struct Target {
  int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, ffn = 0;  // 0: the source's
  // Of the kept layers, how many keep their attention and their MLP (learned masks only; 0: all).
  int64_t attn_blocks = 0, mlp_blocks = 0;
};

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
