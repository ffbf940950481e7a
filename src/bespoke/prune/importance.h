// Importance of every prunable unit, measured through the forward's taps (block.h) and streamed:
// each score is a sum over calibration rows, so memory does not grow with the samples and the
// result does not depend on how the rows are batched.
//
// Minitron (activation_importance), as Model-Optimizer aggregates an activation T[b, s, c]:
// a_c = sum over rows b of (mean over positions s of |T[b, s, c]|)^2, imp_c = sqrt(a_c).
//   heads[i]  [n_heads]     L2 norm of imp_c over the head's channels of the attention context
//                           (the input of attn_output); rank query heads within their KV group
//   kv[i]     [n_kv_heads]  the sum of the group's query heads
//   ffn[i]    [ffn_dim]     imp_c of the gated activation (the input of ffn_down)
//   hidden    [hidden_size] the sum of imp_c over the embedding output and every norm output
//                           of hidden width (attn_norm, ffn_norm, post_attention_norm,
//                           post_ffw_norm, post_norm, output_norm)
//   layers    [n_layers]    block influence: mean over tokens of 1 - cos(block input, output)
//
// Taylor (taylor_importance), the activation form of LLM-Pruner's first-order term: for a unit
// whose output a is removed, the loss changes by about -sum over tokens of a * dL/da. For heads,
// KV groups, FFN neurons and layers that is the gradient of the mean next-token loss with
// respect to an all-ones unit mask (unit_masks.h); hidden is the sum over the same taps as above
// of |sum over tokens of a_c * dL/da_c|. Scores are the absolute values, in nats per token.
// Only masks (and the embedding table, so that the embedding output has a gradient) take
// gradients; no other weight's gradient is ever formed.
//
// Both also measure the profile of each layer:
//   residual  [n_layers]    mean over tokens of ||block output - input|| / ||input||
//   drift     [n_layers]    mean over tokens of 1 - cos(block input, output)
//   entropy[i] [n_heads]    mean over query positions of the entropy (nats) of the head's
//                           attention distribution
//   skip_loss [n_layers]    with `skip_loss`: the mean next-token loss with layer i skipped
//                           (UnitMasks::layers[i] = 0) minus the loss of the whole model:
//                           n_layers + 1 more forwards per batch. Undefined otherwise.
// Every tensor is float64 on the CPU. The model's masks are cleared.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "bespoke/model/transformer.h"

namespace bespoke::prune {

struct Importance {
  std::string method;                         // "minitron" or "taylor"
  std::vector<torch::Tensor> heads, kv, ffn;  // one per layer
  torch::Tensor layers;
  torch::Tensor hidden;  // [hidden_size]
  torch::Tensor residual, drift, skip_loss;
  std::vector<torch::Tensor> entropy;  // one per layer
  int64_t tokens = 0;
};

struct ImportanceOptions {
  bool skip_loss = false;
};

// Runs `batches` ([B, T] int64 each, no padding) through `model` without gradients.
Importance activation_importance(model::Transformer& model, const std::vector<torch::Tensor>& batches,
                                 const ImportanceOptions& options = {});

// One forward and backward per batch (each batch is one micro-batch: memory is that of one
// batch's activations); gradients of the summed loss accumulate over batches, divided by the
// predicted tokens at the end. Batches need at least two positions.
Importance taylor_importance(model::Transformer& model, const std::vector<torch::Tensor>& batches,
                             const ImportanceOptions& options = {});

}  // namespace bespoke::prune
