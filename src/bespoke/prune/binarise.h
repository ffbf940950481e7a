// Learned masks made deterministic at exactly the target's counts: in each row (binarise ranks
// the rows size_constraints() pulls) the units of highest deterministic value stay, ties going
// to the lower index, and each keeps that value (about 0.996 at the clamp), which
// fold_mask_values() then moves into the weights.
#pragma once

#include "bespoke/model/unit_masks.h"
#include "bespoke/prune/selection.h"
#include "bespoke/prune/target.h"

namespace bespoke::prune {

struct Binarised {
  Selection selection;
  // The deterministic masks: a kept unit's deterministic_gates() value, a dropped one's 0; a type
  // without gates is undefined (kept, at 1). Set on the model, they give the forward the
  // extracted model computes.
  model::UnitMasks values;
};

// Layers go as ranked_layers() ranks them (the layers others read from stay, and Gemma 2/3 keep
// a pattern llama.cpp expresses); blocks among the kept layers; KV groups, then query heads
// within each kept group; a layer reading another's keys and values keeps its source's groups.
// Throws Error(kInput) for a target the gates do not cover.
Binarised binarise(const model::ModelSpec& spec, const model::UnitMasks& log_alpha, const Target& target);

}  // namespace bespoke::prune
