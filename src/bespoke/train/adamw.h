// AdamW whose CUDA parameters take their step in one fused kernel per group (ATen's
// _fused_adamw_, what torch.optim.AdamW(fused=True) runs) with libtorch 2.x. libtorch's C++
// AdamW updates tensor by tensor, a dozen passes over the fp32 state; on a 1.3B model that is
// tens of milliseconds a step. The state (step, exp_avg, exp_avg_sq) is libtorch's own, so
// checkpoints load into either path. CPU parameters, and libtorch 1.x, use libtorch's step.
#pragma once

#include <torch/torch.h>

namespace bespoke::train {

class AdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace bespoke::train
