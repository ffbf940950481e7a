#include "bespoke/model/rms_norm.h"

namespace bespoke::model {

RmsNormImpl::RmsNormImpl(int64_t dim, double eps, double weight_offset)
    : eps_(eps), offset_(weight_offset) {
  if (dim > 0) weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat32);
  torch::Tensor y = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  if (weight.defined()) y = y * (weight.to(torch::kFloat32) + offset_);
  return y.to(x.dtype());
}

}  // namespace bespoke::model
