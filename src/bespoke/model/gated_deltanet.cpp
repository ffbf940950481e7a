#include "bespoke/model/gated_deltanet.h"

#include <cmath>

namespace bespoke::model {
namespace {

// The delta rule runs in fp32, or in fp64 for fp64 inputs (checks against finite differences).
torch::ScalarType state_dtype(const torch::Tensor& x) {
  return x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

// x * rsqrt(sum(x^2) + 1e-6) over the last dim, as transformers' l2norm (its eps is fixed).
torch::Tensor l2_normalize(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).sum(-1, /*keepdim=*/true) + 1e-6);
}

}  // namespace

torch::Tensor delta_rule_recurrent(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   const torch::Tensor& g, const torch::Tensor& beta, torch::Tensor& state) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), dk = q.size(3), dv = v.size(3);
  const torch::ScalarType f = state_dtype(q);
  torch::Tensor S = state.defined() ? state.to(f) : torch::zeros({B, H, dk, dv}, q.options().dtype(f));
  std::vector<torch::Tensor> outs;
  for (int64_t t = 0; t < T; ++t) {
    const torch::Tensor kt = k.select(2, t).to(f), qt = q.select(2, t).to(f);
    const torch::Tensor vt = v.select(2, t).to(f);
    S = S * g.select(2, t).to(f).exp().view({B, H, 1, 1});
    const torch::Tensor seen = (S * kt.unsqueeze(-1)).sum(-2);  // S^T k  [B, H, dv]
    const torch::Tensor delta = (vt - seen) * beta.select(2, t).to(f).unsqueeze(-1);
    S = S + kt.unsqueeze(-1) * delta.unsqueeze(-2);
    outs.push_back((S * qt.unsqueeze(-1)).sum(-2));  // S^T q
  }
  state = S;
  return torch::stack(outs, 2);
}

// Per chunk of C tokens with gamma the cumulative log-decay and Gamma[t, s] = exp(gamma_t -
// gamma_s) for s <= t: M = I + strict_lower(diag(beta) K K^T * Gamma), U = M^-1 diag(beta) V,
// W = M^-1 diag(beta exp(gamma)) K; then, with the state S before the chunk,
//   V' = U - W S,  O = (Q exp(gamma)) S + ((Q K^T) * Gamma) V',  S <- exp(gamma_C) S + (K exp(gamma_C - gamma))^T V'.
torch::Tensor delta_rule_chunked(const torch::Tensor& q_in, const torch::Tensor& k_in, const torch::Tensor& v_in,
                                 const torch::Tensor& g_in, const torch::Tensor& beta_in, torch::Tensor& state,
                                 int64_t C) {
  const int64_t B = q_in.size(0), H = q_in.size(1), T = q_in.size(2), dk = q_in.size(3), dv = v_in.size(3);
  const int64_t pad = (C - T % C) % C, N = (T + pad) / C;
  const torch::ScalarType f = state_dtype(q_in);
  // Padding is harmless: zero q, k, v, g and beta leave the state and the real outputs alone.
  const auto chunks = [&](const torch::Tensor& x) {
    torch::Tensor y = x.to(f);
    if (y.dim() == 3) y = y.unsqueeze(-1);
    y = torch::constant_pad_nd(y, {0, 0, 0, pad});
    return y.view({B, H, N, C, y.size(-1)});
  };
  const torch::Tensor q = chunks(q_in), k = chunks(k_in), v = chunks(v_in);
  const torch::Tensor beta = chunks(beta_in), g = chunks(g_in).squeeze(-1);  // beta [.., C, 1]
  const torch::Tensor gamma = g.cumsum(-1);                                  // [B, H, N, C]
  const auto opts = q.options().dtype(torch::kBool);
  const torch::Tensor lower = torch::ones({C, C}, opts).tril();
  const torch::Tensor Gamma =
      (gamma.unsqueeze(-1) - gamma.unsqueeze(-2)).masked_fill(lower.logical_not(), -INFINITY).exp();
  const torch::Tensor eye = torch::eye(C, q.options());
  const torch::Tensor M = eye + (torch::matmul(k * beta, k.transpose(-1, -2)) * Gamma).tril(-1);
  const torch::Tensor U =
      at::linalg_solve_triangular(M, v * beta, /*upper=*/false, /*left=*/true, /*unitriangular=*/true);
  const torch::Tensor W = at::linalg_solve_triangular(M, k * (beta * gamma.unsqueeze(-1).exp()), false, true, true);
  const torch::Tensor attend = torch::matmul(q, k.transpose(-1, -2)) * Gamma;  // Gamma is 0 above the diagonal
  torch::Tensor S = state.defined() ? state.to(f) : torch::zeros({B, H, dk, dv}, q.options());
  std::vector<torch::Tensor> outs;
  for (int64_t n = 0; n < N; ++n) {
    const torch::Tensor gn = gamma.select(2, n), last = gn.select(-1, C - 1).view({B, H, 1, 1});
    const torch::Tensor vn = U.select(2, n) - torch::matmul(W.select(2, n), S);
    outs.push_back(torch::matmul(q.select(2, n) * gn.unsqueeze(-1).exp(), S) + torch::matmul(attend.select(2, n), vn));
    const torch::Tensor kd = k.select(2, n) * (last - gn.unsqueeze(-1)).exp();
    S = S * last.exp() + torch::matmul(kd.transpose(-1, -2), vn);
  }
  state = S;
  return torch::stack(outs, 2).view({B, H, N * C, dv}).slice(2, 0, T);
}

