// Activation checkpointing for one layer: the forward pass keeps only the layer's input, and
// the backward pass runs the layer again to get what it needs, trading a second forward for
// the memory of every intermediate activation.
#pragma once

#include <torch/torch.h>

#include "bespoke/model/block.h"

namespace bespoke::model {

// block(x, ctx), layer `layer`, with its activations recomputed in the backward pass. Gradients
// reach x, the per-layer input, the block's parameters and the masks it reads. The keys and values it computes stay
// inside it, so no later layer may read them (TransformerImpl refuses checkpointing for KV sharing).
torch::Tensor checkpointed_block(Block& block, int64_t layer, const torch::Tensor& x, const LayerContext& ctx);

}  // namespace bespoke::model
