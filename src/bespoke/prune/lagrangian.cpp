#include "bespoke/prune/lagrangian.h"

#include <algorithm>

#include "bespoke/core/error.h"

namespace bespoke::prune {

Lagrangian::Lagrangian(const std::vector<SizeConstraint>& constraints, int64_t warmup)
    : lambdas_(torch::zeros({int64_t(constraints.size()), 2})), warmup_(warmup) {
  for (const SizeConstraint& c : constraints) types_.push_back(c.type);
}

double Lagrangian::target_at(const SizeConstraint& c, int64_t step) const {
  const double done = warmup_ > 0 ? std::min(1.0, double(step) / double(warmup_)) : 1.0;
  return 1.0 + (c.target - 1.0) * done;
}

torch::Tensor Lagrangian::term(const std::vector<SizeConstraint>& constraints, int64_t step) const {
  BESPOKE_CHECK(constraints.size() == types_.size(), "the constraints the multipliers were made for");
  // Forward: λ itself; backward: -1 times its gradient (ascent).
  const torch::Tensor lambda = (2 * lambdas_.detach() - lambdas_).to(torch::kFloat64);
  torch::Tensor total = torch::zeros({}, lambda.options());
  for (size_t j = 0; j < constraints.size(); ++j) {
    const SizeConstraint& c = constraints[j];
    BESPOKE_CHECK(c.type == types_[j], "the constraints in the multipliers' order");
    const torch::Tensor gap = c.kept.to(lambda.device(), torch::kFloat64) - target_at(c, step);
    total = total + (lambda[j][0] * gap + lambda[j][1] * gap.pow(2)).mean();
  }
  return total;
}

}  // namespace bespoke::prune
