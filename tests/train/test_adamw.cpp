// The trainer's AdamW against libtorch's: the same bits on CPU, where it is libtorch's step, and
// the same update within fp32 rounding on CUDA, where libtorch 2.x runs the fused kernel.
#include <gtest/gtest.h>

#include "bespoke/train/adamw.h"
#include "test_util.h"

namespace bespoke {
namespace {

// One case per device, so that the CUDA case on a machine without a GPU is reported as skipped
// rather than passed.
class AdamWTest : public ::testing::TestWithParam<torch::Device> {};

TEST_P(AdamWTest, StepsLikeLibtorchsAdamW) {
  const torch::Device device = GetParam();
  if (device.is_cuda() && !torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device: the fused CUDA AdamW case did not run";
  torch::manual_seed(5);
  std::vector<torch::Tensor> start, ours, theirs;
  for (const auto& shape : {std::vector<int64_t>{33, 17}, std::vector<int64_t>{17}}) {
    const torch::Tensor p = torch::randn(shape).to(device);
    start.push_back(p);
    ours.push_back(p.clone().requires_grad_(true));
    theirs.push_back(p.clone().requires_grad_(true));
  }
  const auto options = torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1);
  train::AdamW a(ours, options);
  torch::optim::AdamW b(theirs, options);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < ours.size(); ++i) {
      const torch::Tensor g = torch::randn(ours[i].sizes()).to(device);
      ours[i].mutable_grad() = g.clone();
      theirs[i].mutable_grad() = g.clone();
    }
    a.step();
    b.step();
  }
  for (size_t i = 0; i < ours.size(); ++i) {
    ASSERT_GT(test::max_abs_diff(ours[i], start[i]), 1e-2) << "the steps must move the parameters";
    if (device.is_cpu()) {
      EXPECT_TRUE(torch::equal(ours[i], theirs[i])) << i;
    } else {
      // Updates are ~3e-2 here; the two order their fp32 operations differently.
      EXPECT_LT(test::max_abs_diff(ours[i], theirs[i]), 1e-5) << device << " " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, AdamWTest, ::testing::Values(torch::Device(torch::kCPU), torch::Device(torch::kCUDA)),
                         [](const auto& info) { return info.param.str(); });

}  // namespace
}  // namespace bespoke
