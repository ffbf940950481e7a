#include "bespoke/model/generate.h"

#include <algorithm>
#include <chrono>

namespace bespoke::model {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double now(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool rope_switches(const ModelSpec& spec, int64_t past, int64_t total) {
  for (const LayerSpec& l : spec.layers) {
    const int64_t switch_at = l.rope.original_context;
    if (l.rope.type == RopeType::kLongRope && past > 0 && past <= switch_at && total > switch_at) return true;
  }
  return false;
}

bool has_longrope(const ModelSpec& spec) {
  for (const LayerSpec& l : spec.layers)
    if (l.rope.type == RopeType::kLongRope) return true;
  return false;
}

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

double DecodeTimes::median_prefill() const {
  return median(prefill);
}
double DecodeTimes::median_decode() const {
  return median(decode);
}

DecodeTimes time_greedy_decode(Transformer& model, const torch::Tensor& prompt, int64_t n_new, int repeats) {
  torch::NoGradGuard no_grad;
  DecodeTimes times;
  for (int r = 0; r < repeats; ++r) {
    Stepper stepper(model, prompt);
    const double start = now(prompt.device());
    std::vector<torch::Tensor> chosen = {stepper.next_logits().argmax(-1, /*keepdim=*/true)};
    const double prefilled = now(prompt.device());
    for (int64_t i = 0; i < n_new; ++i) {
      stepper.append(chosen.back());
      chosen.push_back(stepper.next_logits().argmax(-1, /*keepdim=*/true));
    }
    times.decode.push_back(now(prompt.device()) - prefilled);
    times.prefill.push_back(prefilled - start);
    const torch::Tensor tokens = torch::cat(chosen, 1)[0].to(torch::kCPU).contiguous();
    times.tokens.assign(tokens.data_ptr<int64_t>(), tokens.data_ptr<int64_t>() + tokens.numel());
  }
  return times;
}

}  // namespace bespoke::model
