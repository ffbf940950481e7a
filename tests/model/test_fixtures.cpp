// Every family against the transformers fixtures: logits and hidden states within 1e-4 (fp32,
// max abs) at every position of both rows, 16 greedy tokens through the KV cache, and the
// exact parameter count.
#include <gtest/gtest.h>

#include "bespoke/io/safetensors.h"
#include "bespoke/model/generate.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"
#include "test_util.h"

namespace bespoke {
namespace {

constexpr double kTolerance = 1e-4;

class FixtureTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string dir() const { return test::fixture_dir(GetParam()); }
};

TEST_P(FixtureTest, LogitsAndHiddenStatesMatchTransformers) {
  model::Transformer net = model::load_model(dir());
  io::SafetensorsFile ref(dir() + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  model::ForwardOutput out = net->forward(ref.get("input_ids"), nullptr, /*want_hidden=*/true);
  const double logit_diff = test::max_abs_diff(out.logits, ref.get("logits"));
  EXPECT_LT(logit_diff, kTolerance) << "logits";
  ASSERT_EQ(out.hidden.size(), size_t(net->spec().n_layers() + 1));
  for (size_t i = 0; i < out.hidden.size(); ++i) {
    const double d = test::max_abs_diff(out.hidden[i], ref.get("hidden_" + std::to_string(i)));
    EXPECT_LT(d, kTolerance) << "hidden_" << i;
  }
  std::cout << GetParam() << ": max |logits - reference| = " << logit_diff << "\n";
}

TEST_P(FixtureTest, GreedyTokensWithKvCacheMatchTransformers) {
  model::Transformer net = model::load_model(dir());
  io::SafetensorsFile ref(dir() + "/reference.safetensors");
  const torch::Tensor prompt = ref.get("input_ids").narrow(0, 0, 1);
  const torch::Tensor expected = ref.get("greedy_ids").narrow(1, prompt.size(1), 16);
  const torch::Tensor got = model::generate_greedy(net, prompt, 16);
  EXPECT_TRUE(torch::equal(got, expected)) << got << "\nexpected\n" << expected;
}

TEST_P(FixtureTest, CachedForwardEqualsFullForward) {
  model::Transformer net = model::load_model(dir());
  io::SafetensorsFile ref(dir() + "/reference.safetensors");
  const torch::Tensor ids = ref.get("input_ids");
  torch::NoGradGuard no_grad;
  const torch::Tensor full = net->forward(ids).logits;
  model::KvCache cache = net->new_cache();
  const int64_t split = ids.size(1) / 3;
  std::vector<torch::Tensor> parts = {net->forward(ids.narrow(1, 0, split), &cache).logits};
  for (int64_t t = split; t < ids.size(1); ++t) parts.push_back(net->forward(ids.narrow(1, t, 1), &cache).logits);
  // Only the matmul shapes differ, so the gap is float rounding: well under the fixture tolerance.
  EXPECT_LT(test::max_abs_diff(torch::cat(parts, 1), full), kTolerance);
}

TEST_P(FixtureTest, ParameterCountEqualsCheckpointElements) {
  const model::ModelSpec spec = model::read_hf_config(dir());
  EXPECT_EQ(model::parameter_count(spec), io::Checkpoint(dir()).element_count());
}

TEST_P(FixtureTest, HfStateDictRoundTripsTheCheckpoint) {
  model::Transformer net = model::load_model(dir());
  io::Checkpoint ckpt(dir());
  const auto tensors = model::hf_state_dict(net);
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) {
    names.push_back(name);
    EXPECT_TRUE(torch::equal(t, ckpt.get(name))) << name;
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, ckpt.names());
}

INSTANTIATE_TEST_SUITE_P(Families, FixtureTest,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "gemma4",
                                           "gemma4_full", "gemma4_k_eq_v", "phi3", "olmo2", "granite", "qwen3_5"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bespoke
