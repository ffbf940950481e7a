#include "bespoke/train/loss.h"

namespace bespoke::train {
namespace {

// The summed loss of one chunk of positions (logits in fp32), given its hidden states.
using ChunkLoss = std::function<torch::Tensor(const torch::Tensor& logits, int64_t begin, int64_t length)>;

// What backward needs besides tensors; kept alive by the graph through a capsule.
struct Closures : torch::CustomClassHolder {
  Head head;
  ChunkLoss loss;
  CollectGrads collect;
  Closures(Head h, ChunkLoss l, CollectGrads c) : head(std::move(h)), loss(std::move(l)), collect(std::move(c)) {}
};

// Sum over chunks of loss(head(hidden[chunk])), divided by `count`. Forward runs without
// a graph; backward recomputes one chunk at a time and sends its gradients into `hidden` and,
// through a nested backward, into the head's parameters.
class ChunkedLoss : public torch::autograd::Function<ChunkedLoss> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor hidden,
                               c10::intrusive_ptr<Closures> f, int64_t chunk, double count) {
    torch::NoGradGuard no_grad;
    torch::Tensor total = torch::zeros({}, hidden.options().dtype(torch::kFloat32));
    for (int64_t b = 0; b < hidden.size(0); b += chunk) {
      const int64_t n = std::min(chunk, hidden.size(0) - b);
      total += f->loss(f->head(hidden.narrow(0, b, n)).to(torch::kFloat32), b, n);
    }
    ctx->save_for_backward({hidden});
    ctx->saved_data["closures"] = c10::IValue::make_capsule(f);
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["count"] = count;
    return total / count;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor hidden = ctx->get_saved_variables()[0];
    const auto f = c10::static_intrusive_pointer_cast<Closures>(ctx->saved_data["closures"].toCapsule());
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const torch::Tensor scale = grads[0] / ctx->saved_data["count"].toDouble();
    torch::Tensor grad_hidden = torch::zeros_like(hidden);
    torch::AutoGradMode enable(true);
    for (int64_t b = 0; b < hidden.size(0); b += chunk) {
      const int64_t n = std::min(chunk, hidden.size(0) - b);
      torch::Tensor h = hidden.narrow(0, b, n).detach().requires_grad_(true);
      torch::Tensor part = f->loss(f->head(h).to(torch::kFloat32), b, n) * scale;
      part.backward();  // accumulates into the head's parameters
      if (f->collect) f->collect();
      grad_hidden.narrow(0, b, n).copy_(h.grad());
    }
    return {grad_hidden, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor apply(const Head& head, const torch::Tensor& hidden, ChunkLoss loss, const torch::Tensor& mask,
                    int64_t chunk, const CollectGrads& collect) {
  TORCH_CHECK(hidden.dim() == 2 && mask.dim() == 1 && mask.size(0) == hidden.size(0),
              "loss: hidden [N, E] and mask [N] expected");
  const double count = std::max<int64_t>(1, mask.sum().item<int64_t>());
  return ChunkedLoss::apply(hidden, c10::make_intrusive<Closures>(head, std::move(loss), collect), chunk, count);
}

}  // namespace

torch::Tensor chunked_cross_entropy(const Head& head, const torch::Tensor& hidden, const torch::Tensor& targets,
                                    const torch::Tensor& mask, int64_t chunk, const CollectGrads& collect) {
  const ChunkLoss loss = [targets, mask](const torch::Tensor& logits, int64_t b, int64_t n) {
    const torch::Tensor nll = torch::nn::functional::cross_entropy(
        logits, targets.narrow(0, b, n), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    return (nll * mask.narrow(0, b, n).to(nll.dtype())).sum();
  };
  return apply(head, hidden, loss, mask, chunk, collect);
}

torch::Tensor chunked_kl_divergence(const Head& head, const torch::Tensor& hidden, const Head& teacher_head,
                                    const torch::Tensor& teacher_hidden, const torch::Tensor& mask, double tau,
                                    int64_t chunk, const CollectGrads& collect) {
  const ChunkLoss loss = [teacher_head, teacher_hidden, mask, tau](const torch::Tensor& logits, int64_t b, int64_t n) {
    torch::Tensor teacher_logits;
    {
      torch::NoGradGuard no_grad;
      teacher_logits = teacher_head(teacher_hidden.narrow(0, b, n));
    }
    const torch::Tensor log_t = torch::log_softmax(teacher_logits.to(torch::kFloat32) / tau, -1);
    const torch::Tensor log_s = torch::log_softmax(logits / tau, -1);
    const torch::Tensor kl = (log_t.exp() * (log_t - log_s)).sum(-1);
    return (kl * mask.narrow(0, b, n).to(kl.dtype())).sum() * (tau * tau);
  };
  return apply(head, hidden, loss, mask, chunk, collect);
}

torch::Tensor chunked_topk_kl_divergence(const Head& head, const torch::Tensor& hidden,
                                         const torch::Tensor& teacher_ids, const torch::Tensor& teacher_logprobs,
                                         const torch::Tensor& mask, double tau, int64_t chunk,
                                         const CollectGrads& collect) {
  const ChunkLoss loss = [teacher_ids, teacher_logprobs, mask, tau](const torch::Tensor& logits, int64_t b, int64_t n) {
    const torch::Tensor log_t = torch::log_softmax(teacher_logprobs.narrow(0, b, n).to(torch::kFloat32) / tau, -1);
    const torch::Tensor log_s = torch::log_softmax(logits / tau, -1).gather(-1, teacher_ids.narrow(0, b, n));
    const torch::Tensor kl = (log_t.exp() * (log_t - log_s)).sum(-1);
    return (kl * mask.narrow(0, b, n).to(kl.dtype())).sum() * (tau * tau);
  };
  return apply(head, hidden, loss, mask, chunk, collect);
}

}  // namespace bespoke::train
