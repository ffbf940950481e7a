#include "bespoke/model/rms_norm.h"

#include <torch/version.h>

// libtorch 2.9 and later run rms_norm on CUDA as one fused kernel each way.
#define BESPOKE_FUSED_RMS_NORM (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9))

namespace bespoke::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// x scaled by its per-row 1/rms in fp32, rounded once to x's dtype (as the reference does).
torch::Tensor normalized(const torch::Tensor& x, const torch::Tensor& rstd) {
  return (x * rstd).to(x.dtype());
}

// The usual norm, y = normalized(x) * w with w in x's dtype, as one autograd node. The eager
// graph keeps an fp32 copy of x and the normalized activation for backward, and its backward
// runs a dozen passes over fp32 activations; this node keeps x and one scale per row, and its
// backward is the closed form: dx = r * (gy - x * r^2 * mean(gy * x)), gy = g * w, r = 1/rms.
struct WeightedRmsNorm : torch::autograd::Function<WeightedRmsNorm> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w, double eps) {
    const torch::Tensor rstd = torch::rsqrt(x.to(torch::kFloat32).pow(2).mean(-1, /*keepdim=*/true) + eps);
    ctx->save_for_backward({x, w, rstd});
    return normalized(x, rstd) * w;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &rstd = saved[2], &g = grads[0];
    torch::Tensor dx, dw;
    if (ctx->needs_input_grad(0)) {
      const torch::Tensor gy = g * w;
      const torch::Tensor mean_gx = (gy * x).sum(-1, /*keepdim=*/true, torch::kFloat32) / x.size(-1);
      dx = torch::addcmul(gy * rstd, x, rstd.pow(3) * mean_gx, -1).to(x.dtype());
    }
    if (ctx->needs_input_grad(1)) dw = (g * normalized(x, rstd)).reshape({-1, w.numel()}).sum(0).view_as(w);
    return {dx, dw, torch::Tensor()};
  }
};

}  // namespace

RmsNormImpl::RmsNormImpl(int64_t dim, const ModelSpec& spec, const torch::TensorOptions& options)
    : eps_(spec.norm_eps), offset_(spec.norm_weight_offset), weight_in_fp32_(spec.norm_weight_in_fp32) {
  if (dim > 0) weight = register_parameter("weight", torch::full({dim}, 1.0 - offset_, options));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  if (weight.defined() && !weight_in_fp32_) {
    const torch::Tensor w = (offset_ == 0 ? weight : weight + offset_).to(x.dtype());
#if BESPOKE_FUSED_RMS_NORM
    // Rounds once, after the weight, where the reference rounds before it too: within a bf16
    // step of it.
    if (x.is_cuda()) return at::rms_norm(x, {x.size(-1)}, w, eps_);
#endif
    return WeightedRmsNorm::apply(x, w, eps_);
  }
  torch::Tensor xf = x.to(torch::kFloat32);
  torch::Tensor y = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  if (!weight.defined()) return y.to(x.dtype());
  return (y * (weight.to(torch::kFloat32) + offset_)).to(x.dtype());
}

}  // namespace bespoke::model
