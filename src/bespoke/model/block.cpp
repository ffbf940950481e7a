#include "bespoke/model/block.h"

#include <torch/version.h>

#include <cmath>
#include <limits>

#include "bespoke/model/tensor_table.h"

namespace bespoke::model {
namespace {

// h + scale * out; the multiply is a full pass over the activations, so it runs only where a
// family scales (Granite).
torch::Tensor residual_add(const torch::Tensor& h, const torch::Tensor& out, double scale) {
  return scale == 1.0 ? h + out : h + out * scale;
}

}  // namespace

BlockImpl::BlockImpl(std::shared_ptr<const ModelSpec> model, int64_t layer, const torch::TensorOptions& options)
    : model_(std::move(model)), spec_(*model_), layer_spec_(spec_.layers[layer]), layer_(layer) {
  const ModelSpec& spec = spec_;
  const LayerSpec& l = layer_spec_;
  const int64_t E = spec.hidden_size, q = l.n_heads * l.head_dim, kv = l.n_kv_heads * l.head_dim;
  if (l.kind == LayerKind::kLinearAttention) {
    if (spec.attn_pre_norm) attn_norm = register_module("attn_norm", RmsNorm(E, spec, options));
    ssm = register_module("ssm", GatedDeltaNet(spec, l.deltanet, options));
  } else if (l.n_heads > 0) {  // 0 heads: no attention, and none of its norms
    if (spec.attn_pre_norm) attn_norm = register_module("attn_norm", RmsNorm(E, spec, options));
    const int64_t q_rows = spec.attn_output_gate ? 2 * q : q;  // each head's [query | gate]
    attn_q = register_module("attn_q", Linear(E, q_rows, spec.qkv_bias, options));
    const bool own_kv = l.kv_source < 0;
    if (own_kv) {
      attn_k = register_module("attn_k", Linear(E, kv, spec.qkv_bias, options));
      if (!l.k_eq_v) attn_v = register_module("attn_v", Linear(E, kv, spec.qkv_bias, options));
    }
    if (spec.qk_norm != QkNorm::kNone) {
      const bool per_head = spec.qk_norm == QkNorm::kPerHead;
      attn_q_norm = register_module("attn_q_norm", RmsNorm(per_head ? l.head_dim : q, spec, options));
      if (own_kv) attn_k_norm = register_module("attn_k_norm", RmsNorm(per_head ? l.head_dim : kv, spec, options));
    }
    if (spec.v_norm) v_norm = register_module("v_norm", RmsNorm(0, spec, options));
    attn_output = register_module("attn_output", Linear(q, E, spec.o_bias, options));
    if (spec.attn_post_norm) post_attention_norm = register_module("post_attention_norm", RmsNorm(E, spec, options));
  }
  if (l.ffn_dim > 0) {  // 0 FFN width: no MLP
    if (spec.ffn_pre_norm) ffn_norm = register_module("ffn_norm", RmsNorm(E, spec, options));
    ffn_gate = register_module("ffn_gate", Linear(E, l.ffn_dim, spec.mlp_bias, options));
    ffn_up = register_module("ffn_up", Linear(E, l.ffn_dim, spec.mlp_bias, options));
    ffn_down = register_module("ffn_down", Linear(l.ffn_dim, E, spec.mlp_bias, options));
    if (spec.ffn_post_norm) post_ffw_norm = register_module("post_ffw_norm", RmsNorm(E, spec, options));
  }
  if (spec.per_layer_input_dim > 0) {
    inp_gate = register_module("inp_gate", Linear(E, spec.per_layer_input_dim, false, options));
    proj = register_module("proj", Linear(spec.per_layer_input_dim, E, false, options));
    post_norm = register_module("post_norm", RmsNorm(E, spec, options));
  }
  if (spec.layer_output_scale) layer_output_scale = register_module("layer_output_scale", Scalar(options));
}

torch::Tensor BlockImpl::mask(const LayerContext& ctx, std::vector<torch::Tensor> UnitMasks::*kind) const {
  if (!ctx.masks || (ctx.masks->*kind).empty()) return {};
  return (ctx.masks->*kind)[layer_];
}

const torch::Tensor& BlockImpl::tap(const LayerContext& ctx, const char* what, const torch::Tensor& value) const {
  if (ctx.taps) (*ctx.taps)(layer_tensor_name(layer_, what), value);
  return value;
}

torch::Tensor BlockImpl::branch_scale(const LayerContext& ctx, torch::Tensor UnitMasks::*block) const {
  if (!ctx.masks) return {};
  const torch::Tensor& layer = ctx.masks->layers;
  const torch::Tensor own = block ? ctx.masks->*block : torch::Tensor();
  if (!layer.defined()) return own.defined() ? own[layer_] : own;
  return own.defined() ? layer[layer_] * own[layer_] : layer[layer_];
}

torch::Tensor BlockImpl::join(const LayerContext& ctx, const torch::Tensor& h, torch::Tensor out, RmsNorm& norm,
                              const char* norm_name, torch::Tensor UnitMasks::*block, double residual_scale) {
  torch::Tensor scale = branch_scale(ctx, block);
  if (norm)
    out = tap(ctx, norm_name, norm(mask_hidden(ctx.masks, out)));
  else if (ctx.masks && ctx.masks->hidden.defined())  // both masks in one pass over the activations
    scale = scale.defined() ? ctx.masks->hidden * scale : ctx.masks->hidden;
  if (!scale.defined()) return residual_add(h, out, residual_scale);
  // The scale and the add in one pass; a family's residual scale keeps its own multiply, so that
  // masks of ones compute bit for bit what no masks do.
  const torch::Tensor by = scale.to(out.device(), out.scalar_type());
  return residual_scale == 1.0 ? torch::addcmul(h, out, by) : residual_add(h, out * by, residual_scale);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const LayerContext& ctx) {
  torch::Tensor h = tap(ctx, "input", x);
  if (attn_q || ssm) {  // the mixer: attention, or a linear-attention layer's DeltaNet
    const torch::Tensor in = attn_norm ? tap(ctx, "attn_norm", attn_norm(h)) : h;
    const torch::Tensor a = ssm ? deltanet(in, ctx) : attention(in, ctx);
    h = join(ctx, h, a, post_attention_norm, "post_attention_norm", &UnitMasks::attn, spec_.residual_scale);
  }
  if (ffn_down) {
    const torch::Tensor m = mlp(ffn_norm ? tap(ctx, "ffn_norm", ffn_norm(h)) : h, ctx);
    h = join(ctx, h, m, post_ffw_norm, "post_ffw_norm", &UnitMasks::mlp, spec_.residual_scale);
  }
  if (inp_gate)
    h = join(ctx, h, proj(activation(inp_gate(h)) * ctx.per_layer_input), post_norm, "post_norm", nullptr, 1.0);
  if (layer_output_scale) {
    // A skipped layer passes its input on unscaled: the scalar is 1 + z (s - 1).
    const torch::Tensor z = branch_scale(ctx, nullptr);
    const torch::Tensor& s = layer_output_scale->weight;
    h = z.defined() ? h * (1 + z.to(s.device()) * (s - 1)).to(h.scalar_type()) : layer_output_scale(h);
  }
  return tap(ctx, "output", h);
}

torch::Tensor BlockImpl::attention(const torch::Tensor& x, const LayerContext& ctx) {
  const LayerSpec& l = layer_spec_;
  const int64_t B = x.size(0), T = x.size(1), H = l.n_heads, KV = l.n_kv_heads, hd = l.head_dim;
  const bool full_width_norm = spec_.qk_norm == QkNorm::kFullWidth;
  const bool per_head_norm = spec_.qk_norm == QkNorm::kPerHead;

  const torch::Tensor head_mask = mask(ctx, &UnitMasks::heads);
  const torch::Tensor kv_mask = mask(ctx, &UnitMasks::kv);  // a layer reading another's values reads them masked
  torch::Tensor q = attn_q(x);                              // [B, T, H * hd]
  torch::Tensor gate;                                       // [B, T, H, hd]: sigmoid(gate) scales the output
  if (spec_.attn_output_gate) {
    const torch::Tensor both = q.view({B, T, H, 2 * hd});
    q = both.slice(3, 0, hd).reshape({B, T, H * hd});
    gate = both.slice(3, hd);
  }
  if (full_width_norm && head_mask.defined()) q = q * head_mask.repeat_interleave(hd).to(q.dtype());
  if (full_width_norm && kv_mask.defined()) q = q * kv_mask.repeat_interleave(H / KV * hd).to(q.dtype());
  if (full_width_norm) q = tap(ctx, "attn_q_norm", attn_q_norm(q));
  q = q.view({B, T, H, hd});
  if (per_head_norm) q = tap(ctx, "attn_q_norm", attn_q_norm(q));
  q = apply_rope(q, *ctx.rope).transpose(1, 2);  // [B, H, T, hd]

  torch::Tensor k, v;
  if (l.kv_source >= 0) {
    k = (*ctx.keys)[l.kv_source];  // [B, KV, S, hd], already normed and rotated
    v = (*ctx.values)[l.kv_source];
  } else {
    k = attn_k(x);
    const torch::Tensor projected_k = k;  // a K = V layer's values: the keys before norm and rope
    if (full_width_norm && kv_mask.defined()) k = k * kv_mask.repeat_interleave(hd).to(k.dtype());
    if (full_width_norm) k = tap(ctx, "attn_k_norm", attn_k_norm(k));
    k = k.view({B, T, KV, hd});
    if (per_head_norm) k = tap(ctx, "attn_k_norm", attn_k_norm(k));
    k = apply_rope(k, *ctx.rope).transpose(1, 2);  // [B, KV, T, hd]
    v = (l.k_eq_v ? projected_k : attn_v(x)).view({B, T, KV, hd});
    if (v_norm) v = tap(ctx, "v_norm", v_norm(v));
    if (kv_mask.defined()) v = v * kv_mask.view({1, 1, KV, 1}).to(v.dtype());
    v = v.transpose(1, 2);
    if (ctx.cache && ctx.cache->keys[layer_].defined()) {
      k = torch::cat({ctx.cache->keys[layer_], k}, 2);  // [B, KV, S, hd]
      v = torch::cat({ctx.cache->values[layer_], v}, 2);
    }
    if (ctx.cache) {
      ctx.cache->keys[layer_] = k;
      ctx.cache->values[layer_] = v;
    }
    (*ctx.keys)[layer_] = k;
    (*ctx.values)[layer_] = v;
  }
  if (H != KV) {  // grouped-query attention: query head h reads kv head h / (H / KV)
    k = k.repeat_interleave(H / KV, 1);
    v = v.repeat_interleave(H / KV, 1);
  }
  const double scale = spec_.attn_scale > 0 ? spec_.attn_scale : 1.0 / std::sqrt(double(hd));
  torch::Tensor out;  // [B, H, T, hd]: both paths end in the one return below
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)  // SDPA's `scale` is 2.1's
  // libtorch 2.1+ on a GPU: the fused kernel (flash attention for plain causal masks) wherever
  // scores need no transform. CPU keeps the eager path below, which the fixtures pin down.
  if (x.is_cuda() && spec_.attn_softcap == 0) {
    const bool causal = l.window == 0 && q.size(2) == k.size(2) && ctx.allowed.dim() == 2;
    out = at::scaled_dot_product_attention(q, k, v, causal ? c10::optional<at::Tensor>() : ctx.allowed, 0.0, causal,
                                           scale);
  }
#endif
  // An observer also sees the probabilities, which the fused kernel never forms: for an observed
  // pass they are computed here even when that kernel produced the output.
  if (!out.defined() || ctx.taps) {
    torch::Tensor scores = torch::matmul(q, k.transpose(2, 3)) * scale;  // [B, H, T, S]
    if (spec_.attn_softcap > 0) scores = torch::tanh(scores / spec_.attn_softcap) * spec_.attn_softcap;
    scores = scores.masked_fill(ctx.allowed.logical_not(), -std::numeric_limits<float>::infinity());
    const torch::Tensor probs = tap(ctx, "attn_probs", torch::softmax(scores, -1, torch::kFloat32).to(q.dtype()));
    if (!out.defined()) out = torch::matmul(probs, v);
  }
  if (head_mask.defined()) out = out * head_mask.view({1, H, 1, 1}).to(out.dtype());
  out = out.transpose(1, 2);  // [B, T, H, hd]
  if (gate.defined()) out = out * torch::sigmoid(gate);
  return attn_output(tap(ctx, "attn_output.input", out.reshape({B, T, H * hd})));
}

