// RMSNorm: y = x / sqrt(mean(x^2) + eps) * (offset + w), computed in fp32.
#pragma once

#include <torch/torch.h>

#include "bespoke/model/spec.h"

namespace bespoke::model {

class RmsNormImpl : public torch::nn::Module {
 public:
  // Reads eps, weight offset and cast order from `spec`. `dim` = 0 makes a norm without
  // weight (Gemma 4's value norm).
  // The weight starts as the identity (1 - offset).
  RmsNormImpl(int64_t dim, const ModelSpec& spec, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;  // [dim], undefined when weightless

 private:
  double eps_;
  double offset_;
  bool weight_in_fp32_;
};
TORCH_MODULE(RmsNorm);

}  // namespace bespoke::model
