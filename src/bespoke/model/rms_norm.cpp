#include "bespoke/model/rms_norm.h"

namespace bespoke::model {

RmsNormImpl::RmsNormImpl(int64_t dim, const ModelSpec& spec, const torch::TensorOptions& options)
    : eps_(spec.norm_eps), offset_(spec.norm_weight_offset), weight_in_fp32_(spec.norm_weight_in_fp32) {
  if (dim > 0) weight = register_parameter("weight", torch::full({dim}, 1.0 - offset_, options));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat32);
  torch::Tensor y = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  if (!weight.defined()) return y.to(x.dtype());
  if (weight_in_fp32_) return (y * (weight.to(torch::kFloat32) + offset_)).to(x.dtype());
  return y.to(x.dtype()) * (offset_ == 0 ? weight : weight + offset_).to(x.dtype());
}

}  // namespace bespoke::model
