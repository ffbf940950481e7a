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
  // The same config, with layer_types written out: one kind per layer, as Bespoke read them.
  nlohmann::json written = nlohmann::json::parse(std::ifstream(out + "/config.json"));
  nlohmann::json source = nlohmann::json::parse(std::ifstream(src + "/config.json"));
  nlohmann::json& wc = written.contains("text_config") ? written["text_config"] : written;
  nlohmann::json& sc = source.contains("text_config") ? source["text_config"] : source;
  ASSERT_TRUE(wc.contains("layer_types"));
  ASSERT_EQ(int64_t(wc["layer_types"].size()), net->spec().n_layers());
  for (int64_t i = 0; i < net->spec().n_layers(); ++i) {
    const model::LayerSpec& l = net->spec().layers[i];
    EXPECT_EQ(wc["layer_types"][i], l.kind == model::LayerKind::kLinearAttention ? "linear_attention"
                                    : l.window > 0                               ? "sliding_attention"
                                                                                 : "full_attention")
        << i;
  }
  if (sc.contains("layer_types")) EXPECT_EQ(wc["layer_types"], sc["layer_types"]);
  wc.erase("layer_types"), sc.erase("layer_types");
  EXPECT_EQ(written, source);
  EXPECT_TRUE(fs::exists(out + "/tokenizer.json"));
  EXPECT_EQ(fs::directory_iterator(fs::path(out).parent_path())->path(), fs::path(out))
      << "temporary directory left behind";
}

INSTANTIATE_TEST_SUITE_P(Families, HfExport,
                         ::testing::Values("llama", "qwen2", "qwen3", "gemma2", "gemma3", "gemma4_full",
                                           "gemma4_k_eq_v", "phi3", "olmo2", "granite", "qwen3_5"),
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

// Per-layer shapes (no attention in layers 1 and 2, no MLP in 2 and 3, other head counts) go into
// config.json's bespoke_layers, with a note that transformers cannot load them; the directory
// reads back as the same spec and logits, and the CLI's logits, generate and export take it.
TEST(HfExport, PerLayerShapesRoundTripThroughBespokeLayers) {
  const std::string src = test::fixture_dir("llama");
  model::Transformer net = test::cut_fixture("llama", {4, 0, 0, 3}, {2, 0, 0, 1}, {160, 64, 0, 0});
  const std::string out = test::scratch_dir("hf") + "/per_layer";
  model::export_hf(net, src, out);
  const nlohmann::json c = nlohmann::json::parse(std::ifstream(out + "/config.json"));
  ASSERT_TRUE(c.contains("bespoke_layers"));
  EXPECT_EQ(c["bespoke_layers"][1]["num_attention_heads"], 0);
  EXPECT_EQ(c["bespoke_layers"][2]["intermediate_size"], 0);
  EXPECT_NE(c["bespoke_layers_note"].get<std::string>().find("transformers"), std::string::npos);
  model::Transformer back = model::load_model(out);
  for (int64_t i = 0; i < net->spec().n_layers(); ++i) {
    const model::LayerSpec &a = net->spec().layers[i], &b = back->spec().layers[i];
    EXPECT_EQ(a.n_heads, b.n_heads) << i;
    EXPECT_EQ(a.n_kv_heads, b.n_kv_heads) << i;
    EXPECT_EQ(a.head_dim, b.head_dim) << i;
    EXPECT_EQ(a.ffn_dim, b.ffn_dim) << i;
    EXPECT_EQ(a.window, b.window) << i;
  }
  EXPECT_EQ(model::parameter_count(back->spec()), model::parameter_count(net->spec()));
  torch::NoGradGuard no_grad;
  const std::string ref = src + "/reference.safetensors";
  const torch::Tensor ids = io::SafetensorsFile(ref).get("input_ids");
  const torch::Tensor want = net->forward(ids).logits;
  EXPECT_EQ(test::max_abs_diff(back->forward(ids).logits, want), 0.0);
  // Written again from the read-back model: the same config.
  model::export_hf(back, out, out + "2");
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(out + "2/config.json")), c);

  const std::string logits = test::scratch_dir("hf") + "/l.safetensors";
  test::CommandResult r = test::run_bespoke("logits " + out + " --ids " + ref + " --out " + logits);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(test::max_abs_diff(io::SafetensorsFile(logits).get("logits"), want), 1e-6);
  r = test::run_bespoke("generate " + out + " --ids " + ref + " --max-new 4");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  const std::string gguf = test::scratch_dir("hf") + "/per_layer.gguf";
  r = test::run_bespoke("export " + out + " --to gguf --out " + gguf);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  model::Transformer from_gguf = model::load_model(gguf);
  EXPECT_LT(test::max_abs_diff(from_gguf->forward(ids).logits, want), 1e-5);
}

