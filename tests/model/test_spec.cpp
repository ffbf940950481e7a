// ModelSpec from config.json: both layouts give the same model; the tensor table is the
// transformer's parameter set; non-uniform layers build and run; bad specs are refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/generate.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"
#include "bespoke/model/tensor_table.h"
#include "test_util.h"

namespace bespoke {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json read_json(const std::string& path) {
  return json::parse(std::ifstream(path));
}

// Rewrites a transformers-5 config in the layout of older checkpoints: `rope_theta` and
// `rope_scaling` (or `rope_local_base_freq` for per-type ropes), `partial_rotary_factor` at
// the top, and no `layer_types` (the family's default pattern must reproduce them).
json to_older_layout(json c) {
  const json p = c["rope_parameters"];
  c.erase("rope_parameters");
  json rope = p;
  if (p.contains("full_attention")) {
    rope = p["full_attention"];
    c["rope_local_base_freq"] = p["sliding_attention"]["rope_theta"];
  }
  c["rope_theta"] = rope["rope_theta"];
  if (rope.contains("partial_rotary_factor")) c["partial_rotary_factor"] = rope["partial_rotary_factor"];
  if (rope["rope_type"] != "default") {
    json scaling = rope;
    scaling.erase("rope_theta");
    scaling.erase("partial_rotary_factor");
    c["rope_scaling"] = scaling;
  }
  c.erase("layer_types");
  return c;
}

class OlderLayoutTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OlderLayoutTest, GivesTheSameModel) {
  const std::string src = test::fixture_dir(GetParam());
  const json newer = read_json(src + "/config.json");
  const json older = to_older_layout(newer);
  ASSERT_FALSE(older.contains("rope_parameters"));
  const std::string dir = test::scratch_dir("older");
  fs::copy(src + "/model.safetensors", dir + "/model.safetensors");
  std::ofstream(dir + "/config.json") << older.dump(2);

  const model::ModelSpec a = model::spec_from_hf_config(newer), b = model::read_hf_config(dir);
  ASSERT_EQ(a.n_layers(), b.n_layers());
  for (int64_t i = 0; i < a.n_layers(); ++i) {
    EXPECT_EQ(a.layers[i].window, b.layers[i].window) << "layer " << i;
    EXPECT_TRUE(a.layers[i].rope == b.layers[i].rope) << "layer " << i;
  }
  model::Transformer net = model::load_model(dir);
  io::SafetensorsFile ref(src + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  EXPECT_LT(test::max_abs_diff(net->forward(ref.get("input_ids")).logits, ref.get("logits")), 1e-4);
}

// Gemma 4's per-type proportional rope has no older spelling.
INSTANTIATE_TEST_SUITE_P(Families, OlderLayoutTest,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi3", "olmo2",
                                           "granite"),
                         [](const auto& info) { return info.param; });

TEST(Spec, TensorTableIsTheTransformersParameterSet) {
  for (const char* family : {"llama", "qwen2", "qwen3", "gemma2", "gemma4_full", "phi3", "olmo2"}) {
    const model::ModelSpec spec = model::read_hf_config(test::fixture_dir(family));
    model::Transformer net(spec);
    auto params = net->named_parameters();
    const auto table = model::tensor_table(spec);
    EXPECT_EQ(params.size(), table.size()) << family;
    int64_t total = 0;
    for (const model::TensorInfo& t : table) {
      const torch::Tensor* p = params.find(t.name);
      ASSERT_NE(p, nullptr) << family << " " << t.name;
      EXPECT_EQ(p->sizes().vec(), t.shape) << t.name;
      EXPECT_EQ(t.shape.size(), t.axes.size()) << t.name;
      total += p->numel();
    }
    EXPECT_EQ(total, model::parameter_count(spec)) << family;
  }
}

// A pruned model: every layer with its own heads, kv heads and FFN width.
model::ModelSpec non_uniform_spec() {
  model::ModelSpec s = model::read_hf_config(test::fixture_dir("qwen2"));
  const int64_t heads[] = {4, 2, 3, 4}, kv[] = {2, 1, 1, 4}, ffn[] = {160, 40, 97, 8};
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    s.layers[i].n_heads = heads[i];
    s.layers[i].n_kv_heads = kv[i];
    s.layers[i].ffn_dim = ffn[i];
  }
  model::validate(s);
  return s;
}