GatedDeltaNetImpl::GatedDeltaNetImpl(const ModelSpec& spec, const DeltaNetSpec& d, const torch::TensorOptions& options)
    : d_(d), eps_(spec.norm_eps) {
  const int64_t E = spec.hidden_size, Ck = d.key_heads * d.key_dim, Cv = d.value_heads * d.value_dim;
  in_q = register_module("in_q", Linear(E, Ck, false, options));
  in_k = register_module("in_k", Linear(E, Ck, false, options));
  in_v = register_module("in_v", Linear(E, Cv, false, options));
  in_z = register_module("in_z", Linear(E, Cv, false, options));
  in_b = register_module("in_b", Linear(E, d.value_heads, false, options));
  in_a = register_module("in_a", Linear(E, d.value_heads, false, options));
  conv_q = register_parameter("conv_q", torch::empty({Ck, 1, d.conv_kernel}, options));
  conv_k = register_parameter("conv_k", torch::empty({Ck, 1, d.conv_kernel}, options));
  conv_v = register_parameter("conv_v", torch::empty({Cv, 1, d.conv_kernel}, options));
  dt_bias = register_parameter("dt_bias", torch::empty({d.value_heads}, options));
  a_log = register_parameter("a_log", torch::empty({d.value_heads}, options));
  norm = register_parameter("norm", torch::empty({d.value_dim}, options));
  out = register_module("out", Linear(Cv, E, false, options));
}

torch::Tensor GatedDeltaNetImpl::heads(const torch::Tensor& x, KvCache* cache, int64_t layer) {
  const int64_t B = x.size(0), T = x.size(1), K = d_.conv_kernel;
  const int64_t nk = d_.key_heads, nv = d_.value_heads, dk = d_.key_dim, dv = d_.value_dim, Ck = nk * dk;
  const torch::ScalarType f = state_dtype(x);
  // The causal depthwise conv over q, k and v, continuing from the cached inputs (zeros before
  // the first token).
  torch::Tensor mixed = torch::cat({in_q(x), in_k(x), in_v(x)}, -1).transpose(1, 2);  // [B, C, T]
  const torch::Tensor before = cache && cache->conv[layer].defined()
                                   ? cache->conv[layer].to(mixed.dtype())
                                   : torch::zeros({B, mixed.size(1), K - 1}, mixed.options());
  const torch::Tensor window = torch::cat({before, mixed}, 2);
  if (cache) cache->conv[layer] = window.slice(2, window.size(2) - (K - 1));
  const torch::Tensor kernel = torch::cat({conv_q, conv_k, conv_v}).to(window.dtype());
  mixed = torch::silu(torch::conv1d(window, kernel, torch::Tensor(), torch::IntArrayRef{1}, torch::IntArrayRef{0},
                                    torch::IntArrayRef{1}, mixed.size(1)))
              .transpose(1, 2);
  const int64_t r = nv / nk;
  // [B, T, heads, dim] -> [B, value heads, T, dim]; value head j reads key head j / r.
  const auto per_value_head = [&](const torch::Tensor& t, int64_t n, int64_t dim, bool repeat) {
    torch::Tensor h = t.reshape({B, T, n, dim}).transpose(1, 2).to(f);
    return repeat && r > 1 ? h.repeat_interleave(r, 1) : h;
  };
  const torch::Tensor q = per_value_head(mixed.slice(2, 0, Ck), nk, dk, true);
  const torch::Tensor k = per_value_head(mixed.slice(2, Ck, 2 * Ck), nk, dk, true);
  const torch::Tensor v = per_value_head(mixed.slice(2, 2 * Ck), nv, dv, false);
  const torch::Tensor beta = torch::sigmoid(in_b(x)).transpose(1, 2);  // [B, nv, T]
  const torch::Tensor g =
      (-a_log.to(f).exp() * torch::softplus(in_a(x).to(f) + dt_bias.to(f))).transpose(1, 2);  // log-decay <= 0
  const torch::Tensor qn = l2_normalize(q) * (1.0 / std::sqrt(double(dk))), kn = l2_normalize(k);
  torch::Tensor state = cache ? cache->recurrent[layer] : torch::Tensor();
  // One token at a time when decoding: the recurrence is that step itself.
  const torch::Tensor o = (T == 1 && state.defined() ? delta_rule_recurrent(qn, kn, v, g, beta, state)
                                                     : delta_rule_chunked(qn, kn, v, g, beta, state))
                              .transpose(1, 2);  // [B, T, nv, dv]
  if (cache) cache->recurrent[layer] = state;
  // The gated norm, per head over value_dim: the plain weight, then silu(z).
  const torch::Tensor z = in_z(x).view({B, T, nv, dv}).to(f);
  const torch::Tensor y = o * torch::rsqrt(o.pow(2).mean(-1, /*keepdim=*/true) + eps_) * norm.to(f) * torch::silu(z);
  return y.to(x.dtype());
}

torch::Tensor GatedDeltaNetImpl::forward(const torch::Tensor& x, KvCache* cache, int64_t layer) {
  const torch::Tensor y = heads(x, cache, layer);
  return out(y.reshape({x.size(0), x.size(1), d_.value_heads * d_.value_dim}));
}

}  // namespace bespoke::model
