// Zero-padding a pruned model back to one shape for every layer, for llama.cpp architectures
// that size every layer from layer 0. Exact: a padded query head has zero Q rows and zero
// attn_output columns, a padded FFN unit zero gate/up rows and a zero down column, so they add
// nothing. No memory is saved; it is the fallback where no per-layer architecture fits.
#pragma once

#include "bespoke/model/transformer.h"

namespace bespoke::exporter {

// Returns a model whose layers all have the most query heads, KV heads and FFN units of any
// layer (query heads: E / head_dim where that is at least as many, as some llama.cpp
// architectures require); a hybrid's DeltaNet layers all the most value and key heads of any
// DeltaNet layer (a padded value head has zero v, z, b, a rows and zero out columns: its state
// stays zero and it adds nothing). A layer whose query groups are wider than the padded group gets
// copies of its KV heads. Full-width q/k norms (OLMo2) are rescaled for the wider mean; they
// cannot share copied KV heads. Throws Error(kUnsupported) naming the layer where no padding
// fits, and for models whose head_dim differs between layers.
model::Transformer pad_uniform(model::Transformer& net);

}  // namespace bespoke::exporter
