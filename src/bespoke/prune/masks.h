// A selection as masks on the running model (model/unit_masks.h): 1 for a kept unit, 0 for a
// dropped one, so that the full model computes what extract() cuts out of it.
#pragma once

#include "bespoke/model/unit_masks.h"
#include "bespoke/prune/selection.h"

namespace bespoke::prune {

// Float masks on the CPU; a layer that reads another's keys and values takes that layer's KV
// mask. Throws as selected_spec() does for a selection no model can have.
model::UnitMasks masks_of(const model::ModelSpec& spec, const Selection& selection);

}  // namespace bespoke::prune
