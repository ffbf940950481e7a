#include "bespoke/model/generate.h"

namespace bespoke::model {
namespace {

// Longrope turns to its long factors once the sequence passes the original context; keys
// cached with the short ones are then stale and the whole sequence is recomputed, as
// transformers does.
bool rope_switches(const ModelSpec& spec, int64_t past, int64_t total) {
  for (const LayerSpec& l : spec.layers) {
    const int64_t switch_at = l.rope.original_context;
    if (l.rope.type == RopeType::kLongRope && past > 0 && past <= switch_at && total > switch_at) return true;
  }
  return false;
}

}  // namespace

torch::Tensor generate_greedy(Transformer& model, const torch::Tensor& prompt, int64_t max_new) {
  torch::NoGradGuard no_grad;
  KvCache cache = model->new_cache();
  torch::Tensor all = prompt;  // [B, T + generated]
  torch::Tensor input = prompt;
  for (int64_t step = 0; step < max_new; ++step) {
    if (rope_switches(model->spec(), cache.length, cache.length + input.size(1))) {
      cache = model->new_cache();
      input = all;
    }
    torch::Tensor logits = model->forward(input, &cache).logits;                // [B, T, V]
    input = logits.select(1, logits.size(1) - 1).argmax(-1, /*keepdim=*/true);  // [B, 1]
    all = torch::cat({all, input}, 1);
  }
  return all.narrow(1, prompt.size(1), max_new);
}

}  // namespace bespoke::model
