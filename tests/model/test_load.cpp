// Loading checkpoints: half-precision files, and tensors missing from or extra to a config.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/load.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

// The llama fixture with its weights rewritten by `edit`.
std::string llama_with(const std::function<void(std::vector<std::pair<std::string, torch::Tensor>>&)>& edit) {
  const std::string src = test::fixture_dir("llama"), dir = test::scratch_dir("load");
  fs::copy(src + "/config.json", dir + "/config.json");
  const io::Checkpoint ckpt(src);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const std::string& name : ckpt.names()) tensors.emplace_back(name, ckpt.get(name));
  edit(tensors);
  io::write_safetensors(dir + "/model.safetensors", tensors);
  return dir;
}

std::string load_error(const std::string& dir) {
  try {
    model::load_model(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Load, HalfPrecisionCheckpointsLoadTheirExactValues) {
  for (const torch::Dtype dtype : {torch::kBFloat16, torch::kFloat16}) {
    const std::string dir = llama_with([&](auto& tensors) {
      for (auto& [name, t] : tensors) t = t.to(dtype);
    });
    model::Transformer half = model::load_model(dir);
    model::Transformer full = model::load_model(test::fixture_dir("llama"));
    auto a = half->named_parameters(), b = full->named_parameters();
    for (const auto& item : b)
      EXPECT_TRUE(torch::equal(a[item.key()], item.value().to(dtype).to(torch::kFloat32))) << item.key();
  }
}

TEST(Load, MissingTensorIsNamed) {
  const std::string dir = llama_with([](auto& tensors) {
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                 [](const auto& p) { return p.first == "model.layers.2.self_attn.v_proj.weight"; }),
                  tensors.end());
  });
  EXPECT_NE(load_error(dir).find("no tensor 'model.layers.2.self_attn.v_proj.weight'"), std::string::npos)
      << load_error(dir);
}

TEST(Load, UnexpectedTensorIsNamed) {
  const std::string dir = llama_with(
      [](auto& tensors) { tensors.emplace_back("model.layers.0.self_attn.o_proj.bias", torch::zeros({64})); });
  const std::string err = load_error(dir);
  EXPECT_NE(err.find("unexpected tensor 'model.layers.0.self_attn.o_proj.bias'"), std::string::npos) << err;
}

// Qwen 3.5's published checkpoints are the multimodal model: the language model under
// model.language_model., beside a vision tower (model.visual.) and a multi-token-prediction
// block (mtp.), which the text model leaves alone, as transformers' Qwen3_5ForCausalLM does.
TEST(Load, Qwen3_5SkipsItsVisionTowerAndPredictionBlock) {
  const std::string src = test::fixture_dir("qwen3_5"), dir = test::scratch_dir("q35_vlm");
  fs::copy(src + "/config.json", dir + "/config.json");
  const io::Checkpoint ckpt(src);
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"model.visual.patch_embed.proj.weight", torch::ones({8, 3})}, {"mtp.fc.weight", torch::ones({64, 128})}};
  for (const std::string& name : ckpt.names()) {
    const bool lm = name.rfind("model.", 0) == 0;
    tensors.emplace_back(lm ? "model.language_model." + name.substr(6) : name, ckpt.get(name));
  }
  io::write_safetensors(dir + "/model.safetensors", tensors);
  model::Transformer net = model::load_model(dir), want = model::load_model(src);
  auto a = net->named_parameters();
  for (const auto& item : want->named_parameters())
    EXPECT_TRUE(torch::equal(a[item.key()], item.value())) << item.key();
}

TEST(Load, UnusedKeysAndValuesOfSharingLayersAreIgnored) {
  // Gemma 4 checkpoints may still carry k/v weights for the layers that reuse another's.
  const std::string src = test::fixture_dir("gemma4_full"), dir = test::scratch_dir("g4");
  fs::copy(src + "/config.json", dir + "/config.json");
  const io::Checkpoint ckpt(src);
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"model.layers.5.self_attn.k_proj.weight", torch::ones({64, 64})},
      {"model.layers.5.self_attn.v_proj.weight", torch::ones({64, 64})}};
  for (const std::string& name : ckpt.names()) tensors.emplace_back(name, ckpt.get(name));
  io::write_safetensors(dir + "/model.safetensors", tensors);
  model::Transformer net = model::load_model(dir);
  io::SafetensorsFile ref(src + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  EXPECT_LT(test::max_abs_diff(net->forward(ref.get("input_ids")).logits, ref.get("logits")), 1e-4);
}

TEST(Load, MultimodalWrapperLoadsItsLanguageModel) {
  const std::string src = test::fixture_dir("gemma3"), dir = test::scratch_dir("mm");
  const io::Checkpoint ckpt(src);
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"model.vision_tower.patch_embed.weight", torch::ones({4, 4})},
      {"model.multi_modal_projector.norm.weight", torch::ones({4})}};
  for (const std::string& name : ckpt.names())
    tensors.emplace_back("model.language_model." + name.substr(std::strlen("model.")), ckpt.get(name));
  io::write_safetensors(dir + "/model.safetensors", tensors);
  nlohmann::json text = nlohmann::json::parse(std::ifstream(src + "/config.json"));
  const nlohmann::json wrapper = {{"architectures", {"Gemma3ForConditionalGeneration"}},
                                  {"model_type", "gemma3"},
                                  {"text_config", text},
                                  {"vision_config", {{"model_type", "siglip_vision_model"}}}};
  std::ofstream(dir + "/config.json") << wrapper.dump();
  model::Transformer net = model::load_model(dir);
  io::SafetensorsFile ref(src + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  EXPECT_LT(test::max_abs_diff(net->forward(ref.get("input_ids")).logits, ref.get("logits")), 1e-4);
}

}  // namespace
}  // namespace bespoke
