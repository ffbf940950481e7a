// Keys and values of the positions already processed, for incremental decoding.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace bespoke::model {

struct KvCache {
  std::vector<torch::Tensor> keys;    // per layer [B, n_kv_heads, S, head_dim]; undefined if
  std::vector<torch::Tensor> values;  // the layer reuses another layer's
  // Linear-attention layers instead (model/gated_deltanet.h): the last conv_kernel - 1 inputs of
  // the conv [B, channels, K - 1] and the DeltaNet state [B, value_heads, key_dim, value_dim]
  // (fp32), which do not grow with the sequence. Undefined elsewhere.
  std::vector<torch::Tensor> conv, recurrent;
  int64_t length = 0;  // S: positions cached so far
  // [B] int64, or undefined: rows that decode together (a server's batch) are aligned on the
  // right, and row b's first pad[b] cached slots are padding that no query sees. Its positions
  // count from the first real slot.
  torch::Tensor pad;
};

// The rows `rows` of a batch cache, in that order, their common left padding trimmed.
KvCache select_rows(const KvCache& cache, const std::vector<int64_t>& rows);

// One cache of the rows of both, the shorter one padded on the left to the longer's length.
// An empty cache (no layers filled) joins as nothing.
KvCache join_rows(const KvCache& a, const KvCache& b);

}  // namespace bespoke::model
