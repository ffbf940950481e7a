#include "bespoke/model/rope.h"

#include <cmath>

#include "bespoke/core/error.h"

namespace bespoke::model {
namespace {

// Llama 3.1: keep high frequencies, divide low ones by `factor`, blend in between
// (transformers modeling_rope_utils._compute_llama3_parameters).
void llama3_scale(const RopeSpec& r, std::vector<double>& inv) {
  const double low_wavelen = r.original_context / r.low_freq_factor;
  const double high_wavelen = r.original_context / r.high_freq_factor;
  for (double& f : inv) {
    const double wavelen = 2 * M_PI / f;
    if (wavelen > low_wavelen) {
      f /= r.factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (r.original_context / wavelen - r.low_freq_factor) /
                            (r.high_freq_factor - r.low_freq_factor);
      f = (1 - smooth) * f / r.factor + smooth * f;
    }
  }
}

// The width of each head that rotates. Proportional rope rotates the whole head with zero
// frequencies past its proportion, so its width is the head's.
int64_t rotary_dim(const RopeSpec& r, int64_t head_dim) {
  if (r.type == RopeType::kProportional) return head_dim;
  const int64_t dim = static_cast<int64_t>(head_dim * r.partial_rotary_factor);
  return dim - dim % 2;
}

}  // namespace

torch::Tensor rope_inv_freq(const RopeSpec& r, int64_t head_dim, int64_t context_len) {
  const int64_t dim = rotary_dim(r, head_dim);
  std::vector<double> inv(dim / 2);
  for (int64_t k = 0; k < dim / 2; ++k) inv[k] = 1.0 / std::pow(r.theta, 2.0 * k / dim);
  switch (r.type) {
    case RopeType::kDefault:
      break;
    case RopeType::kLinear:
      for (double& f : inv) f /= r.factor;
      break;
    case RopeType::kLlama3:
      llama3_scale(r, inv);
      break;
    case RopeType::kLongRope: {
      const auto& ext = context_len > r.original_context ? r.long_factor : r.short_factor;
      if (static_cast<int64_t>(ext.size()) != dim / 2)
        fail(ErrorKind::kInput, "longrope factors have " + std::to_string(ext.size()) +
                                    " entries, expected " + std::to_string(dim / 2));
      for (int64_t k = 0; k < dim / 2; ++k) inv[k] /= ext[k];
      break;
    }
    case RopeType::kProportional: {
      // Gemma 4 global layers: only the first partial_rotary_factor * dim / 2 pairs turn.
      const int64_t angles = static_cast<int64_t>(r.partial_rotary_factor * head_dim / 2);
      for (int64_t k = 0; k < dim / 2; ++k) inv[k] = k < angles ? inv[k] / r.factor : 0.0;
      break;
    }
  }
  std::vector<float> out(inv.begin(), inv.end());
  return torch::tensor(out, torch::kFloat32);
}

RopeTables rope_tables(const RopeSpec& r, int64_t head_dim, const torch::Tensor& positions,
                       int64_t context_len) {
  torch::Tensor inv = rope_inv_freq(r, head_dim, context_len).to(positions.device());
  torch::Tensor freqs = torch::outer(positions.to(torch::kFloat32), inv);  // [T, rot/2]
  torch::Tensor emb = torch::cat({freqs, freqs}, -1);                        // [T, rot]
  const double scale = r.type == RopeType::kLongRope ? r.attention_factor : 1.0;
  return {emb.cos() * scale, emb.sin() * scale};
}

torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& t) {
  const int64_t rot = t.cos.size(-1), half = rot / 2;
  // [T, rot] -> [1, T, 1, rot] to broadcast over batch and heads
  torch::Tensor cos = t.cos.to(x.dtype()).unsqueeze(0).unsqueeze(2);
  torch::Tensor sin = t.sin.to(x.dtype()).unsqueeze(0).unsqueeze(2);
  torch::Tensor r = x.narrow(-1, 0, rot);
  torch::Tensor rotated = torch::cat({-r.narrow(-1, half, half), r.narrow(-1, 0, half)}, -1);
  torch::Tensor out = r * cos + rotated * sin;
  if (rot == x.size(-1)) return out;
  return torch::cat({out, x.narrow(-1, rot, x.size(-1) - rot)}, -1);
}

bool operator==(const RopeSpec& a, const RopeSpec& b) {
  return a.type == b.type && a.theta == b.theta && a.partial_rotary_factor == b.partial_rotary_factor &&
         a.factor == b.factor && a.low_freq_factor == b.low_freq_factor &&
         a.high_freq_factor == b.high_freq_factor && a.original_context == b.original_context &&
         a.long_factor == b.long_factor && a.short_factor == b.short_factor &&
         a.attention_factor == b.attention_factor;
}

}  // namespace bespoke::model
