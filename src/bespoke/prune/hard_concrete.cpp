#include "bespoke/prune/hard_concrete.h"

#include <cmath>

namespace bespoke::prune {

torch::Tensor sample_gates(const torch::Tensor& log_alpha) {
  const torch::Tensor u = torch::rand_like(log_alpha) * (1 - 2 * kGateEps) + kGateEps;
  const torch::Tensor s = torch::sigmoid((torch::log(u) - torch::log1p(-u) + log_alpha) / kGateBeta);
  return torch::clamp(s * (kGateZeta - kGateGamma) + kGateGamma, 0.0, 1.0);
}

torch::Tensor gate_open_probability(const torch::Tensor& log_alpha) {
  return torch::sigmoid(log_alpha - kGateBeta * std::log(-kGateGamma / kGateZeta));
}

torch::Tensor deterministic_gates(const torch::Tensor& log_alpha) {
  return torch::sigmoid(log_alpha * (0.8 / kGateBeta));
}

void clamp_log_alpha(const torch::Tensor& log_alpha) {
  torch::NoGradGuard no_grad;
  log_alpha.clamp_(std::log(0.01), std::log(100.0));
}

}  // namespace bespoke::prune
