// The rotary node against the reference "rotate half" formula (transformers' apply_rotary_pos_emb)
// run through autograd, for whole and partial rotary widths, and for tables whose two halves
// differ, so that each half of sin must be read where the formula reads it.
#include <gtest/gtest.h>

#include "bespoke/model/rope.h"
#include "device_case.h"
#include "test_util.h"

namespace bespoke {
namespace {

torch::Tensor reference_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t rot = cos.size(-1), half = rot / 2;
  const torch::Tensor c = cos.to(x.dtype()).unsqueeze(0).unsqueeze(2), s = sin.to(x.dtype()).unsqueeze(0).unsqueeze(2);
  const torch::Tensor r = x.narrow(-1, 0, rot);
  const torch::Tensor rotated = torch::cat({-r.narrow(-1, half, half), r.narrow(-1, 0, half)}, -1);
  return torch::cat({r * c + rotated * s, x.narrow(-1, rot, x.size(-1) - rot)}, -1);
}

class RopeTest : public ::testing::TestWithParam<test::DeviceCase> {};

TEST_P(RopeTest, OwnBackwardIsTheTransposeOfTheReferenceRotation) {
  const auto [device, dtype] = GetParam();
  if (device.is_cuda() && !torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device: the CUDA RoPE case did not run";
  for (const int64_t rot : {int64_t(16), int64_t(8)}) {
    torch::manual_seed(5);
    const int64_t B = 2, T = 7, H = 3, hd = 16;
    const model::RopeTables tables{torch::randn({T, rot}).to(device), torch::randn({T, rot}).to(device)};
    const torch::Tensor x0 = torch::randn({B, T, H, hd}).to(device, dtype),
                        g = torch::randn({B, T, H, hd}).to(device, dtype);
    const torch::Tensor x = x0.clone().requires_grad_(true), x_ref = x0.clone().requires_grad_(true);
    const torch::Tensor got = model::apply_rope(x, tables), want = reference_rope(x_ref, tables.cos, tables.sin);
    (got * g).sum().backward();
    (want * g).sum().backward();
    // On CPU the node rounds where the formula does: the same bits both ways. CUDA's kernels
    // may contract a product and a sum: within two steps of bf16 (2^-7) of the scale.
    if (device.is_cpu()) {
      EXPECT_TRUE(torch::equal(got, want)) << dtype << " rot " << rot;
      EXPECT_TRUE(torch::equal(x.grad(), x_ref.grad())) << dtype << " rot " << rot;
    } else {
      const auto rel = [](const torch::Tensor& a, const torch::Tensor& b) {
        return test::max_abs_diff(a.to(torch::kFloat64), b.to(torch::kFloat64)) /
               b.to(torch::kFloat64).abs().max().item<double>();
      };
      EXPECT_LT(rel(got, want), 2.0 / 128) << device << " rot " << rot;
      EXPECT_LT(rel(x.grad(), x_ref.grad()), 2.0 / 128) << device << " rot " << rot;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, RopeTest,
                         ::testing::Values(test::DeviceCase{torch::kCPU, torch::kFloat32},
                                           test::DeviceCase{torch::kCPU, torch::kBFloat16},
                                           test::DeviceCase{torch::kCUDA, torch::kBFloat16}),
                         [](const auto& info) { return test::device_case_name(info.param); });

}  // namespace
}  // namespace bespoke
