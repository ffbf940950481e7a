// Taps: the named activations a forward reports to an observer. Observing changes no logit;
// block outputs and the final norm are transformers' hidden states; each block's output is its
// input plus the two projections of the tapped attention context and FFN activation.
#include <gtest/gtest.h>

#include <map>

#include "bespoke/io/safetensors.h"
#include "bespoke/model/load.h"
#include "test_util.h"

namespace bespoke {
namespace {

using Taps = std::map<std::string, torch::Tensor>;

// Runs the fixture's first row with an observer that keeps every tap (each name once).
torch::Tensor observed_forward(model::Transformer& net, const torch::Tensor& ids, Taps& taps) {
  const model::TapObserver keep = [&](const std::string& name, const torch::Tensor& value) {
    EXPECT_EQ(taps.count(name), 0u) << name << " reported twice";
    taps[name] = value.detach().clone();
  };
  return net->forward(ids, nullptr, false, &keep).logits;
}

// Every parameter's gradient, flattened into one vector.
torch::Tensor params_grad(model::Transformer& net) {
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : net->parameters()) grads.push_back(p.grad().flatten());
  return torch::cat(grads);
}

class FamilyTaps : public ::testing::TestWithParam<std::string> {};

TEST_P(FamilyTaps, ObservingChangesNoLogitAndBlockOutputsAreTheHiddenStates) {
  const std::string family = GetParam();
  model::Transformer net = model::load_model(test::fixture_dir(family));
  io::SafetensorsFile ref(test::fixture_dir(family) + "/reference.safetensors");
  const torch::Tensor ids = ref.get("input_ids");
  torch::NoGradGuard no_grad;
  const torch::Tensor plain = net->forward(ids).logits;
  Taps taps;
  EXPECT_TRUE(torch::equal(observed_forward(net, ids, taps), plain)) << family;
  const int64_t L = net->spec().n_layers();
  for (int64_t i = 0; i + 1 < L; ++i) {
    const std::string at = "blk." + std::to_string(i) + ".";
    ASSERT_TRUE(taps.count(at + "output")) << at;
    EXPECT_TRUE(torch::equal(taps[at + "output"], taps["blk." + std::to_string(i + 1) + ".input"])) << at;
    EXPECT_LT(test::max_abs_diff(taps[at + "output"], ref.get("hidden_" + std::to_string(i + 1))), 1e-4)
        << family << " " << at;
  }
  ASSERT_TRUE(taps.count("output_norm"));
  EXPECT_LT(test::max_abs_diff(taps["output_norm"], ref.get("hidden_" + std::to_string(L))), 1e-4) << family;
  for (int64_t i = 0; i < L; ++i) {
    const model::LayerSpec& l = net->spec().layers[i];
    const std::string at = "blk." + std::to_string(i) + ".";
    ASSERT_TRUE(taps.count(at + "attn_output.input") && taps.count(at + "ffn_down.input")) << at;
    EXPECT_EQ(taps[at + "attn_output.input"].sizes().vec(),
              (std::vector<int64_t>{ids.size(0), ids.size(1), l.n_heads * l.head_dim}));
    EXPECT_EQ(taps[at + "ffn_down.input"].sizes().vec(), (std::vector<int64_t>{ids.size(0), ids.size(1), l.ffn_dim}));
  }
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyTaps,
                         ::testing::Values("llama", "qwen3", "gemma3", "gemma4", "olmo2", "granite"),
                         [](const auto& info) { return info.param; });

// Llama's block: output = input + W_o(context) + W_down(activation), with the norms tapped on
// the way: the taps are the values the forward computed with, not copies of something else.
TEST(Taps, ABlockIsItsInputPlusTheProjectionsOfItsTaps) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const torch::Tensor ids = io::SafetensorsFile(test::fixture_dir("llama") + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  Taps taps;
  observed_forward(net, ids, taps);
  auto params = net->named_parameters();
  for (int64_t i = 0; i < net->spec().n_layers(); ++i) {
    const auto p = [&](const char* suffix) { return params["blk." + std::to_string(i) + "." + suffix]; };
    const auto tap = [&](const char* what) { return taps.at("blk." + std::to_string(i) + "." + what); };
    const torch::Tensor mid = tap("input") + torch::matmul(tap("attn_output.input"), p("attn_output.weight").t());
    const torch::Tensor out = mid + torch::matmul(tap("ffn_down.input"), p("ffn_down.weight").t());
    EXPECT_LT(test::max_abs_diff(out, tap("output")), 1e-5) << i;
    const torch::Tensor normed =
        mid * torch::rsqrt(mid.pow(2).mean(-1, true) + net->spec().norm_eps) * p("ffn_norm.weight");
    EXPECT_LT(test::max_abs_diff(normed, tap("ffn_norm")), 1e-5) << i;
  }
}

// A layer without attention reports no attention taps; one without an MLP no FFN taps.
TEST(Taps, AbsentSublayersReportNothing) {
  model::Transformer net = test::cut_fixture("llama", {4, 0, 0, 3}, {2, 0, 0, 1}, {160, 64, 0, 0});
  torch::NoGradGuard no_grad;
  Taps taps;
  observed_forward(net, torch::tensor({{1, 2, 3, 4}}, torch::kInt64), taps);
  EXPECT_EQ(taps.count("blk.1.attn_norm") + taps.count("blk.1.attn_output.input"), 0u);
  EXPECT_EQ(taps.count("blk.2.attn_output.input") + taps.count("blk.2.ffn_down.input"), 0u);
  EXPECT_EQ(taps.count("blk.3.ffn_norm") + taps.count("blk.3.ffn_down.input"), 0u);
  EXPECT_EQ(taps.count("blk.1.ffn_down.input") + taps.count("blk.3.attn_output.input"), 2u);
  EXPECT_TRUE(torch::equal(taps["blk.2.input"], taps["blk.2.output"]));  // the identity layer
}

// With activation checkpointing on and gradients wanted, an observed pass still reports each
// tap once, and its gradients are those of the unobserved pass.
TEST(Taps, CheckpointedTrainingPassReportsEachTapOnce) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const torch::Tensor ids = io::SafetensorsFile(test::fixture_dir("llama") + "/reference.safetensors").get("input_ids");
  net->set_activation_checkpointing(true);
  net->forward(ids).logits.sum().backward();
  const torch::Tensor plain = params_grad(net);
  net->zero_grad();
  Taps taps;
  observed_forward(net, ids, taps).sum().backward();
  EXPECT_FALSE(taps.empty());
  EXPECT_LT(test::max_abs_diff(params_grad(net), plain), 1e-6);
}

}  // namespace
}  // namespace bespoke
