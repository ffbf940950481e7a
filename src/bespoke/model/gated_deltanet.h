// Gated DeltaNet (transformers models/qwen3_5/modeling_qwen3_5.py, Qwen3_5GatedDeltaNet): the
// mixer of Qwen 3.5's linear_attention layers. Per value head j, a state S_j (key_dim x
// value_dim) that decays and is corrected toward each new value:
//   S <- exp(g_t) S;  S <- S + k_t (beta_t (v_t - S^T k_t))^T;  o_t = S^T q_t
// with q, k, v from causal depthwise convs (then SiLU) over in_q, in_k, in_v, q and k L2-normalised
// (q also scaled by 1/sqrt(key_dim)) and read by value head j from key head j / (nv / nk),
// beta = sigmoid(in_b), g = -exp(a_log) softplus(in_a + dt_bias), and the output normed per
// head (plain w), gated by silu(in_z), projected by out. Prefill and training run the chunked
// form (chunks of 64, a unit-triangular solve per chunk); one-token decoding runs the
// recurrence itself. Both carry the conv inputs and S in the KvCache.
#pragma once

#include <torch/torch.h>

#include "bespoke/model/kv_cache.h"
#include "bespoke/model/linear.h"
#include "bespoke/model/spec.h"

namespace bespoke::model {

// The delta rule over a sequence, in fp32. q, k: [B, H, T, dk] (normalised, q scaled, already
// repeated to the value heads); v: [B, H, T, dv]; g, beta: [B, H, T]. `state` [B, H, dk, dv]:
// the state before the first token (undefined: zeros); it is left holding the state after the
// last. Returns o [B, H, T, dv].
torch::Tensor delta_rule_chunked(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& g, const torch::Tensor& beta, torch::Tensor& state,
                                 int64_t chunk = 64);
torch::Tensor delta_rule_recurrent(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   const torch::Tensor& g, const torch::Tensor& beta, torch::Tensor& state);

class GatedDeltaNetImpl : public torch::nn::Module {
 public:
  GatedDeltaNetImpl(const ModelSpec& spec, const DeltaNetSpec& d, const torch::TensorOptions& options);
  // x: the normed input [B, T, hidden]. With `cache`, continues from its conv inputs and state
  // for `layer`, and leaves them there. Returns out(heads(x)).
  torch::Tensor forward(const torch::Tensor& x, KvCache* cache, int64_t layer);
  // Each value head's output after the gated norm, before out [B, T, value_heads, value_dim] in
  // x's dtype: what the unit masks scale and importance scores a value head by (block.cpp).
  torch::Tensor heads(const torch::Tensor& x, KvCache* cache, int64_t layer);

  // q and k rows are key-head-major (dk per head), v and z rows value-head-major (dv per head);
  // in_b and in_a give one row per value head. transformers stores in_q, in_k, in_v as one
  // in_proj_qkv and the three convs as one conv1d.
  Linear in_q{nullptr}, in_k{nullptr}, in_v{nullptr}, in_z{nullptr}, in_b{nullptr}, in_a{nullptr}, out{nullptr};
  torch::Tensor conv_q, conv_k, conv_v;  // [channels, 1, K], depthwise, each over its projection
  torch::Tensor dt_bias;                 // [nv]
  torch::Tensor a_log;                   // [nv]
  torch::Tensor norm;                    // [dv], the gated norm's plain weight, shared by the heads

 private:
  DeltaNetSpec d_;
  double eps_;
};
TORCH_MODULE(GatedDeltaNet);

}  // namespace bespoke::model
