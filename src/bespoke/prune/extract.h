// A selection applied by slicing: the pruned model as a model of its own, every tensor cut
// along its unit axes (tensor_table.h), so that each kept unit computes what it did.
#pragma once

#include "bespoke/model/transformer.h"
#include "bespoke/prune/selection.h"

namespace bespoke::prune {

// The model `selection` keeps of `source`, on source's device and dtype. What the dropped units
// contributed is gone: the result computes what `source` computes with their weights zeroed.
// Norms over a width that shrank (OLMo 2's full-width q/k norms after a head cut, every norm of
// the residual stream after a hidden cut) are rescaled to the new width, exact up to their
// epsilon; after a hidden cut the embeddings keep the scale they entered the stream with.
model::Transformer extract(model::Transformer& source, const Selection& selection);

}  // namespace bespoke::prune
