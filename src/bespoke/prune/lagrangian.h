// Sheared-LLaMA's size constraint as a Lagrangian: for each unit type j, the mean over its rows
// (expected_size.h) of λ1_j (ŝ - t_j(k)) + λ2_j (ŝ - t_j(k))², where ŝ is a row's expected share
// kept and t_j(k) moves linearly from 1 (the source) to the target's share over the first
// `warmup` steps. The loss is minimised over the masks and maximised over the λ: their gradient
// is reversed inside the term, so that one optimizer descending the loss ascends them.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "bespoke/prune/expected_size.h"

namespace bespoke::prune {

class Lagrangian {
 public:
  // One (λ1, λ2) per constraint's type, in this order, starting at 0.
  Lagrangian(const std::vector<SizeConstraint>& constraints, int64_t warmup);

  // The term at step `step` (steps done before this one).
  torch::Tensor term(const std::vector<SizeConstraint>& constraints, int64_t step) const;
  // The target share of `c` at step `step`.
  double target_at(const SizeConstraint& c, int64_t step) const;

  const std::vector<std::string>& types() const { return types_; }
  // [types, 2] fp32: the trained tensor.
  const torch::Tensor& lambdas() const { return lambdas_; }

 private:
  std::vector<std::string> types_;
  torch::Tensor lambdas_;
  int64_t warmup_;
};

}  // namespace bespoke::prune
