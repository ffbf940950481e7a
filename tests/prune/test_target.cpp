// Targets: parsed and checked with one-line errors naming the key; the random method draws a
// seeded selection of the target's sizes; `bespoke prune` writes the cut as a model directory
// whose parameter count is the one its dry run predicted.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/target.h"
#include "test_util.h"

namespace bespoke {
namespace {

void expect_bad_target(const std::string& text, const std::string& needle) {
  const model::ModelSpec llama =
      model::read_hf_config(test::fixture_dir("llama"));  // 4 layers, 4 heads in 2 groups, ffn 160
  try {
    prune::check_target(llama, prune::parse_target(text));
    FAIL() << "accepted target " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Target, TargetsNoCutCanMeetAreRefusedNamingTheKey) {
  expect_bad_target("heads=3x", "target heads: '3x' is not a positive integer");
  expect_bad_target("ffn=0", "target ffn: '0' is not a positive integer");
  expect_bad_target("width=3", "target width: unknown key");
  expect_bad_target("hidden=96", "target hidden: 96 is more than the model's 64");
  expect_bad_target("heads=3,kv_heads=2", "target heads: 3 is not a multiple of kv_heads 2");
  expect_bad_target("heads=8", "target heads: 8 is more than the 4 there are");
  expect_bad_target("heads=4,kv_heads=1", "target heads: 4 query heads per KV group, where the groups hold 2");
  expect_bad_target("ffn=200", "target ffn: 200 is more than the 160 there are");
  expect_bad_target("layers=5", "target layers: 5 is more than the model's 4");
}

// Gemma-4-31B's global layers hold fewer KV heads than its sliding ones (num_global_key_value_heads):
// global_heads and global_kv_heads give them their own counts; without them the sliding layers'
// target is refused where the global layers cannot meet it.
TEST(Target, GlobalLayersOfAnotherGeometryTakeTheirOwnHeadTargets) {
  nlohmann::json c = nlohmann::json::parse(std::ifstream(test::fixture_dir("gemma4_k_eq_v") + "/config.json"));
  nlohmann::json& text = c.contains("text_config") ? c["text_config"] : c;
  text["num_global_key_value_heads"] = 1;
  const model::ModelSpec s = model::spec_from_hf_config(c);  // sliding 4 heads / 2 KV, global 4 / 1
  try {
    prune::check_target(s, prune::parse_target("heads=2,kv_heads=2"));
    FAIL() << "a global layer cannot keep 2 of its 1 KV heads";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("target kv_heads: 2 is more than the 1 there are (layer 2)"),
              std::string::npos)
        << e.what();
  }
  const prune::Target t = prune::parse_target("heads=2,kv_heads=2,global_heads=3,global_kv_heads=1");
  const model::ModelSpec cut = prune::selected_spec(s, prune::random_selection(s, t, 3));
  for (int64_t i = 0; i < cut.n_layers(); ++i) {
    const bool global = cut.layers[i].window == 0;
    EXPECT_EQ(cut.layers[i].n_heads, global ? 3 : 2) << i;
    EXPECT_EQ(cut.layers[i].n_kv_heads, global ? 1 : 2) << i;
  }
}

TEST(Target, TheRandomMethodIsSeededAndMeetsTheTarget) {
  const model::ModelSpec s = model::read_hf_config(test::fixture_dir("llama"));
  const prune::Target t = prune::parse_target("layers=3,hidden=48,heads=2,kv_heads=1,ffn=64");
  const prune::Selection a = prune::random_selection(s, t, 5), b = prune::random_selection(s, t, 5);
  EXPECT_EQ(a.layers, b.layers);
  EXPECT_EQ(a.hidden, b.hidden);
  EXPECT_EQ(a.per_layer[0].ffn, b.per_layer[0].ffn);
  EXPECT_NE(prune::random_selection(s, t, 6).per_layer[0].ffn, a.per_layer[0].ffn);
  const model::ModelSpec cut = prune::selected_spec(s, a);
  ASSERT_EQ(cut.n_layers(), 3);
  EXPECT_EQ(cut.hidden_size, 48);
  for (const model::LayerSpec& l : cut.layers) {
    EXPECT_EQ(l.n_heads, 2);
    EXPECT_EQ(l.n_kv_heads, 1);
    EXPECT_EQ(l.ffn_dim, 64);
  }
  // Gemma 4's layers that others read keys and values from stay.
  const model::ModelSpec g4 = model::read_hf_config(test::fixture_dir("gemma4_full"));
  const prune::Selection g = prune::random_selection(g4, prune::parse_target("layers=4"), 1);
  for (const int64_t source : {2, 3}) EXPECT_NE(std::find(g.layers.begin(), g.layers.end(), source), g.layers.end());
  // Gemma 2 and 3's random depth cuts keep a local/global pattern llama.cpp's period expresses,
  // so they export in their own architecture (gguf_arch refuses the others).
  for (const char* family : {"gemma2", "gemma3"}) {
    const model::ModelSpec gs = model::read_hf_config(test::fixture_dir(family));
    for (uint64_t seed = 0; seed < 8; ++seed) {
      const model::ModelSpec cut =
          prune::selected_spec(gs, prune::random_selection(gs, prune::parse_target("layers=2"), seed));
      EXPECT_NO_THROW(model::family_named(family).gguf_arch(cut)) << family << " seed " << seed;
    }
  }
}

TEST(Target, PruneWritesTheCutAsAModelDirectoryOfThePredictedSize) {
  const std::string src = test::fixture_dir("llama"), out = test::scratch_dir("prune") + "/cut";
  const std::string args = "prune " + src + " --method random --target layers=3,heads=2,kv_heads=1,ffn=64 --seed 2";
  test::CommandResult dry = test::run_bespoke(args + " --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const nlohmann::json plan = nlohmann::json::parse(dry.out);
  test::CommandResult r = test::run_bespoke(args + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  model::Transformer cut = model::load_model(out);
  EXPECT_EQ(model::parameter_count(cut->spec()), plan["params"].get<int64_t>());
  EXPECT_EQ(plan["source_params"].get<int64_t>(), model::parameter_count(model::read_hf_config(src)));
  model::Transformer net = model::load_model(src);
  const prune::Selection sel =
      prune::random_selection(net->spec(), prune::parse_target("layers=3,heads=2,kv_heads=1,ffn=64"), 2);
  model::Transformer want = prune::extract(net, sel);
  const torch::Tensor ids = io::SafetensorsFile(src + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  EXPECT_EQ(test::max_abs_diff(cut->forward(ids).logits, want->forward(ids).logits), 0.0);
  r = test::run_bespoke("prune " + src + " --method random --target heads=3 --out " + out + "2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("target heads"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bespoke
