// Mask learning end to end through the training engine: the Lagrangian pulls every type's
// expected size to the target, frozen mode leaves every weight as it was, and a stopped run
// resumes bit for bit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "bespoke/io/safetensors.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/l0.h"
#include "bespoke/prune/binarise.h"
#include "bespoke/prune/learned_masks.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

const std::atomic<bool> kRun{false};

std::string write_text(const std::string& dir) {
  fs::create_directories(dir);
  const std::string path = dir + "/data.jsonl";
  std::ofstream out(path);
  std::mt19937 rng(5);
  for (int i = 0; i < 24; ++i) out << nlohmann::json{{"text", test::random_text(rng, 120, false)}}.dump() << "\n";
  return path;
}

pipeline::L0Options options(const std::string& dir, int64_t steps, const std::string& target) {
  pipeline::L0Options o;
  o.train.model = test::fixture_dir("llama");
  o.train.data = write_text(dir);
  o.train.out = dir + "/run";
  o.train.steps = steps;
  o.train.seq_len = 32;
  o.train.batch = 4;
  o.train.schedule.peak = 1e-3;
  o.train.schedule.warmup = 0;
  o.train.schedule.kind = "constant";
  o.train.save_every = 4;
  o.target = prune::parse_target(target);
  o.mask_lr = 0.1;
  o.lambda_lr = 0.1;
  o.warmup_fraction = 0.2;
  return o;
}

std::vector<nlohmann::json> read_metrics(const std::string& out) {
  std::ifstream in(out + "/metrics.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  return lines;
}

// Mask learning through the training engine: every step's metrics carry the expected parameter
// count, each type's expected units against the step's warming target and its multipliers, and
// the share of gates undecided; the Lagrangian is a logged term of the loss; the run ends with
// the target's exact shape. (That the Lagrangian reaches the target is test_learned_masks.cpp's.)
TEST(L0, TheTrainingEngineLearnsMasksAndLogsTheirSizes) {
  pipeline::L0Options o = options(test::scratch_dir("l0-target"), 12,
                                  "layers=3,hidden=40,heads=1,kv_heads=1,ffn=96,attn_blocks=2,mlp_blocks=2");
  o.freeze_weights = true;
  o.warmup_fraction = 0.5;
  const pipeline::L0Result r = pipeline::learn_masks(o, kRun);
  const std::vector<nlohmann::json> lines = read_metrics(o.train.out);
  ASSERT_EQ(lines.size(), 12u);
  for (const char* type : {"layers", "hidden", "heads", "kv_heads", "ffn", "attn_blocks", "mlp_blocks"}) {
    const nlohmann::json& first = lines.front()["masks"]["types"][type];
    const nlohmann::json& warm = lines[5]["masks"]["types"][type];  // step 6: the warm-up's end
    ASSERT_TRUE(first.is_object()) << type;
    EXPECT_LT(first["target"].get<double>(), first["expected"].get<double>() + 1e-9) << type;
    EXPECT_DOUBLE_EQ(warm["target"].get<double>(), warm["final_target"].get<double>()) << type;
    EXPECT_GT(lines.back()["masks"]["types"][type]["lambda"][1].get<double>(), 0.0) << type;  // ascended
  }
  EXPECT_TRUE(lines.front()["terms"].contains("lagrangian"));
  EXPECT_GT(lines.front()["masks"]["expected_params"].get<double>(),
            lines.back()["masks"]["expected_params"].get<double>());
  EXPECT_GE(lines.back()["masks"]["undecided"].get<double>(), 0.0);
  const model::ModelSpec cut = prune::selected_spec(r.run.model->spec(), r.binarised.selection);
  EXPECT_EQ(cut.n_layers(), 3);
  EXPECT_EQ(cut.hidden_size, 40);
}

// The hybrid learns masks on its DeltaNet value and key heads beside attention heads and FFN
// neurons, each type its own row of the Lagrangian, and ends with the target's shape in every
// DeltaNet layer.
TEST(L0, AHybridLearnsDeltaNetHeadMasks) {
  pipeline::L0Options o =
      options(test::scratch_dir("l0-hybrid"), 8, "value_heads=1,key_heads=1,heads=1,kv_heads=1,ffn=96");
  o.train.model = test::fixture_dir("qwen3_5");
  o.freeze_weights = true;
  const pipeline::L0Result r = pipeline::learn_masks(o, kRun);
  const std::vector<nlohmann::json> lines = read_metrics(o.train.out);
  ASSERT_EQ(lines.size(), 8u);
  for (const char* type : {"value_heads", "key_heads", "heads", "kv_heads", "ffn"}) {
    const nlohmann::json& last = lines.back()["masks"]["types"][type];
    ASSERT_TRUE(last.is_object()) << type;
    EXPECT_GT(last["lambda"][1].get<double>(), 0.0) << type;  // ascended
  }
  const model::ModelSpec cut = prune::selected_spec(r.run.model->spec(), r.binarised.selection);
  for (const model::LayerSpec& l : cut.layers) {
    if (l.kind != model::LayerKind::kLinearAttention) continue;
    EXPECT_EQ(l.deltanet.key_heads, 1);
    EXPECT_EQ(l.deltanet.value_heads, 1);
  }
}

// Frozen mode changes no weight, bit for bit: the model the run ends with is the source, it took
// no gradients, and its checkpoints hold no weights, only the gates and multipliers.
TEST(L0, FrozenModeChangesNoWeight) {
  pipeline::L0Options o = options(test::scratch_dir("l0-frozen"), 6, "ffn=96,heads=2");
  o.freeze_weights = true;
  o.train.teacher = "self";
  const pipeline::L0Result r = pipeline::learn_masks(o, kRun);
  auto source = model::load_model(o.train.model)->named_parameters();
  for (const auto& p : r.run.model->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), source[p.key()])) << p.key();
    EXPECT_FALSE(p.value().requires_grad()) << p.key();
    EXPECT_FALSE(p.value().grad().defined()) << p.key();
  }
  const std::string last = train::latest_checkpoint(o.train.out);
  EXPECT_TRUE(io::SafetensorsFile(last + "/model.safetensors").entries().empty());
  const io::SafetensorsFile extra(last + "/extra.safetensors");
  EXPECT_TRUE(extra.entries().count("masks/ffn.0"));
  EXPECT_TRUE(extra.entries().count("lambdas/lambda"));
  EXPECT_FALSE(fs::exists(o.train.out + "/final"));
}