void expect_same_layers(const model::ModelSpec& a, const model::ModelSpec& b) {
  ASSERT_EQ(a.n_layers(), b.n_layers());
  for (int64_t i = 0; i < a.n_layers(); ++i) {
    const model::LayerSpec &x = a.layers[i], &y = b.layers[i];
    EXPECT_EQ(x.n_heads, y.n_heads) << i;
    EXPECT_EQ(x.n_kv_heads, y.n_kv_heads) << i;
    EXPECT_EQ(x.head_dim, y.head_dim) << i;
    EXPECT_EQ(x.ffn_dim, y.ffn_dim) << i;
    EXPECT_EQ(x.window, y.window) << i;
    EXPECT_EQ(x.kv_source, y.kv_source) << i;
  }
}

// `net` written from `src` to `out`: returns the config's text part, and checks the directory
// reads back as the same layers and logits.
nlohmann::json export_and_reload(model::Transformer& net, const std::string& src, const std::string& out) {
  model::export_hf(net, src, out);
  const nlohmann::json c = nlohmann::json::parse(std::ifstream(out + "/config.json"));
  model::Transformer back = model::load_model(out);
  expect_same_layers(net->spec(), back->spec());
  const torch::Tensor ids = io::SafetensorsFile(src + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  EXPECT_EQ(test::max_abs_diff(back->forward(ids).logits, net->forward(ids).logits), 0.0);
  return c.contains("text_config") ? c["text_config"] : c;
}

// Gemma 4 with per-layer FFN widths and head counts: its own per_layer_config keeps the global
// layers' head size, bespoke_layers the rest, and the directory reads back as the same model.
TEST(HfExport, PerLayerGemma4ShapesRoundTrip) {
  const std::string src = test::fixture_dir("gemma4_full");
  model::ModelSpec spec = model::load_model(src)->spec();
  spec.layers[1].ffn_dim = 32;
  spec.layers[1].n_heads = 2, spec.layers[1].n_kv_heads = 1;  // not a KV source: layers 4 and 5 read 3 and 2
  model::validate(spec);
  model::Transformer net(spec);
  model::init_random(net);
  const nlohmann::json t = export_and_reload(net, src, test::scratch_dir("hf") + "/g4");
  EXPECT_EQ(t["per_layer_config"], nlohmann::json::parse(R"({"2": {"head_dim": 32}, "5": {"head_dim": 32}})"));
  EXPECT_TRUE(t.contains("bespoke_layers"));
}

// A Gemma 4 with a layer removed: per_layer_config is renumbered to the layers' new indices and
// the KV-sharing layers find their sources again, with no bespoke_layers needed.
TEST(HfExport, Gemma4WithALayerRemovedIsRenumbered) {
  const std::string src = test::fixture_dir("gemma4_full");
  model::ModelSpec spec = model::load_model(src)->spec();  // sliding, sliding, full, sliding, sliding, full
  spec.layers.erase(spec.layers.begin() + 1);
  for (model::LayerSpec& l : spec.layers)
    if (l.kv_source >= 0) l.kv_source -= 1;  // both sources (layers 3 and 2) sat after the removed layer
  model::Transformer net(spec);
  model::init_random(net);
  const nlohmann::json t = export_and_reload(net, src, test::scratch_dir("hf") + "/g4-removed");
  EXPECT_EQ(t["per_layer_config"], nlohmann::json::parse(R"({"1": {"head_dim": 32}, "4": {"head_dim": 32}})"));
  EXPECT_EQ(t["num_hidden_layers"], 5);
  EXPECT_EQ(t["num_kv_shared_layers"], 2);
  EXPECT_FALSE(t.contains("bespoke_layers"));
}

}  // namespace
}  // namespace bespoke
