// The Hugging Face directory export: a directory Bespoke (and transformers) reads back as the
// same model, with the config's shape fields following a pruned model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

class HfExport : public ::testing::TestWithParam<std::string> {};

TEST_P(HfExport, ReloadsAsTheSameModel) {
  const std::string family = GetParam(), src = test::fixture_dir(family);
  model::Transformer net = model::load_model(src);
  const std::string out = test::scratch_dir("hf") + "/model";
  model::export_hf(net, src, out);
  const io::Checkpoint a(src), b(out);
  ASSERT_EQ(a.names(), b.names());
  for (const std::string& name : a.names()) EXPECT_TRUE(torch::equal(a.get(name), b.get(name))) << name;
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(out + "/config.json")), nlohmann::json::parse(std::ifstream(src + "/config.json")));
  EXPECT_TRUE(fs::exists(out + "/tokenizer.json"));
  EXPECT_EQ(fs::directory_iterator(fs::path(out).parent_path())->path(), fs::path(out)) << "temporary directory left behind";
}

INSTANTIATE_TEST_SUITE_P(Families, HfExport,
                         ::testing::Values("llama", "qwen2", "qwen3", "gemma2", "gemma3", "gemma4_full", "phi3", "olmo2", "granite"),
                         [](const auto& info) { return info.param; });

// A uniformly pruned model (fewer heads and FFN units in every layer) keeps working as HF.
TEST(HfExport, PrunedShapesRewriteTheConfig) {
  const std::string src = test::fixture_dir("qwen2");
  model::Transformer net = test::cut_fixture("qwen2", {2, 2, 2, 2}, {1, 1, 1, 1}, {64, 64, 64, 64});
  torch::NoGradGuard no_grad;
  const std::string out = test::scratch_dir("hf") + "/pruned";
  model::export_hf(net, src, out);
  const nlohmann::json c = nlohmann::json::parse(std::ifstream(out + "/config.json"));
  EXPECT_EQ(c["num_attention_heads"], 2);
  EXPECT_EQ(c["num_key_value_heads"], 1);
  EXPECT_EQ(c["intermediate_size"], 64);
  EXPECT_EQ(c["head_dim"], 16);  // no longer hidden / heads
  model::Transformer back = model::load_model(out);
  const torch::Tensor ids = io::SafetensorsFile(src + "/reference.safetensors").get("input_ids");
  EXPECT_LT(test::max_abs_diff(back->forward(ids).logits, net->forward(ids).logits), 1e-6);
}

TEST(HfExport, PerLayerShapesAreRefusedNamingTheLayer) {
  const std::string src = test::fixture_dir("llama");
  model::ModelSpec spec = model::load_model(src)->spec();
  spec.layers[3].ffn_dim = 32;
  model::Transformer net(spec);
  try {
    model::export_hf(net, src, test::scratch_dir("hf") + "/x");
    FAIL() << "exported per-layer shapes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bespoke
