#include "bespoke/model/rope.h"

#include <cmath>

#include "bespoke/core/error.h"

namespace bespoke::model {
namespace {

// The width of each head that rotates. Proportional rope rotates the whole head with zero
// frequencies past its proportion, so its width is the head's.
int64_t rotary_dim(const RopeSpec& r, int64_t head_dim) {
  if (r.type == RopeType::kProportional) return head_dim;
  const int64_t dim = static_cast<int64_t>(head_dim * r.partial_rotary_factor);
  return dim - dim % 2;
}

// theta^(2k / dim) for k < n, in fp32 as the reference computes it.
torch::Tensor powers(double theta, int64_t n, int64_t dim) {
  return torch::pow(theta, torch::arange(0, 2 * n, 2, torch::kInt64).to(torch::kFloat32) / double(dim));
}

// Llama 3.1: keep high frequencies, divide low ones by `factor`, blend in between
// (transformers modeling_rope_utils._compute_llama3_parameters, same fp32 operations).
torch::Tensor llama3_scale(const RopeSpec& r, const torch::Tensor& inv) {
  const double low_wavelen = r.original_context / r.low_freq_factor;
  const double high_wavelen = r.original_context / r.high_freq_factor;
  const torch::Tensor wavelen = torch::reciprocal(inv) * (2 * M_PI);
  const torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv / r.factor, inv);
  const torch::Tensor smooth =
      (double(r.original_context) / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
  const torch::Tensor smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
  const torch::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return torch::where(medium, smoothed, scaled);
}

// The inverse frequencies of the rope type itself, before any per-pair divisors.
torch::Tensor base_inv_freq(const RopeSpec& r, int64_t head_dim, int64_t context_len) {
  const int64_t dim = rotary_dim(r, head_dim);
  switch (r.type) {
    case RopeType::kDefault:
      return torch::reciprocal(powers(r.theta, dim / 2, dim));
    case RopeType::kLinear:
      return torch::reciprocal(powers(r.theta, dim / 2, dim)) / r.factor;
    case RopeType::kLlama3:
      return llama3_scale(r, torch::reciprocal(powers(r.theta, dim / 2, dim)));
    case RopeType::kLongRope: {
      const auto& ext = context_len > r.original_context ? r.long_factor : r.short_factor;
      if (static_cast<int64_t>(ext.size()) != dim / 2)
        fail(ErrorKind::kInput,
             "longrope factors have " + std::to_string(ext.size()) + " entries, expected " + std::to_string(dim / 2));
      const torch::Tensor factors = torch::tensor(std::vector<float>(ext.begin(), ext.end()));
      return torch::reciprocal(factors * powers(r.theta, dim / 2, dim));
    }
    case RopeType::kProportional: {
      // Gemma 4 global layers: only the first partial_rotary_factor * head_dim / 2 pairs turn.
      const int64_t angles = static_cast<int64_t>(r.partial_rotary_factor * head_dim / 2);
      const torch::Tensor turning = torch::reciprocal(powers(r.theta, angles, head_dim));
      return torch::cat({turning, torch::zeros({dim / 2 - angles})}) / r.factor;
    }
  }
  BESPOKE_CHECK(false, "unhandled rope type");
}

// Turns each pair (x1, x2) = (x[..., i], x[..., half + i]) of the rotated width by the tables'
// angles, or, with `transpose`, by the rotation's transpose (the backward pass):
//   forward    x1 c1 - x2 s1,  x2 c2 + x1 s2
//   transpose  x1 c1 + x2 s2,  x2 c2 - x1 s1
// (c1, s1 the tables' first half, c2, s2 the second). Half-width products and one add or
// subtract each, rounded where the reference formula rounds, so the bits are the formula's; its
// negate-concatenate-multiply-add makes five full-width passes forward and twice that backward.
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, bool transpose) {
  const int64_t rot = cos.size(-1), half = rot / 2, rest = x.size(-1) - rot;
  const auto part = [half](const torch::Tensor& t, int64_t i) { return t.narrow(-1, i * half, half); };
  torch::Tensor out = torch::empty(x.sizes(), x.options());
  torch::Tensor o1 = part(out, 0), o2 = part(out, 1);
  const torch::Tensor x1 = part(x, 0), x2 = part(x, 1), s1 = part(sin, 0), s2 = part(sin, 1);
  at::mul_out(o1, x1, part(cos, 0));
  at::mul_out(o2, x2, part(cos, 1));
  if (transpose) {
    o1.add_(x2 * s2);
    o2.sub_(x1 * s1);
  } else {
    o1.sub_(x2 * s1);
    o2.add_(x1 * s2);
  }
  if (rest > 0) out.narrow(-1, rot, rest).copy_(x.narrow(-1, rot, rest));
  return out;
}

// The rotation as one autograd node: backward keeps only the tables, and is the transpose.
struct Rotary : torch::autograd::Function<Rotary> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin) {
    ctx->save_for_backward({cos, sin});
    return rotate(x, cos, sin, /*transpose=*/false);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    return {rotate(grads[0], saved[0], saved[1], /*transpose=*/true), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor rope_inv_freq(const RopeSpec& r, int64_t head_dim, int64_t context_len) {
  torch::Tensor inv = base_inv_freq(r, head_dim, context_len);
  if (r.freq_divisors.empty()) return inv;
  if (static_cast<int64_t>(r.freq_divisors.size()) != inv.numel())
    fail(ErrorKind::kInput, "rope_freqs has " + std::to_string(r.freq_divisors.size()) + " entries, expected " +
                                std::to_string(inv.numel()));
  return inv / torch::tensor(std::vector<float>(r.freq_divisors.begin(), r.freq_divisors.end()));
}

RopeTables rope_tables(const RopeSpec& r, int64_t head_dim, const torch::Tensor& positions, int64_t context_len) {
  torch::Tensor inv = rope_inv_freq(r, head_dim, context_len).to(positions.device());
  torch::Tensor freqs = positions.to(torch::kFloat32).unsqueeze(-1) * inv;  // [(B,) T, rot/2]
  torch::Tensor emb = torch::cat({freqs, freqs}, -1);                       // [(B,) T, rot]
  const double scale = r.type == RopeType::kLongRope ? r.attention_factor : 1.0;
  return {emb.cos() * scale, emb.sin() * scale};
}

torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& t) {
  // [T, rot] -> [1, T, 1, rot] (or [B, T, rot] -> [B, T, 1, rot]) to broadcast over heads
  const auto shaped = [&](const torch::Tensor& table) {
    const torch::Tensor batched = table.dim() == 2 ? table.unsqueeze(0) : table;
    return batched.to(x.dtype()).unsqueeze(2);
  };
  return Rotary::apply(x, shaped(t.cos), shaped(t.sin));
}

bool operator==(const RopeSpec& a, const RopeSpec& b) {
  return a.type == b.type && a.theta == b.theta && a.partial_rotary_factor == b.partial_rotary_factor &&
         a.factor == b.factor && a.low_freq_factor == b.low_freq_factor && a.high_freq_factor == b.high_freq_factor &&
         a.original_context == b.original_context && a.long_factor == b.long_factor &&
         a.short_factor == b.short_factor && a.attention_factor == b.attention_factor &&
         a.freq_divisors == b.freq_divisors;
}

}  // namespace bespoke::model
