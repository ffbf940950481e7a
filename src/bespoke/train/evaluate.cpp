#include "bespoke/train/evaluate.h"

#include "bespoke/core/error.h"
#include "bespoke/train/loss.h"

namespace bespoke::train {

double mean_loss(model::Transformer& net, const std::vector<text::Example>& examples, const std::vector<int64_t>& rows,
                 int64_t seq_len, int64_t batch) {
  torch::NoGradGuard no_grad;
  const torch::Device device = net->parameters().front().device();
  const Head head = [net](const torch::Tensor& h) mutable { return net->head(h); };
  double total = 0;
  int64_t tokens = 0;
  for (size_t b = 0; b < rows.size(); b += batch) {
    const std::vector<int64_t> chunk(rows.begin() + b, rows.begin() + std::min<size_t>(rows.size(), b + batch));
    const Batch x = make_batch(examples, chunk, seq_len);
    const torch::Tensor h = net->features(x.ids.to(device)).flatten(0, 1);
    const torch::Tensor mean =
        chunked_cross_entropy(head, h, x.targets.flatten().to(device), x.mask.flatten().to(device));
    total += mean.item<double>() * x.tokens;
    tokens += x.tokens;
  }
  return total / std::max<int64_t>(tokens, 1);
}

std::vector<double> domain_losses(model::Transformer& net, const std::vector<text::Example>& examples,
                                  const DomainMix& mix, int64_t seq_len, int64_t batch) {
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
