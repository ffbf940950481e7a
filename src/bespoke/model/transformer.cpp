#include "bespoke/model/transformer.h"

#include <cmath>

namespace bespoke::model {

TransformerImpl::TransformerImpl(const ModelSpec& spec)
    : model_(std::make_shared<const ModelSpec>(spec)), spec_(*model_) {
  const int64_t E = spec.hidden_size, V = spec.vocab_size, P = spec.per_layer_input_dim;
  token_embd = register_module("token_embd", torch::nn::Embedding(V, E));
  if (P > 0) {
    const int64_t LP = spec.n_layers() * P;
    per_layer_token_embd = register_module("per_layer_token_embd", torch::nn::Embedding(spec.per_layer_vocab_size, LP));
    per_layer_model_proj = register_module(
        "per_layer_model_proj", torch::nn::Linear(torch::nn::LinearOptions(E, LP).bias(false)));
    per_layer_proj_norm = register_module("per_layer_proj_norm", RmsNorm(P, spec));
  }
  blk = register_module("blk", torch::nn::ModuleList());
  for (int64_t i = 0; i < spec.n_layers(); ++i) blk->push_back(Block(model_, i));
  output_norm = register_module("output_norm", RmsNorm(E, spec));
  if (!spec.tie_embeddings)
    output = register_module("output", torch::nn::Linear(torch::nn::LinearOptions(E, V).bias(false)));
}

KvCache TransformerImpl::new_cache() const {
  KvCache cache;
  cache.keys.resize(spec_.n_layers());
  cache.values.resize(spec_.n_layers());
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
torch::Tensor TransformerImpl::per_layer_inputs(const torch::Tensor& ids, const torch::Tensor& x) {
  const int64_t B = ids.size(0), T = ids.size(1), L = spec_.n_layers(), P = spec_.per_layer_input_dim;
  torch::Tensor table = per_layer_token_embd(ids) * torch::scalar_tensor(std::sqrt(double(P)), x.options());
  torch::Tensor projected = per_layer_model_proj(x) * (1.0 / std::sqrt(double(spec_.hidden_size)));
  projected = per_layer_proj_norm(projected.view({B, T, L, P}));
  return (projected + table.view({B, T, L, P})) * (1.0 / std::sqrt(2.0));
}

torch::Tensor TransformerImpl::logits(const torch::Tensor& h) {
  torch::Tensor out = output ? output(h) : torch::matmul(h, token_embd->weight.t());
  if (spec_.logit_divisor != 1.0) out = out / spec_.logit_divisor;
  if (spec_.final_softcap > 0) out = torch::tanh(out / spec_.final_softcap) * spec_.final_softcap;
  return out;
}

ForwardOutput TransformerImpl::forward(const torch::Tensor& ids, KvCache* cache, bool want_hidden) {
  const int64_t T = ids.size(1), past = cache ? cache->length : 0, S = past + T;
  const auto device = ids.device();
  torch::Tensor positions = torch::arange(past, S, torch::TensorOptions().dtype(torch::kInt64).device(device));
  torch::Tensor key_pos = torch::arange(0, S, positions.options());
  torch::Tensor distance = positions.unsqueeze(1) - key_pos.unsqueeze(0);  // [T, S]
  torch::Tensor causal = distance >= 0;

  torch::Tensor h = embed(ids);
  torch::Tensor pli = spec_.per_layer_input_dim > 0 ? per_layer_inputs(ids, h) : torch::Tensor();
  ForwardOutput out;
  if (want_hidden) out.hidden.push_back(h);

  std::vector<torch::Tensor> keys(spec_.n_layers()), values(spec_.n_layers());
  std::vector<RopeTables> ropes(spec_.n_layers());  // shared by layers with the same rope
  for (int64_t i = 0; i < spec_.n_layers(); ++i) {
    const LayerSpec& l = spec_.layers[i];
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
    h = blk[i]->as<Block>()->forward(h, ctx);
    if (want_hidden && i + 1 < spec_.n_layers()) out.hidden.push_back(h);
  }
  if (cache) cache->length = S;
  h = output_norm(h);
  if (want_hidden) out.hidden.push_back(h);
  out.logits = logits(h);
  return out;
}

}  // namespace bespoke::model
