// GGUF read back by Bespoke: every exported family loads as a model whose logits equal the
// source's; F32 round trips are lossless where no transform rounds (Gemma's 1 + w does);
// quantized files load; bad files are refused with the file named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/io/gguf_writer.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/load.h"
#include "test_util.h"

namespace bespoke {
namespace {

std::string exported(const std::string& family, io::GgmlType type = io::GgmlType::kF32) {
  model::Transformer net = model::load_model(test::fixture_dir(family));
  const std::string path = test::scratch_dir("rt") + "/" + family + ".gguf";
  exporter::export_gguf(net, test::fixture_dir(family), path, type);
  return path;
}

class GgufRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufRoundTrip, LogitsFromTheGgufEqualTheSource) {
  const std::string family = GetParam();
  model::Transformer from_gguf = model::load_model(exported(family));
  model::Transformer source = model::load_model(test::fixture_dir(family));
  io::SafetensorsFile ref(test::fixture_dir(family) + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  const torch::Tensor a = from_gguf->forward(ref.get("input_ids")).logits,
                      b = source->forward(ref.get("input_ids")).logits;
  EXPECT_LT(test::max_abs_diff(a, ref.get("logits")), 1e-4);
  EXPECT_LT(test::max_abs_diff(a, b), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Families, GgufRoundTrip,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "gemma4", "phi3",
                                           "olmo2", "granite", "qwen3_5"),
                         [](const auto& info) { return info.param; });

TEST(GgufRoundTrip, F32IsLosslessBackToTheHfCheckpoint) {
  for (const char* family : {"llama", "qwen2", "qwen3", "gemma4", "olmo2", "granite"}) {
    model::Transformer net = model::load_model(exported(family));
    const io::Checkpoint ckpt(test::fixture_dir(family));
    for (const auto& [name, t] : model::hf_state_dict(net))
      EXPECT_TRUE(torch::equal(t, ckpt.get(name))) << family << " " << name;
  }
}

// Pruned models come back from their per-layer architectures (deci, openelm) weight for weight.
TEST(GgufRoundTrip, PerLayerArchitecturesReadBackExactly) {
  for (const char* family : {"llama", "qwen3"}) {
    model::Transformer cut = test::cut_fixture(family, {4, 2, 3, 1}, {2, 1, 1, 1}, {160, 64, 96, 32});
    const std::string path = test::scratch_dir("rt") + "/cut.gguf";
    exporter::export_gguf(cut, test::fixture_dir(family), path, io::GgmlType::kF32);
    model::Transformer back = model::load_model(path);
    auto want = cut->named_parameters();
    for (const auto& item : back->named_parameters())
      EXPECT_TRUE(torch::equal(item.value(), want[item.key()])) << family << " " << item.key();
  }
}

// Layers without attention (0 heads) or without an MLP (0 FFN units), as Puzzle's no-op blocks:
// they hold no tensors, and the deci file reads back to the same logits. Layer 1 has only an
// MLP, layer 2 neither, layer 3 only attention (written with a zero 1-wide FFN, since llama.cpp's
// deci drops the attention of a layer whose n_ff is 0).
TEST(GgufRoundTrip, AttentionFreeAndMlpFreeLayersRoundTripThroughDeci) {
  for (const char* family : {"llama", "granite"}) {
    model::Transformer cut = test::cut_fixture(family, {4, 0, 0, 3}, {2, 0, 0, 1}, {160, 64, 0, 0});
    int64_t elements = 0, layer2 = 0;
    for (const auto& item : cut->named_parameters()) {
      elements += item.value().numel();
      layer2 += item.key().rfind("blk.2.", 0) == 0;
      EXPECT_EQ(item.key().find("blk.1.attn"), std::string::npos) << item.key();
      EXPECT_EQ(item.key().find("blk.3.ffn"), std::string::npos) << item.key();
    }
    EXPECT_EQ(layer2, 0) << family;
    EXPECT_EQ(model::parameter_count(cut->spec()), elements) << family;
    const std::string path = test::scratch_dir("rt") + "/noop.gguf";
    exporter::export_gguf(cut, test::fixture_dir(family), path, io::GgmlType::kF32);
    model::Transformer back = model::load_model(path);
    const model::ModelSpec& s = back->spec();
    EXPECT_EQ(s.layers[1].n_heads, 0);
    EXPECT_EQ(s.layers[2].n_heads, 0);
    EXPECT_EQ(s.layers[2].ffn_dim, 0);
    EXPECT_EQ(s.layers[3].ffn_dim, 1);  // the zero stub
    io::SafetensorsFile ref(test::fixture_dir(family) + "/reference.safetensors");
    torch::NoGradGuard no_grad;
    const torch::Tensor ids = ref.get("input_ids");
    const double d = test::max_abs_diff(back->forward(ids).logits, cut->forward(ids).logits);
    EXPECT_LT(d, family == std::string("llama") ? 1e-5 : 1e-4) << family;
    std::cout << family << " no-op layers through deci: max |logit diff| = " << d << "\n";
  }
}

TEST(GgufRoundTrip, ShapesWithoutAttentionAreCheckedNamingTheLayer) {
  model::ModelSpec s = test::cut_fixture("llama", {4, 0, 0, 3}, {2, 0, 0, 1}, {160, 64, 0, 0})->spec();
  EXPECT_NO_THROW(model::validate(s));
  s.layers[1].n_kv_heads = 1;  // kv heads without query heads
  try {
    model::validate(s);
    FAIL() << "accepted kv heads without query heads";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1"), std::string::npos) << e.what();
  }
  s.layers[1].n_kv_heads = 0;
  s.layers[0].n_heads = 0, s.layers[0].n_kv_heads = 0;  // deci's layer 0 sets the head size
  model::Transformer net(s);
  try {
    exporter::export_gguf(net, test::fixture_dir("llama"), test::scratch_dir("rt") + "/l0.gguf", io::GgmlType::kF32);
    FAIL() << "exported a deci file whose first layer has no heads";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 0"), std::string::npos) << e.what();
  }
}

// A deci file written here, as another converter would: layer 1 has `ffn1` FFN units.
std::string foreign_deci(int64_t ffn1) {
  model::ModelSpec s = model::load_model(test::fixture_dir("llama"))->spec();
  s.layers.resize(2);
  s.layers[1].ffn_dim = ffn1;
  model::Transformer net(s);
  model::init_random(net);
  io::GgufWriter out;
  out.add_string("general.architecture", "deci");
  out.add_uint32("deci.block_count", 2);
  out.add_uint32("deci.embedding_length", uint32_t(s.hidden_size));
  out.add_uint32("deci.attention.key_length", uint32_t(s.layers[0].head_dim));
  out.add_int32_array("deci.feed_forward_length", {int32_t(s.layers[0].ffn_dim), int32_t(ffn1)});
  out.add_int32_array("deci.attention.head_count", {int32_t(s.layers[0].n_heads), int32_t(s.layers[1].n_heads)});
  out.add_int32_array("deci.attention.head_count_kv",
                      {int32_t(s.layers[0].n_kv_heads), int32_t(s.layers[1].n_kv_heads)});
  for (const auto& p : net->named_parameters()) out.add_tensor(p.key(), p.value().detach(), io::GgmlType::kF32);
  const std::string path = test::scratch_dir("rt") + "/foreign-" + std::to_string(ffn1) + ".gguf";
  out.write(path);
  return path;
}

// llama.cpp's deci skips a layer with attention heads and no FFN whole, attention included,
// which no Bespoke spec computes: such a file is refused naming the layer; with an FFN it reads.
TEST(GgufRoundTrip, DeciLayerWithAttentionAndNoFfnIsRefused) {
  EXPECT_EQ(model::load_model(foreign_deci(8))->spec().layers[1].ffn_dim, 8);
  try {
    model::load_model(foreign_deci(0));
    FAIL() << "read a deci layer with attention and no FFN";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("layer 1 has attention heads and no FFN"), std::string::npos) << e.what();
  }
}

TEST(GgufRoundTrip, QuantizedFilesLoad) {
  io::SafetensorsFile ref(test::fixture_dir("qwen3") + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  for (const io::GgmlType type : {io::GgmlType::kF16, io::GgmlType::kBF16, io::GgmlType::kQ8_0}) {
    model::Transformer net = model::load_model(exported("qwen3", type));
    const double d = test::max_abs_diff(net->forward(ref.get("input_ids")).logits, ref.get("logits"));
    EXPECT_LT(d, 0.1) << static_cast<int>(type);
  }
}

TEST(GgufRoundTrip, CliReadsGgufLikeAModelDirectory) {
  const std::string gguf = exported("gemma3");
  test::CommandResult r = test::run_bespoke("inspect " + gguf + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["metadata"]["general.architecture"], "gemma3");
  EXPECT_EQ(j["model"]["n_params"].get<int64_t>(), io::Checkpoint(test::fixture_dir("gemma3")).element_count());
  const std::string out = test::scratch_dir("cli") + "/l.safetensors";
  r = test::run_bespoke("logits " + gguf + " --ids " + test::fixture_dir("gemma3") + "/reference.safetensors --out " +
                        out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(
      test::max_abs_diff(io::SafetensorsFile(out).get("logits"),
                         io::SafetensorsFile(test::fixture_dir("gemma3") + "/reference.safetensors").get("logits")),
      1e-4);
}

TEST(GgufRoundTrip, BadFilesAreRefused) {
  const std::string gguf = exported("llama");
  std::filesystem::resize_file(gguf, std::filesystem::file_size(gguf) / 2);
  const test::CommandResult r = test::run_bespoke("inspect " + gguf);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find(gguf), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  // A Q8_0 row that is not whole 32-value blocks (the fuzz seed's d.weight cut to 31 values).
  std::ifstream in(std::string(BESPOKE_FIXTURES) + "/../../fuzz/corpus/gguf/seed.gguf", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t ne = bytes.find("d.weight") + 8 + 4;  // name, then a u32 dim count, then ne[0]
  ASSERT_EQ(bytes[ne], 32);
  bytes[ne] = 31;
  const std::string partial = test::scratch_dir("partial") + "/q8.gguf";
  std::ofstream(partial, std::ios::binary) << bytes;
  const test::CommandResult q = test::run_bespoke("inspect " + partial);
  EXPECT_EQ(q.exit_code, 2);
  EXPECT_NE(q.err.find("not whole blocks of 32"), std::string::npos) << q.err;
  // An existing output is kept unless --force.
  const std::string existing = test::scratch_dir("keep") + "/x.gguf";
  std::ofstream(existing) << "keep";
  const test::CommandResult e =
      test::run_bespoke("export " + test::fixture_dir("llama") + " --to gguf --out " + existing);
  EXPECT_EQ(e.exit_code, 64);
  EXPECT_EQ(std::filesystem::file_size(existing), 4u);
}

}  // namespace
}  // namespace bespoke
