// The fixture checks on every device and dtype this machine has: CPU bf16 always, and CUDA
// fp32 and bf16 where a GPU is present. fp32 keeps the CPU tolerance; bf16 (8-bit mantissa,
// weights rounded too) is held to 5% of the reference logits' range, and the next-token
// argmax must agree wherever the reference's top two logits are clearly apart.
// Measured on CPU bf16: 0.4-1.3% of the range for most families; Gemma 4 (attention scale 1 on
// unit-RMS q and k, so score errors are not damped) reaches 6.1%. The bound is 7%.
#include <gtest/gtest.h>

#include "bespoke/io/safetensors.h"
#include "bespoke/model/generate.h"
#include "bespoke/model/load.h"
#include "test_util.h"

namespace bespoke {
namespace {

struct DeviceCase {
  std::string family;
  std::string device;
  torch::Dtype dtype;
};

std::vector<DeviceCase> device_cases() {
  std::vector<std::pair<std::string, torch::Dtype>> runs = {{"cpu", torch::kBFloat16}};
  if (torch::cuda::is_available()) {
    runs.push_back({"cuda", torch::kFloat32});
    runs.push_back({"cuda", torch::kBFloat16});
  }
  std::vector<DeviceCase> out;
  for (const char* family : {"llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "gemma4", "gemma4_full",
                             "gemma4_k_eq_v", "phi3", "olmo2", "granite", "qwen3_5"})
    for (const auto& [device, dtype] : runs) out.push_back({family, device, dtype});
  return out;
}

class DeviceTest : public ::testing::TestWithParam<DeviceCase> {};

TEST_P(DeviceTest, LogitsMatchTransformers) {
  const DeviceCase& c = GetParam();
  const std::string dir = test::fixture_dir(c.family);
  const torch::Device device(c.device);
  model::Transformer net = model::load_model(dir, {c.dtype, device});
  io::SafetensorsFile ref(dir + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = net->forward(ref.get("input_ids").to(device)).logits.to(torch::kCPU, torch::kFloat32);
  const torch::Tensor want = ref.get("logits");
  const double diff = test::max_abs_diff(logits, want);
  const double range = (want.max() - want.min()).item<double>();
  if (c.dtype == torch::kFloat32) {
    EXPECT_LT(diff, 1e-4);
  } else {
    // gemma4_k_eq_v: its unnormed keys are also its values, rounded once more in bf16; measured
    // 9.2% of the range on one CPU's bf16 kernels, under 7% on another.
    EXPECT_LT(diff, (c.family == "gemma4_k_eq_v" ? 0.12 : 0.07) * range) << "range " << range;
    const auto top2 = want.topk(2, -1);
    const torch::Tensor clear = (std::get<0>(top2).select(-1, 0) - std::get<0>(top2).select(-1, 1)) > 0.05 * range;
    const torch::Tensor agree = logits.argmax(-1) == want.argmax(-1);
    EXPECT_TRUE(agree.logical_or(clear.logical_not()).all().item<bool>());
  }
  std::cout << c.family << " " << c.device << " " << c10::toString(c.dtype) << ": max |logits - reference| = " << diff
            << " (" << 100 * diff / range << "% of the range)\n";
}

// Greedy tokens are compared in fp32 only: bf16 rounding may flip near-ties of a random model.
std::vector<DeviceCase> fp32_cases() {
  std::vector<DeviceCase> out;
  for (const DeviceCase& c : device_cases())
    if (c.dtype == torch::kFloat32) out.push_back(c);
  return out;
}

class GreedyDeviceTest : public ::testing::TestWithParam<DeviceCase> {};
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GreedyDeviceTest);

TEST_P(GreedyDeviceTest, GreedyTokensMatchTransformersInFp32) {
  const DeviceCase& c = GetParam();
  const std::string dir = test::fixture_dir(c.family);
  const torch::Device device(c.device);
  model::Transformer net = model::load_model(dir, {c.dtype, device});
  io::SafetensorsFile ref(dir + "/reference.safetensors");
  const torch::Tensor prompt = ref.get("input_ids").narrow(0, 0, 1);
  const torch::Tensor got = model::generate_greedy(net, prompt.to(device), 16).to(torch::kCPU);
  EXPECT_TRUE(torch::equal(got, ref.get("greedy_ids").narrow(1, prompt.size(1), 16)));
}

std::string case_name(const ::testing::TestParamInfo<DeviceCase>& info) {
  return info.param.family + "_" + info.param.device + "_" + (info.param.dtype == torch::kFloat32 ? "f32" : "bf16");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DeviceTest, ::testing::ValuesIn(device_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Fixtures, GreedyDeviceTest, ::testing::ValuesIn(fp32_cases()), case_name);

// The CUDA cases above exist only where a GPU is present; this one says so where it is not.
TEST(Devices, CudaCases) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device: the fixtures' CUDA fp32 and bf16 cases did not run";
}

}  // namespace
}  // namespace bespoke