TEST(Spec, NonUniformLayersBuildAndDecodeConsistently) {
  torch::manual_seed(0);
  model::Transformer net(non_uniform_spec());
  model::init_random(net);
  int64_t total = 0;
  for (const auto& p : net->parameters()) total += p.numel();
  EXPECT_EQ(total, model::parameter_count(net->spec()));
  const torch::Tensor ids = torch::randint(700, {2, 12}, torch::kInt64);
  torch::NoGradGuard no_grad;
  const torch::Tensor full = net->forward(ids).logits;
  model::KvCache cache = net->new_cache();
  const torch::Tensor a = net->forward(ids.narrow(1, 0, 7), &cache).logits;
  const torch::Tensor b = net->forward(ids.narrow(1, 7, 5), &cache).logits;
  EXPECT_LT(test::max_abs_diff(torch::cat({a, b}, 1), full), 1e-4);
}

// Phi-3.5-style longrope switching from short to long factors in the middle of generation:
// decoding through the cache must give the tokens of recomputing everything at each step.
TEST(Spec, LongropeSwitchDuringGenerationMatchesRecomputation) {
  const std::string src = test::fixture_dir("phi3"), dir = test::scratch_dir("longrope");
  fs::copy(src + "/model.safetensors", dir + "/model.safetensors");
  json c = read_json(src + "/config.json");
  std::vector<double> long_factor, short_factor;
  for (int i = 0; i < 8; ++i) long_factor.push_back(1.0 + 3.0 * i), short_factor.push_back(1.0 + 0.1 * i);
  c["rope_parameters"] = {{"rope_type", "longrope"},
                          {"rope_theta", 10000.0},
                          {"long_factor", long_factor},
                          {"short_factor", short_factor},
                          {"original_max_position_embeddings", 26}};
  std::ofstream(dir + "/config.json") << c.dump();
  model::Transformer net = model::load_model(dir);
  const torch::Tensor prompt = io::SafetensorsFile(src + "/reference.safetensors").get("input_ids").narrow(0, 0, 1);
  ASSERT_LT(prompt.size(1), 26);
  const torch::Tensor cached = model::generate_greedy(net, prompt, 12);
  torch::NoGradGuard no_grad;
  torch::Tensor ids = prompt;
  for (int i = 0; i < 12; ++i) {
    const torch::Tensor logits = net->forward(ids).logits;
    ids = torch::cat({ids, logits.select(1, ids.size(1) - 1).argmax(-1, true)}, 1);
  }
  EXPECT_TRUE(torch::equal(cached, ids.narrow(1, prompt.size(1), 12)));
}

