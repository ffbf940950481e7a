// Per-unit multipliers on the running model, for measuring a selection without cutting it and
// for learned masks: 1 keeps a unit, 0 removes it. Each acts in one place of the forward:
//   heads[i]  [n_heads]     each query head's attention context, before attn_output (block.cpp);
//                           a DeltaNet layer's: each value head's output, before ssm.out
//   kv[i]     [n_kv_heads]  each KV group's values, before they are cached or read by a layer
//                           that shares them, so that such a layer sees its source's mask; a
//                           DeltaNet layer's: each key head, on the outputs of its value heads
//   ffn[i]    [ffn_dim]     the gated activation, before ffn_down (block.cpp)
//   layers    [n_layers]    the layer as a whole: it scales each of the layer's branches
//                           (attention, MLP, per-layer input) where they join the stream, and
//                           the departure of its output scalar from 1 (Gemma 4), so that 0 skips
//                           the layer and a value in between folds into the weights
//   attn, mlp [n_layers]    one branch's output, after its post-norm where the family has one
//                           (a scale before an RMSNorm would be normalised away) (block.cpp)
//   hidden    [hidden_size] each channel of the residual stream, wherever something writes to it:
//                           the embeddings and every sublayer's output (mask_hidden, called by
//                           transformer.cpp and block.cpp). The norms that read the stream still
//                           divide by the full width: a dropped channel is a zero channel.
// Where a family norms q or k over their whole width (OLMo 2), the head and KV masks also scale
// q (a KV group's mask its query heads) and k before that norm, so that it sees the kept heads
// only, as the cut model's norm does.
// An undefined tensor masks nothing.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "bespoke/model/spec.h"

namespace bespoke::model {

struct UnitMasks {
  std::vector<torch::Tensor> heads, kv, ffn;  // one per layer, or empty
  torch::Tensor layers, attn, mlp;            // [n_layers] each
  torch::Tensor hidden;                       // [hidden_size]
};

// `x` [..., hidden_size] with the hidden-channel mask applied; `x` itself without one.
torch::Tensor mask_hidden(const UnitMasks* masks, const torch::Tensor& x);

// Throws Error(kInput) naming the layer whose mask has another size than its units.
void check_masks(const ModelSpec& spec, const UnitMasks& masks);

}  // namespace bespoke::model
