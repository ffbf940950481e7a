#include "bespoke/train/evaluate.h"

#include "bespoke/core/error.h"

namespace bespoke::train {

double mean_loss(model::Transformer& net, const std::vector<Example>& examples, const std::vector<int64_t>& rows,
                 int64_t seq_len, int64_t batch) {
  torch::NoGradGuard no_grad;
  double total = 0;
  int64_t tokens = 0;
  for (size_t b = 0; b < rows.size(); b += batch) {
    const std::vector<int64_t> chunk(rows.begin() + b, rows.begin() + std::min<size_t>(rows.size(), b + batch));
    const Batch x = make_batch(examples, chunk, seq_len);
    const torch::Tensor logits = net->forward(x.ids.to(net->parameters().front().device())).logits.to(torch::kFloat32);
    const torch::Tensor nll = torch::nn::functional::cross_entropy(
        logits.flatten(0, 1).cpu(), x.targets.flatten(), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    total += nll.masked_select(x.mask.flatten()).sum().item<double>();
    tokens += x.tokens;
  }
  return total / std::max<int64_t>(tokens, 1);
}

std::vector<double> domain_losses(model::Transformer& net, const std::vector<Example>& examples, const DomainMix& mix,
                                  int64_t seq_len, int64_t batch) {
  std::vector<double> losses;
  for (const std::string& domain : mix.names) {
    std::vector<int64_t> members;
    for (size_t i = 0; i < examples.size(); ++i)
      if (examples[i].domain == domain) members.push_back(i);
    if (members.empty()) fail(ErrorKind::kUsage, "the evaluation data has no records of domain '" + domain + "'");
    losses.push_back(mean_loss(net, examples, members, seq_len, batch));
  }
  return losses;
}

}  // namespace bespoke::train
