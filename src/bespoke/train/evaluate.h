// Evaluation loss: the mean next-token cross-entropy over the trained tokens of a set of
// examples, per domain, without gradients.
#pragma once

#include <vector>

#include "bespoke/model/transformer.h"
#include "bespoke/train/data.h"
#include "bespoke/train/domain_mix.h"

namespace bespoke::train {

// Token-weighted mean cross-entropy of `examples[rows]` over their trained targets.
double mean_loss(model::Transformer& net, const std::vector<text::Example>& examples, const std::vector<int64_t>& rows,
                 int64_t seq_len, int64_t batch);

// One loss per domain of `mix`, token-weighted over that domain's examples in `examples`
// (rows of `seq_len`, `batch` at a time). A domain without examples is an Error(kUsage).
std::vector<double> domain_losses(model::Transformer& net, const std::vector<text::Example>& examples,
                                  const DomainMix& mix, int64_t seq_len, int64_t batch);

}  // namespace bespoke::train
