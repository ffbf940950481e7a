// Learned masks (Sheared-LLaMA's hard-concrete gates): the gates' law, expected sizes against
// the exact count of the cut, binarisation and folding against the deterministic masked
// forward on every family (the hybrid's DeltaNet value and key heads too), and mask gradients
// through checkpointed layers.
#include <gtest/gtest.h>

#include <cmath>

#include "bespoke/io/safetensors.h"
#include "bespoke/model/load.h"
#include "bespoke/prune/binarise.h"
#include "bespoke/prune/expected_size.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/fold.h"
#include "bespoke/prune/hard_concrete.h"
#include "bespoke/prune/lagrangian.h"
#include "bespoke/prune/learned_masks.h"
#include "test_util.h"

namespace bespoke {
namespace {

using torch::Tensor;

// P(z != 0) over 200,000 draws per log α against σ(log α - β ln(-γ/ζ)), within 5 standard
// errors; z is exactly 0 and exactly 1 with positive probability, and never outside [0, 1].
TEST(HardConcrete, TheOpenProbabilityIsTheShareOfNonZeroDraws) {
  torch::manual_seed(3);
  const Tensor log_alpha = torch::tensor({-3.0, -1.0, 0.0, 1.0, 3.0, 5.0});
  const int64_t n = 200000;
  const Tensor z = prune::sample_gates(log_alpha.expand({n, log_alpha.numel()}).contiguous());
  const Tensor open = (z > 0).to(torch::kFloat64).mean(0);
  const Tensor want = prune::gate_open_probability(log_alpha).to(torch::kFloat64);
  for (int64_t i = 0; i < log_alpha.numel(); ++i) {
    const double p = want[i].item<double>(), se = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(open[i].item<double>(), p, 5 * se + 1e-9) << "log alpha " << log_alpha[i].item<double>();
  }
  // The released constants' closed form: σ(log α + 1.5986), as β ln(1/11) = -1.5986.
  EXPECT_NEAR(want[2].item<double>(), 1 / (1 + std::exp(-1.5986)), 1e-4);
  EXPECT_GT((z == 1).sum().item<int64_t>(), 0);
  EXPECT_GT((z == 0).sum().item<int64_t>(), 0);
  EXPECT_TRUE(((z >= 0) & (z <= 1)).all().item<bool>());
}

// The Lagrangian alone against a toy task that prefers some units of every type (a random
// weight per unit on its drawn gate): 1000 steps of Adam at Sheared-LLaMA's signs (masks descend,
// multipliers ascend), the rates decaying on a cosine, the target warmed up over the first 20%,
// leave every type's expected size within 1% of its target (measured: 0.62% at worst, FFN).
TEST(Lagrangian, DrivesEveryTypesExpectedSizeToItsTarget) {
  const model::ModelSpec spec = model::load_model(test::fixture_dir("llama"))->spec();
  const prune::Target t =
      prune::parse_target("layers=3,hidden=40,heads=1,kv_heads=1,ffn=96,attn_blocks=2,mlp_blocks=2");
  model::UnitMasks gates = prune::make_learned_masks(spec, t, 0);
  torch::manual_seed(1);
  std::vector<Tensor> params, preference;
  for (const auto& [name, g] : prune::named_gates(gates)) {
    params.push_back(g.requires_grad_());
    preference.push_back(torch::rand_like(g));
  }
  const int64_t steps = 1000;
  prune::Lagrangian lagrangian(prune::size_constraints(spec, prune::open_probabilities(spec, gates), t), steps / 5);
  Tensor lambda = lagrangian.lambdas();
  lambda.requires_grad_();
  const double mask_lr = 0.3, lambda_lr = 3.0;
  torch::optim::Adam opt({torch::optim::OptimizerParamGroup(params), torch::optim::OptimizerParamGroup({lambda})},
                         torch::optim::AdamOptions(mask_lr));
  for (int64_t k = 0; k < steps; ++k) {
    const double decay = 0.5 * (1 + std::cos(M_PI * double(k) / double(steps)));
    static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options()).lr(mask_lr * decay);
    static_cast<torch::optim::AdamOptions&>(opt.param_groups()[1].options()).lr(lambda_lr * decay);
    const auto z = prune::named_gates(prune::sample_masks(spec, gates));
    Tensor loss = lagrangian.term(prune::size_constraints(spec, prune::open_probabilities(spec, gates), t), k);
    for (size_t i = 0; i < z.size(); ++i) loss = loss - (z[i].second * preference[i]).mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
    for (const Tensor& g : params) prune::clamp_log_alpha(g);
  }
  torch::NoGradGuard no_grad;
  const std::vector<prune::SizeConstraint> c = prune::size_constraints(spec, prune::open_probabilities(spec, gates), t);
  ASSERT_EQ(c.size(), 7u);
  for (const prune::SizeConstraint& type : c) {
    const double got = type.kept.mean().item<double>(), want = type.target;
    EXPECT_NEAR(got, want, 0.01 * want) << type.type;
    EXPECT_DOUBLE_EQ(lagrangian.target_at(type, steps / 5), want) << type.type;
    EXPECT_DOUBLE_EQ(lagrangian.target_at(type, 0), 1.0) << type.type;
  }
  // Every row pulled, not the mean alone: each layer's FFN within 3% of its target.
  for (const prune::SizeConstraint& type : c)
    if (type.type == "ffn")
      for (int64_t r = 0; r < type.kept.numel(); ++r) EXPECT_NEAR(type.kept[r].item<double>(), type.target, 0.03) << r;
}

const std::vector<std::string> kFamilies = {"llama",  "mistral",     "qwen2", "qwen3", "gemma2",  "gemma3",
                                            "gemma4", "gemma4_full", "phi3",  "olmo2", "granite", "qwen3_5"};

// Every fixture has 4 query heads in 2 KV groups, FFN 160 and hidden 64 (gemma4_full 6 layers).
const std::vector<std::pair<std::string, std::string>> kCuts = {
    {"query heads", "heads=2"},
    {"KV groups", "kv_heads=1,heads=2"},
    {"FFN neurons", "ffn=96"},
    {"a layer", "layers=3"},
    {"attention blocks", "attn_blocks=2"},
    {"MLP blocks", "mlp_blocks=3"},
    {"hidden channels", "hidden=40"},
    {"everything", "layers=3,hidden=48,heads=1,kv_heads=1,ffn=96,attn_blocks=2,mlp_blocks=2"}};

// The cuts for `family`: gemma4_full's last two layers read the keys and values of two earlier
// ones, and those four keep their attention. qwen3_5's DeltaNet layers (4 value heads in 2 key
// heads) take value- and key-head cuts in place of attention blocks, which a DeltaNet layer
// cannot lose.
std::vector<std::pair<std::string, std::string>> cuts_for(const std::string& family) {
  if (family == "qwen3_5")
    return {kCuts[0],
            kCuts[1],
            kCuts[2],
            kCuts[3],
            {"DeltaNet value heads", "value_heads=2"},
            {"DeltaNet key heads", "key_heads=1,value_heads=2"},
            kCuts[5],
            kCuts[6],
            {"everything", "layers=3,hidden=48,heads=1,kv_heads=1,ffn=96,value_heads=2,key_heads=1,mlp_blocks=2"}};
  if (family != "gemma4_full") return kCuts;
  std::vector<std::pair<std::string, std::string>> cuts = kCuts;
  cuts[4].second = "attn_blocks=5";
  cuts.back().second = "layers=4,hidden=48,heads=1,kv_heads=1,ffn=96,attn_blocks=4,mlp_blocks=2";
  return cuts;
}

// Gates from N(mean, sd²): a spread of deterministic values, so that ranking and folding matter.
model::UnitMasks random_gates(const model::ModelSpec& s, const prune::Target& t, double mean, double sd) {
  torch::manual_seed(11);
  return prune::map_gates(prune::make_learned_masks(s, t, 0),
                          [&](const Tensor& g) { return torch::randn_like(g) * sd + mean; });
}

class LearnedMasks : public ::testing::TestWithParam<std::string> {};

// Probabilities of 0 and 1 as the binarised gates set them give the exact parameter count of the
// cut model, for every unit type and for all at once.
TEST_P(LearnedMasks, TheExpectedSizeAtBinarisedMasksIsTheCutModelsCount) {
  const model::ModelSpec spec = model::load_model(test::fixture_dir(GetParam()))->spec();
  for (const auto& [what, text] : cuts_for(GetParam())) {
    const prune::Target t = prune::parse_target(text);
    const prune::Binarised b = prune::binarise(spec, random_gates(spec, t, 0.0, 3.0), t);
    const model::UnitMasks open =
        prune::map_gates(b.values, [](const Tensor& v) { return (v > 0).to(torch::kFloat32); });
    const int64_t want = model::parameter_count(prune::selected_spec(spec, b.selection));
    EXPECT_EQ(int64_t(std::llround(prune::expected_params(spec, open).item<double>())), want) << what;
    EXPECT_LT(want, model::parameter_count(spec)) << what;
    // In between, the expectation: every gate at probability one half of each type.
    const model::UnitMasks half = prune::map_gates(b.values, [](const Tensor& v) { return torch::full_like(v, 0.5); });
    EXPECT_LT(prune::expected_params(spec, half).item<double>(), double(model::parameter_count(spec))) << what;
  }
}

// `source` with its norms' epsilon at 1e-20 where `tiny`: a norm whose width shrinks (the
// residual stream's after a hidden cut, OLMo 2's full-width q/k norms after a head cut) is
// rescaled to the new width, exact only as eps -> 0 (see test_extract.cpp).
model::Transformer with_tiny_eps(model::Transformer& source, bool tiny) {
  model::ModelSpec s = source->spec();
  if (tiny) s.norm_eps = 1e-20;
  return test::with_spec(source, s);
}

// The binarised values set as masks, the same values folded into the weights with no masks, and
// the folded model cut to the selection all compute the same logits in fp32, for each unit type
// alone and all at once: within 1e-5 (Llama's GQA, Gemma 2 and 3, Qwen 3's q/k norms and the
// rest), OLMo 2 2e-5 (its full-width q/k norms over soft-scaled heads: measured 1.04e-5), Qwen
// 3.5 2e-5 (soft hidden channels folded through its DeltaNet layers: measured 1.15e-5) and
// Gemma 4 8e-5 (unscaled attention, as in test_extract.cpp: measured 5.1e-5).
TEST_P(LearnedMasks, TheFoldedExtractedModelComputesTheDeterministicMaskedForward) {
  const std::string family = GetParam();
  model::Transformer loaded = model::load_model(test::fixture_dir(family));
  const model::ModelSpec& spec = loaded->spec();
  const bool full_width = spec.qk_norm == model::QkNorm::kFullWidth;
  const Tensor ids = io::SafetensorsFile(test::fixture_dir(family) + "/reference.safetensors").get("input_ids");
  const double bound = family.rfind("gemma4", 0) == 0 ? 8e-5 : family == "olmo2" || family == "qwen3_5" ? 2e-5 : 1e-5;
  torch::NoGradGuard no_grad;
  for (const auto& [what, text] : cuts_for(GetParam())) {
    const prune::Target t = prune::parse_target(text);
    const prune::Binarised b = prune::binarise(spec, random_gates(spec, t, 1.0, 2.0), t);
    model::Transformer net = with_tiny_eps(loaded, full_width || t.hidden);
    net->set_masks(std::make_shared<model::UnitMasks>(b.values));
    const Tensor masked = net->forward(ids).logits;
    net->set_masks(nullptr);
    EXPECT_GT(test::max_abs_diff(masked, net->forward(ids).logits), 10 * bound) << what << ": the masks do nothing";
    prune::fold_mask_values(net, b.values);
    EXPECT_LT(test::max_abs_diff(net->forward(ids).logits, masked), bound) << family << ": " << what << ", folded";
    model::Transformer small = prune::extract(net, b.selection);
    EXPECT_LT(test::max_abs_diff(small->forward(ids).logits, masked), bound) << family << ": " << what << ", cut";
    EXPECT_EQ(model::parameter_count(small->spec()), model::parameter_count(prune::selected_spec(spec, b.selection)));
  }
}

// Binarisation keeps exactly the target's counts, uniformly: as many query heads in every kept
// group, and the same in every layer.
TEST_P(LearnedMasks, BinarisationKeepsTheTargetsCountsInEveryRow) {
  const model::ModelSpec spec = model::load_model(test::fixture_dir(GetParam()))->spec();
  const prune::Target t = prune::parse_target(cuts_for(GetParam()).back().second);
  const prune::Binarised b = prune::binarise(spec, random_gates(spec, t, 0.0, 3.0), t);
  const model::ModelSpec cut = prune::selected_spec(spec, b.selection);
  EXPECT_EQ(cut.n_layers(), t.layers);
  EXPECT_EQ(cut.hidden_size, 48);
  int64_t mixers = 0, mlp = 0;
  for (const model::LayerSpec& l : cut.layers) {
    const bool deltanet = l.kind == model::LayerKind::kLinearAttention;
    mixers += l.n_heads > 0 || deltanet;
    mlp += l.ffn_dim > 0;
    if (l.n_heads > 0) EXPECT_EQ(l.n_heads, 1);
    if (l.n_heads > 0) EXPECT_EQ(l.n_kv_heads, 1);
    if (deltanet) EXPECT_EQ(l.deltanet.value_heads, t.value_heads);
    if (deltanet) EXPECT_EQ(l.deltanet.key_heads, t.key_heads);
    if (l.ffn_dim > 0) EXPECT_EQ(l.ffn_dim, 96);
  }
  EXPECT_EQ(mixers, t.attn_blocks ? t.attn_blocks : t.layers);  // qwen3_5 keeps every kept layer's mixer
  EXPECT_EQ(mlp, t.mlp_blocks);
}

INSTANTIATE_TEST_SUITE_P(Families, LearnedMasks, ::testing::ValuesIn(kFamilies),
                         [](const auto& info) { return info.param; });

// Gradients reach every kind of mask through checkpointed layers, equal to those of the plain
// forward (the recomputation repeats the same operations: bit-equal in fp32 on the CPU is not
// promised, 1e-6 relative is).
TEST(LearnedMasks, MaskGradientsFlowThroughCheckpointedLayers) {
  const auto grads = [](bool checkpoint) {
    model::Transformer net = model::load_model(test::fixture_dir("llama"));
    net->set_activation_checkpointing(checkpoint);
    const prune::Target t = prune::parse_target(kCuts.back().second);
    model::UnitMasks m = prune::map_gates(random_gates(net->spec(), t, 1.0, 1.0),
                                          [](const Tensor& g) { return torch::sigmoid(g).requires_grad_(); });
    net->set_masks(std::make_shared<model::UnitMasks>(m));
    net->forward(torch::tensor({{1, 2, 3, 4, 5}}, torch::kInt64)).logits.pow(2).mean().backward();
    std::vector<Tensor> out;
    for (const auto& [name, g] : prune::named_gates(m)) out.push_back(g.grad());
    return out;
  };
  const std::vector<Tensor> plain = grads(false), checkpointed = grads(true);
  ASSERT_EQ(plain.size(), checkpointed.size());
  ASSERT_GE(plain.size(), 7u);  // layers, attn, mlp, hidden, and per layer heads, kv, ffn
  for (size_t i = 0; i < plain.size(); ++i) {
    ASSERT_TRUE(checkpointed[i].defined()) << i;
    EXPECT_GT(plain[i].abs().sum().item<double>(), 0.0) << i;
    EXPECT_LT(test::max_abs_diff(checkpointed[i], plain[i]), 1e-6 * plain[i].abs().max().item<double>() + 1e-12) << i;
  }
}

}  // namespace
}  // namespace bespoke