// A DeltaNet's units are its value heads (UnitMasks::heads) within their key heads
// (UnitMasks::kv, which also masks every value head reading that key head). Each head's state
// and output reach only its own columns of out, so a zero removes it exactly.
torch::Tensor BlockImpl::deltanet(const torch::Tensor& x, const LayerContext& ctx) {
  const DeltaNetSpec& d = layer_spec_.deltanet;
  torch::Tensor y = ssm->heads(x, ctx.cache, layer_);  // [B, T, nv, dv]
  const torch::Tensor head_mask = mask(ctx, &UnitMasks::heads), key_mask = mask(ctx, &UnitMasks::kv);
  if (head_mask.defined()) y = y * head_mask.view({d.value_heads, 1}).to(y.dtype());
  if (key_mask.defined())
    y = y * key_mask.repeat_interleave(d.value_heads / d.key_heads).view({d.value_heads, 1}).to(y.dtype());
  return ssm->out(tap(ctx, "ssm.out.input", y.reshape({x.size(0), x.size(1), d.value_heads * d.value_dim})));
}

torch::Tensor BlockImpl::mlp(const torch::Tensor& x, const LayerContext& ctx) {
  torch::Tensor a = activation(ffn_gate(x)) * ffn_up(x);
  const torch::Tensor ffn_mask = mask(ctx, &UnitMasks::ffn);
  if (ffn_mask.defined()) a = a * ffn_mask.to(a.dtype());
  return ffn_down(tap(ctx, "ffn_down.input", a));
}

torch::Tensor BlockImpl::activation(const torch::Tensor& x) const {
  switch (spec_.activation) {
    case Activation::kSilu:
      return torch::silu(x);
    case Activation::kGeluTanh:
      return torch::gelu(x, "tanh");
    case Activation::kGeluTanhFp16: {
      // ggml's table: fp16 in, fp16 out, exact outside (-10, 10).
      const torch::Tensor table = torch::gelu(x.to(torch::kHalf).to(x.dtype()), "tanh").to(torch::kHalf).to(x.dtype());
      return torch::where(x <= -10, torch::zeros_like(x), torch::where(x >= 10, x, table));
    }
  }
  return x;
}

}  // namespace bespoke::model