void expect_invalid(const model::ModelSpec& s, const std::string& needle) {
  try {
    model::validate(s);
    FAIL() << "accepted a spec that should fail with: " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Spec, ValidateNamesTheLayerAndTheProblem) {
  model::ModelSpec s = non_uniform_spec();
  s.layers[2].n_heads = 3;
  s.layers[2].n_kv_heads = 2;
  expect_invalid(s, "layer 2: 3 query heads are not a multiple of 2 kv heads");
  s = non_uniform_spec();
  s.layers[1].ffn_dim = -1;
  expect_invalid(s, "layer 1: a size is negative");
  s = non_uniform_spec();
  s.layers[2].n_heads = 0;
  expect_invalid(s, "layer 2: a layer without query heads has no kv heads either");
  s = non_uniform_spec();
  s.layers[3].kind = model::LayerKind::kLinearAttention;
  expect_invalid(s, "layer 3: a linear-attention layer has no attention heads");
  s.layers[3].n_heads = s.layers[3].n_kv_heads = 0;
  expect_invalid(s, "layer 3: a linear-attention layer needs positive head counts");
  s.layers[3].deltanet = {2, 3, 16, 16, 4};
  expect_invalid(s, "layer 3: value heads must be a multiple of key heads");
}

TEST(Spec, ReadsTheFixtureQuirks) {
  const model::ModelSpec g2 = model::read_hf_config(test::fixture_dir("gemma2"));
  EXPECT_EQ(g2.attn_softcap, 50.0);
  EXPECT_EQ(g2.final_softcap, 30.0);
  EXPECT_EQ(g2.norm_weight_offset, 1.0);
  EXPECT_EQ(g2.layers[0].window, 8);
  EXPECT_EQ(g2.layers[1].window, 0);
  const model::ModelSpec g4 = model::read_hf_config(test::fixture_dir("gemma4_full"));
  EXPECT_EQ(g4.layers[4].kv_source, 3);  // the last earlier sliding layer
  EXPECT_EQ(g4.layers[5].kv_source, 2);
  EXPECT_EQ(g4.layers[2].rope.type, model::RopeType::kProportional);
  const model::ModelSpec llama = model::read_hf_config(test::fixture_dir("llama"));
  EXPECT_EQ(llama.layers[0].rope.type, model::RopeType::kLlama3);
  EXPECT_EQ(llama.layers[0].rope.original_context, 64);
  const model::ModelSpec granite = model::read_hf_config(test::fixture_dir("granite"));
  EXPECT_DOUBLE_EQ(granite.logit_divisor, 8.0);
  EXPECT_DOUBLE_EQ(granite.residual_scale, 0.22);
}

std::string spec_error(const json& c) {
  try {
    model::spec_from_hf_config(c);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Mixture-of-experts variants of the two bases are refused naming the MoE (Qwen3.5-35B-A3B,
// Gemma-4-26B-A4B); Gemma 4's bidirectional attention among image tokens ("vision", as
// Gemma-4-31B's config sets it) leaves text causal and is read, over all tokens it is refused.
TEST(Spec, TheBasesMixtureOfExpertsVariantsAreRefusedByName) {
  json qwen = read_json(test::fixture_dir("qwen3_5") + "/config.json");
  qwen["model_type"] = "qwen3_5_moe_text";
  qwen["num_experts"] = 8;
  json gemma = read_json(test::fixture_dir("gemma4") + "/config.json");
  gemma["enable_moe_block"] = true;
  for (const json& c : {qwen, gemma}) {
    try {
      model::spec_from_hf_config(c);
      FAIL() << "read a mixture-of-experts " << c["model_type"];
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
      EXPECT_NE(std::string(e.what()).find("mixture-of-experts"), std::string::npos) << e.what();
    }
  }
  gemma = read_json(test::fixture_dir("gemma4") + "/config.json");
  gemma["use_bidirectional_attention"] = "vision";
  EXPECT_EQ(model::spec_from_hf_config(gemma).n_layers(), 4);
  gemma["use_bidirectional_attention"] = "all";
  EXPECT_THROW(model::spec_from_hf_config(gemma), Error);
}

TEST(Spec, MistypedKeysAreNamed) {
  const json llama = read_json(test::fixture_dir("llama") + "/config.json");
  json c = llama;
  c["hidden_size"] = "64";
  EXPECT_NE(spec_error(c).find("key 'hidden_size' is not an integer"), std::string::npos) << spec_error(c);
  c = llama;
  c["rope_parameters"]["rope_type"] = "dynamic";
  EXPECT_NE(spec_error(c).find("unknown rope type 'dynamic'"), std::string::npos) << spec_error(c);
  c = llama;
  c["rope_parameters"].erase("original_max_position_embeddings");
  EXPECT_NE(spec_error(c).find("llama3 needs original_max_position_embeddings"), std::string::npos) << spec_error(c);
  c = read_json(test::fixture_dir("gemma2") + "/config.json");
  c["layer_types"][1] = 3;
  EXPECT_NE(spec_error(c).find("layer_types must be a list of strings"), std::string::npos) << spec_error(c);
}

// A multimodal Gemma 3 checkpoint's text_config lists only what differs from
// Gemma3TextConfig (this is google/gemma-3-4b-it's); the rest comes from the family defaults.
TEST(Spec, SparseTextConfigTakesTheFamilyDefaults) {
  const json c = json::parse(R"({"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
    "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                    "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                    "sliding_window": 1024}})");
  const model::ModelSpec s = model::spec_from_hf_config(c);
  EXPECT_EQ(s.vocab_size, 262208);
  EXPECT_EQ(s.layers[0].n_heads, 8);
  EXPECT_EQ(s.layers[0].head_dim, 256);
  EXPECT_EQ(s.activation, model::Activation::kGeluTanh);
  EXPECT_TRUE(s.tie_embeddings);
  EXPECT_EQ(s.layers[0].window, 1024);                          // local
  EXPECT_EQ(s.layers[0].rope.theta, 10000.0);                   // rope_local_base_freq
  EXPECT_EQ(s.layers[0].rope.type, model::RopeType::kDefault);  // no scaling on local layers
  EXPECT_EQ(s.layers[5].window, 0);                             // every 6th is global
  EXPECT_EQ(s.layers[5].rope.theta, 1e6);
  EXPECT_EQ(s.layers[5].rope.type, model::RopeType::kLinear);
  EXPECT_EQ(s.layers[5].rope.factor, 8.0);
}

}  // namespace
}  // namespace bespoke
