// Linear and embedding layers whose weights are allocated in the requested dtype and device
// but not initialised: loading a checkpoint fills them without a throwaway fp32 copy, and
// `init_random` fills models built from a spec alone.
#pragma once

#include <torch/torch.h>

namespace bespoke::model {

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in, int64_t out, bool bias, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x) { return torch::linear(x, weight, bias); }

  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out], or undefined
};
TORCH_MODULE(Linear);

class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t rows, int64_t dim, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& ids) { return torch::embedding(weight, ids); }

  torch::Tensor weight;  // [rows, dim]
};
TORCH_MODULE(Embedding);

}  // namespace bespoke::model
