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

Stepper::Stepper(Transformer model, const torch::Tensor& prompt)
    : model_(std::move(model)), cache_(model_->new_cache()), all_(prompt), input_(prompt) {}

torch::Tensor Stepper::next_logits() {
  if (rope_switches(model_->spec(), cache_.length, cache_.length + input_.size(1))) {
    cache_ = model_->new_cache();
    input_ = all_;
  }
  const torch::Tensor logits = model_->forward(input_, &cache_).logits;  // [B, T, V]
  return logits.select(1, logits.size(1) - 1);
}

void Stepper::append(const torch::Tensor& tokens) {
  all_ = torch::cat({all_, tokens}, 1);
  input_ = tokens;
}

torch::Tensor generate_greedy(Transformer& model, const torch::Tensor& prompt, int64_t max_new) {
  torch::NoGradGuard no_grad;
  Stepper stepper(model, prompt);
  std::vector<torch::Tensor> chosen;
  for (int64_t step = 0; step < max_new; ++step) {
    chosen.push_back(stepper.next_logits().argmax(-1, /*keepdim=*/true));  // [B, 1]
    stepper.append(chosen.back());
  }
  return chosen.empty() ? torch::zeros({prompt.size(0), 0}, prompt.options()) : torch::cat(chosen, 1);
}

}  // namespace bespoke::model
