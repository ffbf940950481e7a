// Decoding one token at a time through the KV cache, and greedy decoding built on it.
#pragma once

#include <torch/torch.h>

#include "bespoke/model/transformer.h"

namespace bespoke::model {

// Feeds a prompt once, then each chosen token, through the KV cache.
class Stepper {
 public:
  Stepper(Transformer model, const torch::Tensor& prompt);  // prompt: [B, T] int64
  // [B, V]: the logits of the token after everything fed so far.
  torch::Tensor next_logits();
  void append(const torch::Tensor& tokens);  // [B, 1] int64

 private:
  Transformer model_;
  KvCache cache_;
  torch::Tensor all_, input_;  // everything so far; what the cache has not seen
};

// prompt: [B, T] int64. Returns the [B, max_new] tokens chosen one at a time by argmax, each
// step feeding only the new token through the cache.
torch::Tensor generate_greedy(Transformer& model, const torch::Tensor& prompt, int64_t max_new);

}  // namespace bespoke::model
