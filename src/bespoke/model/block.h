// One transformer layer, generic over every family: it reads only its LayerSpec and the
// ModelSpec's flags. Parameters are registered under their canonical names, so the module's
// named_parameters() are the checkpoint's tensors ("attn_q.weight", ...).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bespoke/model/gated_deltanet.h"
#include "bespoke/model/kv_cache.h"
#include "bespoke/model/linear.h"
#include "bespoke/model/rms_norm.h"
#include "bespoke/model/rope.h"
#include "bespoke/model/spec.h"
#include "bespoke/model/unit_masks.h"

namespace bespoke::model {

// Named intermediate activations, reported to an observer during a forward (importance
// estimation works from them, as llama.cpp's imatrix does). Per layer, "blk.N." and:
//   input, output                  the block's input and output [B, T, E]
//   attn_norm, ffn_norm,           every norm's output (attn_q_norm / attn_k_norm per head
//   post_attention_norm, ...       where the family norms per head)
//   attn_probs                     the attention probabilities [B, H, T, S] (recomputed for an
//                                  observer where the fused kernel ran)
//   attn_output.input              the attention context before the output projection [B, T, H * hd]
//   ffn_down.input                 the gated activation before the down projection [B, T, ffn]
// and output_norm [B, T, E] after the last layer (and per_layer_proj_norm [B, T, L, P] for
// Gemma 4's per-layer inputs). Without an observer a tap is one test of a
// null pointer.
using TapObserver = std::function<void(const std::string& name, const torch::Tensor& value)>;

// What a layer needs besides its input; built once per forward by the transformer.
struct LayerContext {
  const RopeTables* rope = nullptr;
  torch::Tensor allowed;                         // [T, S] bool: key j visible to query i (causal, window);
                                                 // [B, 1, T, S] under a padded cache
  torch::Tensor per_layer_input;                 // [B, T, per_layer_input_dim], or undefined
  std::vector<torch::Tensor>* keys = nullptr;    // this forward's [B, KV, S, hd] per layer,
  std::vector<torch::Tensor>* values = nullptr;  // cached positions included
  KvCache* cache = nullptr;                      // null: no incremental decoding
  const TapObserver* taps = nullptr;             // null: nobody observes
  const UnitMasks* masks = nullptr;              // null: every unit counts fully
};

// A learned scalar that multiplies a whole layer's output (Gemma 4's layer_scalar).
class ScalarImpl : public torch::nn::Module {
 public:
  explicit ScalarImpl(const torch::TensorOptions& options)
      : weight(register_parameter("weight", torch::ones({1}, options))) {}
  torch::Tensor forward(const torch::Tensor& x) { return x * weight.to(x.dtype()); }
  torch::Tensor weight;  // [1]
};
TORCH_MODULE(Scalar);

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(std::shared_ptr<const ModelSpec> spec, int64_t layer, const torch::TensorOptions& options);
  // x: [B, T, hidden] -> [B, T, hidden]
  torch::Tensor forward(const torch::Tensor& x, const LayerContext& ctx);

 private:
  torch::Tensor attention(const torch::Tensor& x, const LayerContext& ctx);
  torch::Tensor deltanet(const torch::Tensor& x, const LayerContext& ctx);
  torch::Tensor mlp(const torch::Tensor& x, const LayerContext& ctx);
  // This layer's mask of one kind (UnitMasks::heads, kv or ffn), or undefined.
  torch::Tensor mask(const LayerContext& ctx, std::vector<torch::Tensor> UnitMasks::*kind) const;
  // The scale of one branch where it joins the stream: the layer's mask times the block's own
  // (UnitMasks::attn or mlp; null: the layer's alone), or undefined where neither is set.
  torch::Tensor branch_scale(const LayerContext& ctx, torch::Tensor UnitMasks::*block) const;
  // The stream `h` with a branch's output joined: the hidden mask on what it writes, its
  // post-norm (reported as `norm_name`) where it has one, then the branch's scale and the
  // family's residual scale, added in one pass.
  torch::Tensor join(const LayerContext& ctx, const torch::Tensor& h, torch::Tensor out, RmsNorm& norm,
                     const char* norm_name, torch::Tensor UnitMasks::*block, double residual_scale);
  // `value`, reported as "blk.N.<what>" when someone observes.
  const torch::Tensor& tap(const LayerContext& ctx, const char* what, const torch::Tensor& value) const;
  torch::Tensor activation(const torch::Tensor& x) const;

  const std::shared_ptr<const ModelSpec> model_;
  const ModelSpec& spec_;  // *model_
  const LayerSpec& layer_spec_;
  const int64_t layer_;

  RmsNorm attn_norm{nullptr}, attn_q_norm{nullptr}, attn_k_norm{nullptr}, v_norm{nullptr};
  Linear attn_q{nullptr}, attn_k{nullptr}, attn_v{nullptr}, attn_output{nullptr};
  GatedDeltaNet ssm{nullptr};  // the mixer of a linear-attention layer, in attention's place
  RmsNorm post_attention_norm{nullptr}, ffn_norm{nullptr}, post_ffw_norm{nullptr};
  Linear ffn_gate{nullptr}, ffn_up{nullptr}, ffn_down{nullptr};
  // Per-layer input (Gemma 4): gate from the hidden state, project back, norm, add.
  Linear inp_gate{nullptr}, proj{nullptr};
  RmsNorm post_norm{nullptr};
  Scalar layer_output_scale{nullptr};
};
TORCH_MODULE(Block);

}  // namespace bespoke::model
