// Hard-concrete gates (Louizos et al., 2018) with the constants of Sheared-LLaMA's released runs:
// one learned log α per unit; a gate z in [0, 1] is a concrete variable at temperature β,
// stretched to (γ, ζ) and clipped, so that it is exactly 0 or exactly 1 with positive
// probability and differentiable in log α in between.
#pragma once

#include <torch/torch.h>

namespace bespoke::prune {

constexpr double kGateBeta = 2.0 / 3.0, kGateGamma = -0.1, kGateZeta = 1.1, kGateEps = 1e-6;

// A draw per entry: u ~ U(eps, 1 - eps) from the global generator of log_alpha's device,
// s = σ((ln u - ln(1 - u) + log α) / β), z = clip(s (ζ - γ) + γ, 0, 1).
torch::Tensor sample_gates(const torch::Tensor& log_alpha);

// P(z ≠ 0) = σ(log α - β ln(-γ / ζ)): what the expected sizes are made of.
torch::Tensor gate_open_probability(const torch::Tensor& log_alpha);

// The deterministic value of a kept unit, σ(0.8 log α / β) as the released code takes it: the
// score binarisation ranks by and the value folded into the weights.
torch::Tensor deterministic_gates(const torch::Tensor& log_alpha);

// log α into [ln 0.01, ln 100], in place and outside autograd, as after every forward there.
void clamp_log_alpha(const torch::Tensor& log_alpha);

}  // namespace bespoke::prune
