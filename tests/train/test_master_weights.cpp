// fp32 masters for bf16 parameters: gradients summed over micro-batches in fp32, frozen
// parameters without gradients, unused ones with zeros, and the step's result copied back.
#include <gtest/gtest.h>

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
  EXPECT_FALSE(half.grad().defined());    // moved to the master
  EXPECT_FALSE(frozen.grad().defined());  // none at all
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

}  // namespace
}  // namespace bespoke
