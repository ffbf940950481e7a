#include "bespoke/train/adamw.h"

#include <torch/version.h>

#include <map>

namespace bespoke::train {

torch::Tensor AdamW::step(LossClosure closure) {
#if TORCH_VERSION_MAJOR >= 2
  const bool fused =
      !param_groups().empty() && !param_groups()[0].params().empty() && param_groups()[0].params()[0].is_cuda();
  if (!fused) return torch::optim::AdamW::step(std::move(closure));
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable(true);
    loss = closure();
  }
  // The kernel reads the step count, already advanced, from an fp32 scalar on the device; one
  // scalar per distinct count, not one fill per parameter.
  std::map<int64_t, torch::Tensor> step_scalars;
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    TORCH_CHECK(!o.amsgrad(), "the fused AdamW step has no amsgrad");
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    for (const torch::Tensor& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state_[p.unsafeGetTensorImpl()];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& s = static_cast<torch::optim::AdamWParamState&>(*slot);
      s.step(s.step() + 1);
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(s.exp_avg());
      exp_avg_sqs.push_back(s.exp_avg_sq());
      torch::Tensor& scalar = step_scalars[s.step()];
      if (!scalar.defined()) scalar = torch::full({}, double(s.step()), p.options().dtype(torch::kFloat32));
      steps.push_back(scalar);
    }
    if (params.empty()) continue;
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, o.lr(),
                      std::get<0>(o.betas()), std::get<1>(o.betas()), o.weight_decay(), o.eps(), /*amsgrad=*/false,
                      /*maximize=*/false);
  }
  return loss;
#else
  return torch::optim::AdamW::step(std::move(closure));
#endif
}

}  // namespace bespoke::train