// A run stopped at step 5 and resumed ends where the uninterrupted run does, bit for bit: gates,
// multipliers, weights (joint mode), losses and the binarised selection.
TEST(L0, MaskLearningResumesBitForBit) {
  const std::string dir = test::scratch_dir("l0-resume");
  const std::string target = "layers=3,hidden=48,heads=2,ffn=96";
  pipeline::L0Options whole = options(dir + "/whole", 10, target);
  const pipeline::L0Result a = pipeline::learn_masks(whole, kRun);
  pipeline::L0Options half = options(dir + "/half", 10, target);
  half.train.stop_at = 5;
  EXPECT_TRUE(pipeline::learn_masks(half, kRun).run.interrupted);
  half.train.stop_at = 0;
  half.train.resume = true;
  const pipeline::L0Result b = pipeline::learn_masks(half, kRun);
  EXPECT_EQ(b.run.first_step, 5);
  const io::SafetensorsFile x(train::latest_checkpoint(whole.train.out) + "/extra.safetensors");
  const io::SafetensorsFile y(train::latest_checkpoint(half.train.out) + "/extra.safetensors");
  ASSERT_FALSE(x.entries().empty());
  for (const auto& [name, entry] : x.entries()) EXPECT_TRUE(torch::equal(x.get(name), y.get(name))) << name;
  auto wa = a.run.model->named_parameters();
  for (const auto& p : b.run.model->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), wa[p.key()])) << p.key();
  const std::vector<nlohmann::json> la = read_metrics(whole.train.out), lb = read_metrics(half.train.out);
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) EXPECT_EQ(la[i]["loss"], lb[i]["loss"]) << "step " << i + 1;
  EXPECT_EQ(a.binarised.selection.hidden, b.binarised.selection.hidden);
  EXPECT_EQ(a.binarised.selection.layers, b.binarised.selection.layers);
}

// Gates started from importance open the most important units: binarising them untrained keeps
// exactly the units a one-shot cut by the same scores keeps.
TEST(L0, ImportanceStartsTheGates) {
  const model::ModelSpec spec = model::load_model(test::fixture_dir("llama"))->spec();
  const prune::Target t = prune::parse_target("hidden=40,ffn=96,heads=2");
  prune::Importance imp;
  torch::manual_seed(2);
  imp.hidden = torch::rand({spec.hidden_size}, torch::kFloat64);
  for (const model::LayerSpec& l : spec.layers) {
    imp.ffn.push_back(torch::rand({l.ffn_dim}, torch::kFloat64));
    imp.heads.push_back(torch::rand({l.n_heads}, torch::kFloat64));
    imp.kv.push_back(torch::rand({l.n_kv_heads}, torch::kFloat64));
  }
  model::UnitMasks gates = prune::make_learned_masks(spec, t, 0);
  prune::init_from_importance(gates, spec, t, imp);
  const prune::Selection sel = prune::binarise(spec, gates, t).selection;
  const auto top = [](const torch::Tensor& s, int64_t k, int64_t offset) {
    std::vector<int64_t> v;
    for (int64_t i = 0; i < s.numel(); ++i)
      if ((s > s[i]).sum().item<int64_t>() < k) v.push_back(i + offset);
    return v;
  };
  EXPECT_EQ(sel.hidden, top(imp.hidden, 40, 0));
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    EXPECT_EQ(sel.per_layer[i].ffn, top(imp.ffn[i], 96, 0)) << i;
    std::vector<int64_t> heads;
    for (int64_t g = 0; g < 2; ++g)
      for (const int64_t h : top(imp.heads[i].narrow(0, 2 * g, 2), 1, 2 * g)) heads.push_back(h);
    EXPECT_EQ(sel.per_layer[i].q_heads, heads) << i;
  }
}

}  // namespace
}  // namespace bespoke
