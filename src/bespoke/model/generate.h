// Greedy decoding with the KV cache.
#pragma once

#include <torch/torch.h>

#include "bespoke/model/transformer.h"

namespace bespoke::model {

// prompt: [B, T] int64. Returns the [B, max_new] tokens chosen one at a time by argmax, each
// step feeding only the new token through the cache.
torch::Tensor generate_greedy(Transformer& model, const torch::Tensor& prompt, int64_t max_new);

}  // namespace bespoke::model
