// Training losses. The output head is applied a chunk of positions at a time, so a
// 150-260K-token vocabulary never materialises [tokens, vocab] logits in fp32 at once: the
// forward pass keeps only per-chunk sums, and the backward pass recomputes each chunk's logits
// (as activation checkpointing does) before moving on.
#pragma once

#include <torch/torch.h>

#include <functional>

namespace bespoke::train {

using Head = std::function<torch::Tensor(const torch::Tensor&)>;  // [N, E] -> [N, V] logits
// Runs after each chunk's backward, once the head's parameters hold that chunk's gradient. bf16
// training moves them into fp32 sums here; left to accumulate, they would be summed in bf16 over
// the chunks (16 of them in an 8x2048 batch).
using CollectGrads = std::function<void()>;

// Mean next-token cross-entropy over the positions where `mask` is true.
// hidden: [N, E] (any float dtype); targets: [N] int64; mask: [N] bool. Gradients flow into
// `hidden` and into whatever parameters `head` uses. Returns a float32 scalar; 0 if the mask
// is empty.
torch::Tensor chunked_cross_entropy(const Head& head, const torch::Tensor& hidden, const torch::Tensor& targets,
                                    const torch::Tensor& mask, int64_t chunk = 1024, const CollectGrads& collect = {});

// Forward KL(teacher || student) at temperature tau, scaled by tau^2 (Hinton et al.), averaged
// over the masked positions: sum_v p_t(v) (log p_t(v) - log p_s(v)) with both softmaxes at tau.
// Both sides are chunked like chunked_cross_entropy: the teacher's logits are
// teacher_head(teacher_hidden[chunk]) (teacher_hidden: [N, E_t], no gradient), recomputed in
// backward too, so neither model's [N, V] logits exist at once. Given logits, pass them as
// teacher_hidden with an identity head.
torch::Tensor chunked_kl_divergence(const Head& head, const torch::Tensor& hidden, const Head& teacher_head,
                                    const torch::Tensor& teacher_hidden, const torch::Tensor& mask, double tau = 1.0,
                                    int64_t chunk = 1024, const CollectGrads& collect = {});

// The same KL with the teacher known only on its top K tokens per position (teacher_ids,
// teacher_logprobs: [N, K]): the teacher's distribution is renormalised over those K tokens
// at temperature tau, and the student's full softmax is read at them.
torch::Tensor chunked_topk_kl_divergence(const Head& head, const torch::Tensor& hidden,
                                         const torch::Tensor& teacher_ids, const torch::Tensor& teacher_logprobs,
                                         const torch::Tensor& mask, double tau = 1.0, int64_t chunk = 1024,
                                         const CollectGrads& collect = {});

}  // namespace bespoke::train
