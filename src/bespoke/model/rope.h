// Rotary position embeddings in the "rotate half" layout: within the rotated width r of a
// head, dim i pairs with dim i + r/2.
#pragma once

#include <torch/torch.h>

#include "bespoke/model/spec.h"

namespace bespoke::model {

// Cosines and sines for a batch of positions, ready for `apply_rope`.
struct RopeTables {
  torch::Tensor cos;  // [T, rot_dim] fp32, or [B, T, rot_dim] for positions that differ per row
  torch::Tensor sin;
};

// Returns the inverse frequencies [rot_dim / 2] (fp32) of `rope` for heads of `head_dim`.
// `context_len` is the longest position in use; longrope picks its factors by it.
torch::Tensor rope_inv_freq(const RopeSpec& rope, int64_t head_dim, int64_t context_len);

// Returns the tables for `positions` [T] or [B, T] (int64).
RopeTables rope_tables(const RopeSpec& rope, int64_t head_dim, const torch::Tensor& positions, int64_t context_len);

// Rotates the first rot_dim dims of every head of `x` [B, T, heads, head_dim].
torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& tables);

bool operator==(const RopeSpec& a, const RopeSpec& b);

}  // namespace bespoke::model
