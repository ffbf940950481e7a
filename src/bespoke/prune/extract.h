// A selection applied by slicing: the pruned model as a model of its own, every tensor cut
// along its unit axes (tensor_table.h), so that each kept unit computes what it did.
#pragma once

#include "bespoke/model/transformer.h"
#include "bespoke/prune/selection.h"

namespace bespoke::prune {

// The model `selection` keeps of `source`, on source's device and dtype. What the dropped units
// contributed is gone: the result computes what `source` computes with their weights zeroed.
// A norm over the whole query or key width (OLMo 2) is rescaled to its new width, exact up to
// its epsilon.
model::Transformer extract(model::Transformer& source, const Selection& selection);

}  // namespace bespoke::prune
