// Keys and values of the positions already processed, for incremental decoding.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace bespoke::model {

struct KvCache {
  std::vector<torch::Tensor> keys;    // per layer [B, n_kv_heads, S, head_dim]; undefined if
  std::vector<torch::Tensor> values;  // the layer reuses another layer's
  int64_t length = 0;                 // S: positions cached so far
};

}  // namespace bespoke::model
