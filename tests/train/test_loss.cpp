// The chunked losses against their plain definitions: values and gradients (into the hidden
// states and into the head's weight) equal cross-entropy / KL computed on full logits.
#include <gtest/gtest.h>

#include "bespoke/train/loss.h"
#include "test_util.h"

namespace bespoke {
namespace {

struct Problem {
  torch::Tensor hidden, weight, targets, mask;
  train::Head head() const {
    const torch::Tensor w = weight;
    return [w](const torch::Tensor& h) { return torch::tanh(torch::matmul(h, w.t()) / 3.0) * 3.0; };  // softcapped head
  }
};

const train::Head identity = [](const torch::Tensor& x) { return x; };

Problem problem(int64_t n = 37, int64_t e = 16, int64_t v = 50) {
  torch::manual_seed(7);
  Problem p;
  p.hidden = torch::randn({n, e}, torch::kFloat64).requires_grad_(true);
  p.weight = torch::randn({v, e}, torch::kFloat64).requires_grad_(true);
  p.targets = torch::randint(v, {n}, torch::kLong);
  p.mask = torch::rand({n}) > 0.3;
  return p;
}

TEST(Loss, ChunkedCrossEntropyEqualsPlainCrossEntropy) {
  Problem a = problem(), b = problem();
  const torch::Tensor chunked = train::chunked_cross_entropy(a.head(), a.hidden, a.targets, a.mask, 5);
  chunked.backward();
  const torch::Tensor nll = torch::nn::functional::cross_entropy(
      b.head()(b.hidden), b.targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  const torch::Tensor plain = nll.masked_select(b.mask).mean();
  plain.backward();
  EXPECT_NEAR(chunked.item<double>(), plain.item<double>(), 1e-5);  // chunks compute in fp32
  EXPECT_LT(test::max_abs_diff(a.hidden.grad(), b.hidden.grad()), 1e-6);
  EXPECT_LT(test::max_abs_diff(a.weight.grad(), b.weight.grad()), 1e-6);
  EXPECT_GT(a.weight.grad().abs().sum().item<double>(), 0);
}

TEST(Loss, KlDivergenceMatchesTheDefinitionAndIsZeroForTheTeacherItself) {
  Problem a = problem();
  const double tau = 2.0;
  const torch::Tensor teacher = torch::randn({a.hidden.size(0), a.weight.size(0)}, torch::kFloat64);
  const torch::Tensor kd = train::chunked_kl_divergence(a.head(), a.hidden, identity, teacher, a.mask, tau, 4);
  // By hand, position by position, in float64.
  const torch::Tensor s = a.head()(a.hidden).detach();
  double sum = 0;
  int count = 0;
  for (int64_t i = 0; i < s.size(0); ++i) {
    if (!a.mask[i].item<bool>()) continue;
    const torch::Tensor pt = torch::softmax(teacher[i] / tau, -1), ps = torch::softmax(s[i] / tau, -1);
    sum += (pt * (pt.log() - ps.log())).sum().item<double>() * tau * tau;
    ++count;
  }
  EXPECT_NEAR(kd.item<double>(), sum / count, 1e-5);
  // The student's own logits as teacher: zero loss and zero gradient.
  Problem b = problem();
  const torch::Tensor self =
      train::chunked_kl_divergence(b.head(), b.hidden, identity, b.head()(b.hidden).detach(), b.mask, tau, 4);
  self.backward();
  EXPECT_NEAR(self.item<double>(), 0.0, 1e-6);
  EXPECT_LT(b.weight.grad().abs().max().item<double>(), 1e-6);
}

// The teacher's head applied chunk by chunk (its logits never whole) gives the loss and the
// student gradients of its full logits, and the teacher itself gets no gradient.
TEST(Loss, KlDivergenceFromTheTeachersHeadEqualsItFromTheTeachersLogits) {
  Problem a = problem(), b = problem();
  torch::manual_seed(9);
  Problem teacher = problem(37, 24);  // a wider teacher: its hidden size need not be the student's
  teacher.hidden = torch::randn({37, 24}, torch::kFloat64);
  const torch::Tensor from_head =
      train::chunked_kl_divergence(a.head(), a.hidden, teacher.head(), teacher.hidden, a.mask, 2.0, 5);
  const torch::Tensor from_logits = train::chunked_kl_divergence(
      b.head(), b.hidden, identity, teacher.head()(teacher.hidden).detach(), b.mask, 2.0, 5);
  from_head.backward();
  from_logits.backward();
  EXPECT_NEAR(from_head.item<double>(), from_logits.item<double>(), 1e-9);
  EXPECT_GT(from_head.item<double>(), 0.1);
  EXPECT_LT(test::max_abs_diff(a.hidden.grad(), b.hidden.grad()), 1e-9);
  EXPECT_LT(test::max_abs_diff(a.weight.grad(), b.weight.grad()), 1e-9);
  EXPECT_FALSE(teacher.weight.grad().defined());
}

TEST(Loss, TopKDivergenceWithTheWholeVocabularyIsTheFullDivergence) {
  Problem a = problem(), b = problem();
  const double tau = 1.5;
  const torch::Tensor teacher = torch::randn({a.hidden.size(0), a.weight.size(0)}, torch::kFloat64);
  const auto [values, indices] = torch::log_softmax(teacher, -1).topk(a.weight.size(0), -1);
  const torch::Tensor sparse = train::chunked_topk_kl_divergence(a.head(), a.hidden, indices, values, a.mask, tau, 6);
  const torch::Tensor dense = train::chunked_kl_divergence(b.head(), b.hidden, identity, teacher, b.mask, tau, 6);
  sparse.backward();
  dense.backward();
  EXPECT_NEAR(sparse.item<double>(), dense.item<double>(), 1e-5);
  EXPECT_LT(test::max_abs_diff(a.weight.grad(), b.weight.grad()), 1e-6);
  EXPECT_LT(test::max_abs_diff(a.hidden.grad(), b.hidden.grad()), 1e-6);
}

}  // namespace
}  // namespace bespoke
