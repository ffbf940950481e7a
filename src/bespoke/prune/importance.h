// Minitron activation importance, measured through the forward's taps (block.h) and streamed:
// each unit's score is a sum over every calibration token, so memory does not grow with the
// samples and the result does not depend on how they are batched.
//   heads[i]  [n_heads]  L2 norm over tokens of each query head's attention context (before attn_output)
//   ffn[i]    [ffn_dim]  L2 norm over tokens of each neuron's gated activation (the input of ffn_down)
//   layers    [n_layers] block influence: the mean over tokens of 1 - cos(block input, block output)
// GQA: a KV group's score is the sum of its query heads' (kv[i] [n_kv_heads]); query heads are
// ranked within their group.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "bespoke/model/transformer.h"

namespace bespoke::prune {

struct Importance {
  std::vector<torch::Tensor> heads, kv, ffn;  // one per layer, float64 on the CPU
  torch::Tensor layers;
  torch::Tensor hidden;  // [hidden_size]
  int64_t tokens = 0;
};

// Runs `batches` ([B, T] int64 each, no padding) through `model` without gradients.
Importance activation_importance(model::Transformer& model, const std::vector<torch::Tensor>& batches);

}  // namespace bespoke::prune
