// fp32 masters for bf16 parameters: gradients summed over micro-batches in fp32, frozen
// parameters without gradients, unused ones with zeros, and the step's result copied back; the
// head's gradient summed in fp32 over the loss's chunks too.
#include <gtest/gtest.h>

#include "bespoke/train/loss.h"
#include "bespoke/train/master_weights.h"

namespace bespoke {
namespace {

TEST(MasterWeights, MicroBatchGradientsSumInFp32) {
  train::MasterWeights w;
  const torch::Tensor half = torch::ones({4}, torch::kBFloat16), full = torch::ones({4}, torch::kFloat32);
  const torch::Tensor frozen = torch::ones({4}, torch::kBFloat16), unused = torch::ones({4}, torch::kBFloat16);
  const torch::Tensor master = w.add("half", half, false);
  EXPECT_EQ(master.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(w.add("full", full, false).is_same(full));  // fp32 parameters are their own masters
  w.add("frozen", frozen, true);
  w.add("unused", unused, false);
  ASSERT_EQ(w.trainable().size(), 3u);
  EXPECT_FALSE(frozen.requires_grad());

  // 1 + 2^-9 is below bf16's resolution at 1 (2^-7): a bf16 running sum would keep 1.
  for (const double scale : {1.0, 1.0 / 512}) {
    ((half + full + frozen) * scale).sum().backward();
    w.accumulate_grads();
  }
  w.finish_grads();
  EXPECT_TRUE(torch::equal(master.grad(), torch::full({4}, 1.0f + 1.0f / 512)));
  EXPECT_TRUE(torch::equal(full.grad(), torch::full({4}, 1.0f + 1.0f / 512)));
  EXPECT_FALSE(half.grad().defined());                                    // moved to the master
  EXPECT_FALSE(frozen.grad().defined());                                  // none at all
  EXPECT_TRUE(torch::equal(w.trainable()[2].grad(), torch::zeros({4})));  // unused: zeros

  {
    torch::NoGradGuard no_grad;
    master.add_(0.5);
  }
  w.publish();
  EXPECT_TRUE(torch::equal(half, torch::full({4}, 1.5, torch::kBFloat16)));
  for (const torch::Tensor& m : w.masters()) EXPECT_FALSE(m.grad().defined());
  EXPECT_FALSE(full.grad().defined());
}

// A bf16 head [2 x 1] at zero, two positions with hidden 1 and 2^-9, both targets token 0: each
// logit's gradient is -/+0.25 per position, so the head's is -/+0.25 (1 + 2^-9), which bf16
// (spacing 2^-9 at 0.25) cannot hold. A chunk per position: the loss hands each chunk's gradient
// to the masters before the next chunk's arrives.
TEST(MasterWeights, HeadGradientsSumInFp32OverTheLossChunks) {
  train::MasterWeights w;
  const torch::Tensor head = torch::zeros({2, 1}, torch::kBFloat16);
  const torch::Tensor master = w.add("head", head, false);
  const torch::Tensor hidden = torch::tensor({1.0, 1.0 / 512}, torch::kBFloat16).view({2, 1}).requires_grad_(true);
  const torch::Tensor targets = torch::zeros({2}, torch::kLong), mask = torch::ones({2}, torch::kBool);
  const train::Head logits = [&](const torch::Tensor& h) { return torch::matmul(h, head.t()); };
  train::chunked_cross_entropy(logits, hidden, targets, mask, /*chunk=*/1, [&] { w.accumulate_grads(); }).backward();
  w.accumulate_grads();
  const float g = 0.25f * (1 + 1.0f / 512);
  EXPECT_TRUE(torch::equal(master.grad(), torch::tensor({-g, g}).view({2, 1}))) << master.grad();
}

}  // namespace
}  // namespace bespoke
