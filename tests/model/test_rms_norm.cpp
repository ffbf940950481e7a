// The RMSNorm node with its own backward against the reference formula run through autograd
// (transformers' LlamaRMSNorm: fp32 statistics, normalized value rounded to the input dtype,
// then the weight): on CPU the forward is the same bits, and the gradients agree. On CUDA with
// libtorch >= 2.9 the norm is ATen's fused kernel, which rounds once instead of twice: there
// the forward agrees within two bf16 steps.
#include <gtest/gtest.h>

#include "bespoke/model/rms_norm.h"
#include "device_case.h"
#include "test_util.h"

namespace bespoke {
namespace {

torch::Tensor reference_norm(const torch::Tensor& x, const torch::Tensor& w, double eps, double offset) {
  const torch::Tensor xf = x.to(torch::kFloat32);
  const torch::Tensor y = (xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps)).to(x.dtype());
  return y * (w + offset).to(x.dtype());
}

class RmsNormTest : public ::testing::TestWithParam<test::DeviceCase> {};

TEST_P(RmsNormTest, OwnBackwardGivesTheGradientsOfTheReferenceFormula) {
  const auto [device, dtype] = GetParam();
  if (device.is_cuda() && !torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device: the CUDA RMSNorm case did not run";
  for (const double offset : {0.0, 1.0}) {
    model::ModelSpec spec;
    spec.norm_eps = 1e-5;
    spec.norm_weight_offset = offset;
    model::RmsNorm norm(64, spec, torch::TensorOptions().dtype(dtype).device(device));
    torch::manual_seed(3);
    {
      torch::NoGradGuard no_grad;
      norm->weight.copy_(torch::randn({64}) * 0.5 + 1 - offset);
    }
    // Rows of very different scales, as residual streams have.
    const torch::Tensor x0 = (torch::randn({2, 5, 64}) * torch::logspace(-2, 2, 5).view({1, 5, 1})).to(device, dtype);
    const torch::Tensor g = torch::randn({2, 5, 64}).to(device, dtype);
    const torch::Tensor w_ref = norm->weight.detach().clone().requires_grad_(true);
    const torch::Tensor x_ref = x0.clone().requires_grad_(true), x = x0.clone().requires_grad_(true);

    const torch::Tensor want = reference_norm(x_ref, w_ref, spec.norm_eps, offset);
    const torch::Tensor got = norm(x);
    const auto rel = [](const torch::Tensor& a, const torch::Tensor& b) {
      return test::max_abs_diff(a.to(torch::kFloat64), b.to(torch::kFloat64)) /
             b.to(torch::kFloat64).abs().max().item<double>();
    };
    if (device.is_cpu())
      EXPECT_TRUE(torch::equal(got, want)) << device << " " << dtype << " offset " << offset;
    else
      EXPECT_LT(rel(got, want), dtype == torch::kFloat32 ? 1e-6 : 8e-3)
          << device << " " << dtype << " offset " << offset;
    (want * g).sum().backward();
    (got * g).sum().backward();

    // fp32: rounding only (measured 3e-8 on CPU). bf16: the two round their intermediates at
    // different places (measured 5e-4 on CPU); the bound is half a bf16 step, 2^-9, of the
    // gradient's scale, 1e-2 for the fused kernel (its weight gradient sums exact fp32 products
    // where the reference sums bf16 ones). A wrong eps moves the small rows by percents.
    const double tol = dtype == torch::kFloat32 ? 1e-6 : device.is_cpu() ? 2e-3 : 1e-2;
    EXPECT_LT(rel(x.grad(), x_ref.grad()), tol) << device << " " << dtype << " offset " << offset;
    EXPECT_LT(rel(norm->weight.grad(), w_ref.grad()), tol) << device << " " << dtype << " offset " << offset;
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, RmsNormTest,
                         ::testing::Values(test::DeviceCase{torch::kCPU, torch::kFloat32},
                                           test::DeviceCase{torch::kCPU, torch::kBFloat16},
                                           test::DeviceCase{torch::kCUDA, torch::kFloat32},
                                           test::DeviceCase{torch::kCUDA, torch::kBFloat16}),
                         [](const auto& info) { return test::device_case_name(info.param); });

}  // namespace
}  // namespace bespoke
