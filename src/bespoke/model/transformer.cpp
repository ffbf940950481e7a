#include "bespoke/model/transformer.h"

#include <cmath>

#include "bespoke/core/error.h"
#include "bespoke/model/checkpoint.h"

namespace bespoke::model {

TransformerImpl::TransformerImpl(const ModelSpec& spec, const torch::TensorOptions& options)
    : model_(std::make_shared<const ModelSpec>(spec)), spec_(*model_) {
  const int64_t E = spec.hidden_size, V = spec.vocab_size, P = spec.per_layer_input_dim;
  token_embd = register_module("token_embd", Embedding(V, E, options));
  if (P > 0) {
    const int64_t LP = spec.n_layers() * P;
    per_layer_token_embd = register_module("per_layer_token_embd", Embedding(spec.per_layer_vocab_size, LP, options));
    per_layer_model_proj = register_module("per_layer_model_proj", Linear(E, LP, false, options));
    per_layer_proj_norm = register_module("per_layer_proj_norm", RmsNorm(P, spec, options));
  }
  blk = register_module("blk", torch::nn::ModuleList());
  for (int64_t i = 0; i < spec.n_layers(); ++i) blk->push_back(Block(model_, i, options));
  output_norm = register_module("output_norm", RmsNorm(E, spec, options));
  if (!spec.tie_embeddings) output = register_module("output", Linear(E, V, false, options));
}

KvCache TransformerImpl::new_cache() const {
  KvCache cache;
  cache.keys.resize(spec_.n_layers());
  cache.values.resize(spec_.n_layers());
  cache.conv.resize(spec_.n_layers());
  cache.recurrent.resize(spec_.n_layers());
  return cache;
}

torch::Tensor TransformerImpl::embed(const torch::Tensor& ids) {
  torch::Tensor x = token_embd(ids);  // [B, T, E]
  // The scale is rounded to the activation dtype first, as the reference does.
  if (spec_.embedding_scale != 1.0) x = x * torch::scalar_tensor(spec_.embedding_scale, x.options());
  return x;
}

// Gemma 4: every layer also gets its own token embedding, mixed with a projection of the
// main embedding: (norm(proj(x) / sqrt(E)) + embd_pl(ids) * sqrt(P)) / sqrt(2). Like the
// reference, only the table's scale is rounded to the activation dtype.
torch::Tensor TransformerImpl::per_layer_inputs(const torch::Tensor& ids, const torch::Tensor& x,
                                                const TapObserver* taps) {
  const int64_t B = ids.size(0), T = ids.size(1), L = spec_.n_layers(), P = spec_.per_layer_input_dim;
  torch::Tensor table = per_layer_token_embd(ids) * torch::scalar_tensor(std::sqrt(double(P)), x.options());
  torch::Tensor projected = per_layer_model_proj(x) * (1.0 / std::sqrt(double(spec_.hidden_size)));
  projected = per_layer_proj_norm(projected.view({B, T, L, P}));
  if (taps) (*taps)("per_layer_proj_norm", projected);
  return (projected + table.view({B, T, L, P})) * (1.0 / std::sqrt(2.0));
}

torch::Tensor TransformerImpl::logits(const torch::Tensor& h) {
  torch::Tensor out = output ? output(h) : torch::matmul(h, token_embd->weight.t());
  if (spec_.logit_divisor != 1.0) out = out / spec_.logit_divisor;
  if (spec_.final_softcap > 0) out = torch::tanh(out / spec_.final_softcap) * spec_.final_softcap;
  return out;
}

ForwardOutput TransformerImpl::forward(const torch::Tensor& ids, KvCache* cache, bool want_hidden,
                                       const TapObserver* taps) {
  ForwardOutput out;
  out.logits = logits(run(ids, cache, want_hidden ? &out.hidden : nullptr, taps));
  return out;
}

void TransformerImpl::set_activation_checkpointing(bool on) {
  for (const LayerSpec& l : spec_.layers)
    if (on && l.kv_source >= 0)
      fail(ErrorKind::kUnsupported, "activation checkpointing of models that share KV between layers is not supported");
  checkpointing_ = on;
}

void TransformerImpl::set_masks(std::shared_ptr<const UnitMasks> masks) {
  if (masks) check_masks(spec_, *masks);
  masks_ = std::move(masks);
}

torch::Tensor TransformerImpl::features(const torch::Tensor& ids) {
  return run(ids, nullptr, nullptr);
}

torch::Tensor TransformerImpl::head(const torch::Tensor& h) {
  return logits(h);
}

torch::Tensor TransformerImpl::run(const torch::Tensor& ids, KvCache* cache, std::vector<torch::Tensor>* hidden,
                                   const TapObserver* taps) {
  const int64_t T = ids.size(1), past = cache ? cache->length : 0, S = past + T;
  const auto device = ids.device();
  torch::Tensor positions = torch::arange(past, S, torch::TensorOptions().dtype(torch::kInt64).device(device));
  torch::Tensor key_pos = torch::arange(0, S, positions.options());
  torch::Tensor distance = positions.unsqueeze(1) - key_pos.unsqueeze(0);  // [T, S]
  torch::Tensor causal = distance >= 0;
  if (cache && cache->pad.defined()) {  // rows aligned on the right: each counts from its first real slot
    const torch::Tensor pad = cache->pad.to(device);
    positions = positions.unsqueeze(0) - pad.unsqueeze(1);  // [B, T]
    causal = causal.unsqueeze(0)
                 .logical_and(key_pos.unsqueeze(0) >= pad.unsqueeze(1).unsqueeze(1))
                 .unsqueeze(1);  // [B, 1, T, S]
    distance = distance.unsqueeze(0).unsqueeze(0);
  }

  torch::Tensor h = mask_hidden(masks_.get(), embed(ids));
  torch::Tensor pli = spec_.per_layer_input_dim > 0 ? per_layer_inputs(ids, h, taps) : torch::Tensor();
  if (hidden) hidden->push_back(h);

  std::vector<torch::Tensor> keys(spec_.n_layers()), values(spec_.n_layers());
  std::vector<RopeTables> ropes(spec_.n_layers());  // shared by layers with the same rope
  for (int64_t i = 0; i < spec_.n_layers(); ++i) {
    const LayerSpec& l = spec_.layers[i];
    if (l.n_heads == 0) continue;  // no attention, no rope
    for (int64_t j = 0; j < i && !ropes[i].cos.defined(); ++j)
      if (spec_.layers[j].rope == l.rope && spec_.layers[j].head_dim == l.head_dim) ropes[i] = ropes[j];
    if (!ropes[i].cos.defined()) ropes[i] = rope_tables(l.rope, l.head_dim, positions, S);
  }
  for (int64_t i = 0; i < spec_.n_layers(); ++i) {
    const LayerSpec& l = spec_.layers[i];
    LayerContext ctx;
    ctx.rope = &ropes[i];
    ctx.allowed = l.window > 0 ? causal.logical_and(distance < l.window) : causal;
    if (pli.defined()) ctx.per_layer_input = pli.select(2, i);
    ctx.keys = &keys;
    ctx.values = &values;
    ctx.cache = cache;
    ctx.taps = taps;
    ctx.masks = masks_.get();
    Block block(blk->ptr<BlockImpl>(i));
    const bool checkpoint = checkpointing_ && !cache && !taps && torch::GradMode::is_enabled();
    h = checkpoint ? checkpointed_block(block, i, h, ctx) : block->forward(h, ctx);
    if (hidden && i + 1 < spec_.n_layers()) hidden->push_back(h);
  }
  if (cache) cache->length = S;
  h = output_norm(h);
  if (taps) (*taps)("output_norm", h);
  if (hidden) hidden->push_back(h);
  return h;
}

void init_random(Transformer& model, double std) {
  torch::NoGradGuard no_grad;
  const double offset = model->spec().norm_weight_offset;
  for (auto& item : model->named_parameters()) {
    torch::Tensor& p = item.value();
    const std::string& name = item.key();
    const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    if (p.dim() >= 2)
      p.normal_(0.0, std);
    else if (bias)
      p.zero_();
    else if (name.find("layer_output_scale") != std::string::npos || name.find(".ssm.norm") != std::string::npos ||
             name.find(".ssm.dt_bias") != std::string::npos)
      p.fill_(1.0);  // a plain-weight norm; the DeltaNet's time-step bias as transformers starts it
    else if (name.find(".ssm.a_log") != std::string::npos)
      p.uniform_(1.0, 16.0).log_();  // decay rates A in [1, 16], as transformers draws them
    else
      p.fill_(1.0 - offset);  // norms
  }
}

}  // namespace bespoke::model
