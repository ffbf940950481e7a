// The decoder-only transformer: embeddings, the layers, final norm, output head.
// Its named_parameters() are exactly the canonical tensor table of its spec.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "bespoke/model/block.h"
#include "bespoke/model/kv_cache.h"
#include "bespoke/model/rms_norm.h"
#include "bespoke/model/spec.h"

namespace bespoke::model {

struct ForwardOutput {
  torch::Tensor logits;               // [B, T, vocab]
  std::vector<torch::Tensor> hidden;  // when asked: embeddings, each layer's output but the
                                      // last, then the final norm's output (HF's layout)
};

class TransformerImpl : public torch::nn::Module {
 public:
  // Weights are allocated with `options` (dtype, device) but left uninitialised: load a
  // checkpoint into them, or call init_random.
  explicit TransformerImpl(const ModelSpec& spec, const torch::TensorOptions& options = {});

  // ids: [B, T] int64. With `cache`, positions continue from cache->length and the cache grows.
  // With `taps`, each named activation (block.h) is reported as it is computed; an observed
  // pass is not activation-checkpointed, so each tap fires once.
  ForwardOutput forward(const torch::Tensor& ids, KvCache* cache = nullptr, bool want_hidden = false,
                        const TapObserver* taps = nullptr);
  // The two halves of forward, for losses that apply the head in chunks: the final norm's
  // output [B, T, E], and the logits of any slice of it.
  torch::Tensor features(const torch::Tensor& ids);
  torch::Tensor head(const torch::Tensor& h);
  KvCache new_cache() const;
  // Recompute each layer's activations in the backward pass instead of keeping them (training
  // memory for a second forward). Throws Error(kUnsupported) for models that share KV between
  // layers.
  void set_activation_checkpointing(bool on);
  // Masks every forward applies (unit_masks.h) until set again; null removes them. Gradients
  // reach masks that require them, checkpointed layers included. Throws Error(kInput) for masks
  // of other sizes than the units.
  void set_masks(std::shared_ptr<const UnitMasks> masks);
  const std::shared_ptr<const UnitMasks>& masks() const { return masks_; }
  const ModelSpec& spec() const { return *model_; }

 private:
  torch::Tensor run(const torch::Tensor& ids, KvCache* cache, std::vector<torch::Tensor>* hidden,
                    const TapObserver* taps = nullptr);
  torch::Tensor embed(const torch::Tensor& ids);
  torch::Tensor per_layer_inputs(const torch::Tensor& ids, const torch::Tensor& x, const TapObserver* taps);
  torch::Tensor logits(const torch::Tensor& h);

  bool checkpointing_ = false;
  std::shared_ptr<const UnitMasks> masks_;
  std::shared_ptr<const ModelSpec> model_;  // shared with the blocks
  const ModelSpec& spec_;                   // *model_
  Embedding token_embd{nullptr};
  Embedding per_layer_token_embd{nullptr};
  Linear per_layer_model_proj{nullptr};
  RmsNorm per_layer_proj_norm{nullptr};
  torch::nn::ModuleList blk;
  RmsNorm output_norm{nullptr};
  Linear output{nullptr};
};
TORCH_MODULE(Transformer);

// Fills every matrix with N(0, std^2), biases with zeros and norms with the identity.
void init_random(Transformer& model, double std = 0.02);

}  // namespace bespoke::model
