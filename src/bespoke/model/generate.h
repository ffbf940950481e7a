// Decoding one token at a time through the KV cache, and greedy decoding built on it.
#pragma once

#include <torch/torch.h>

#include "bespoke/model/transformer.h"

namespace bespoke::model {

// Longrope turns to its long factors once the sequence passes the original context; keys
// cached with the short ones are then stale and the whole sequence is recomputed, as
// transformers does. Whether that happens between `past` cached positions and `total`.
bool rope_switches(const ModelSpec& spec, int64_t past, int64_t total);
bool has_longrope(const ModelSpec& spec);

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

// Greedy decoding timed in two parts per run: the prompt (prefill, which also yields the first
// token) and the tokens after it, one at a time (decode). Seconds per run.
struct DecodeTimes {
  std::vector<double> prefill, decode;
  std::vector<int64_t> tokens;  // the last run's: the prompt's next token, then the decoded ones
  double median_prefill() const;
  double median_decode() const;
};

// `repeats` runs of `prompt` ([1, T]) and `n_new` tokens after its next one, the clock read once
// the device has finished what was queued.
DecodeTimes time_greedy_decode(Transformer& model, const torch::Tensor& prompt, int64_t n_new, int repeats);

}  // namespace bespoke::model
