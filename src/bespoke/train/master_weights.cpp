#include "bespoke/train/master_weights.h"

namespace bespoke::train {

torch::Tensor MasterWeights::add(const std::string& name, const torch::Tensor& param, bool frozen) {
  param.requires_grad_(!frozen);
  const torch::Tensor master =
      frozen || param.scalar_type() == torch::kFloat32 ? param : param.detach().to(torch::kFloat32);
  names_.push_back(name);
  frozen_.push_back(frozen);
  params_.push_back(param);
  masters_.push_back(master);
  if (!frozen) trainable_.push_back(master);
  return master;
}

void MasterWeights::accumulate_grads() {
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& grad = params_[i].mutable_grad();
    if (masters_[i].is_same(params_[i]) || !grad.defined()) continue;  // fp32 sums in place
    torch::Tensor& sum = masters_[i].mutable_grad();
    if (sum.defined())
      sum.add_(grad);
    else
      sum = grad.to(torch::kFloat32);
    grad.reset();
  }
}

void MasterWeights::finish_grads() {
  for (torch::Tensor& master : trainable_)
    if (!master.grad().defined()) master.mutable_grad() = torch::zeros_like(master);
}

void MasterWeights::publish() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!masters_[i].is_same(params_[i])) params_[i].copy_(masters_[i]);
    params_[i].mutable_grad().reset();
    masters_[i].mutable_grad().reset();
  }
}

}  // namespace bespoke::train
