#include "bespoke/model/generate.h"

namespace bespoke::model {

torch::Tensor generate_greedy(Transformer& model, const torch::Tensor& prompt, int64_t max_new) {
  torch::NoGradGuard no_grad;
  KvCache cache = model->new_cache();
  std::vector<torch::Tensor> chosen;
  torch::Tensor input = prompt;
  for (int64_t step = 0; step < max_new; ++step) {
    torch::Tensor logits = model->forward(input, &cache).logits;  // [B, T, V]
    input = logits.select(1, logits.size(1) - 1).argmax(-1, /*keepdim=*/true);  // [B, 1]
    chosen.push_back(input);
  }
  if (chosen.empty()) return torch::empty({prompt.size(0), 0}, prompt.options());
  return torch::cat(chosen, 1);
}

}  // namespace bespoke::model
