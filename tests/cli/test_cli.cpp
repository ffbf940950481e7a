// The `bespoke` binary: inspect/logits/generate on fixtures, and bad input answered with one
// line on stderr naming the file and the problem, and exit code 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/io/safetensors.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

// A copy of the llama fixture that a test may damage.
std::string copy_of_llama() {
  const std::string dir = test::scratch_dir("model");
  for (const auto& entry : fs::directory_iterator(test::fixture_dir("llama")))
    fs::copy(entry.path(), dir + "/" + entry.path().filename().string());
  return dir;
}

void edit_config(const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json config = nlohmann::json::parse(std::ifstream(dir + "/config.json"));
  edit(config);
  std::ofstream(dir + "/config.json") << config.dump(2);
}

// Expects exit code 2 and exactly one line on stderr containing every needle.
void expect_input_error(const test::CommandResult& r, const std::vector<std::string>& needles) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const std::string& n : needles)
    EXPECT_NE(r.err.find(n), std::string::npos) << "missing '" << n << "' in: " << r.err;
}

TEST(Cli, InspectJsonReportsTheExactParameterCount) {
  for (const std::string family : {"llama", "phi3", "gemma4_full"}) {
    const test::CommandResult r = test::run_bespoke("inspect " + test::fixture_dir(family) + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["n_params"].get<int64_t>(), io::Checkpoint(test::fixture_dir(family)).element_count()) << family;
    EXPECT_EQ(j["vocab_size"], 700);
    EXPECT_EQ(j["hidden_size"], 64);
    ASSERT_FALSE(j["layers"].empty());
    for (const char* key : {"kind", "n_head", "n_kv_head", "head_dim", "ffn"})
      EXPECT_TRUE(j["layers"][0].contains(key)) << key;
  }
  const nlohmann::json g4 =
      nlohmann::json::parse(test::run_bespoke("inspect " + test::fixture_dir("gemma4_full") + " --json").out);
  EXPECT_EQ(g4["family"], "gemma4");
  EXPECT_EQ(g4["layers"][2]["head_dim"], 32);
  EXPECT_EQ(g4["layers"][0]["head_dim"], 16);
}

TEST(Cli, InspectTablePrintsEveryLayer) {
  const test::CommandResult r = test::run_bespoke("inspect " + test::fixture_dir("gemma2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("family gemma2"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2 + 4) << r.out;
}

TEST(Cli, LogitsMatchTheReference) {
  const std::string dir = test::fixture_dir("qwen3");
  const std::string out = test::scratch_dir("logits") + "/logits.safetensors";
  const test::CommandResult r =
      test::run_bespoke("logits " + dir + " --ids " + dir + "/reference.safetensors --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  io::SafetensorsFile got(out), ref(dir + "/reference.safetensors");
  EXPECT_EQ(got.entries().at("logits").dtype, "F32");
  EXPECT_LT(test::max_abs_diff(got.get("logits"), ref.get("logits")), 1e-4);
}

TEST(Cli, GeneratePrintsTheGreedyTokensOfRowZero) {
  const std::string dir = test::fixture_dir("gemma3");
  const test::CommandResult r =
      test::run_bespoke("generate " + dir + " --ids " + dir + "/reference.safetensors --max-new 16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  io::SafetensorsFile ref(dir + "/reference.safetensors");
  const int64_t T = ref.get("input_ids").size(1);
  const torch::Tensor expected = ref.get("greedy_ids")[0].narrow(0, T, 16).contiguous();
  const std::vector<int64_t> want(expected.data_ptr<int64_t>(), expected.data_ptr<int64_t>() + 16);
  EXPECT_EQ(nlohmann::json::parse(r.out).get<std::vector<int64_t>>(), want);
}

TEST(Cli, TokenizeAndDetokenize) {
  const std::string dir = test::fixture_dir("tokenizer_spm");
  const test::CommandResult r = test::run_bespoke("tokenize " + dir + " --text 'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[1,427,302,500,496,427,349,444,338,330]\n");  // reference_encodings.json[0]
  const test::CommandResult d =
      test::run_bespoke("detokenize " + dir + " --ids 1,427,302,500,496,427,349,444,338,330 --skip-special");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "Hello world\n");  // without <s>, the decoder's Strip drops the leading space
  EXPECT_EQ(test::run_bespoke("detokenize " + dir + " --ids 1,x,3").exit_code, 64);
  expect_input_error(test::run_bespoke("detokenize " + dir + " --ids 1,99999"), {"99999", "not in the vocabulary"});
  expect_input_error(test::run_bespoke("tokenize " + dir + " --text \"$(printf '\\377')\""), {"not valid UTF-8"});
  expect_input_error(test::run_bespoke("tokenize " + test::scratch_dir("empty") + " --text hi"), {"no tokenizer.json"});
}

TEST(Cli, ChatFormat) {
  const std::string dir = test::fixture_dir("tokenizer_bpe"), scratch = test::scratch_dir("chat");
  std::ofstream(scratch + "/m.json")
      << R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}])";
  test::CommandResult r =
      test::run_bespoke("chat-format " + dir + " --messages " + scratch + "/m.json --add-generation-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n<|im_start|>assistant\n");
  r = test::run_bespoke("chat-format " + dir + " --messages " + scratch + "/m.json --chat-template gemma3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nYo<end_of_turn>\n");  // no bos_token configured
  expect_input_error(
      test::run_bespoke("chat-format " + dir + " --messages " + scratch + "/m.json --chat-template nope"),
      {"unknown chat template 'nope'", "gemma4"});
  std::ofstream(scratch + "/bad.json") << R"([{"role": "user"}])";
  expect_input_error(test::run_bespoke("chat-format " + dir + " --messages " + scratch + "/bad.json"), {"\"content\""});
}

TEST(Cli, MissingWeightsFile) {
  const std::string dir = copy_of_llama();
  fs::remove(dir + "/model.safetensors");
  expect_input_error(
      test::run_bespoke("logits " + dir + " --ids " + dir + "/reference.safetensors --out " + dir + "/o.safetensors"),
      {dir, "no model.safetensors"});
}

TEST(Cli, TruncatedWeightsFile) {
  const std::string dir = copy_of_llama();
  fs::resize_file(dir + "/model.safetensors", fs::file_size(dir + "/model.safetensors") / 2);
  expect_input_error(test::run_bespoke("generate " + dir + " --ids " + dir + "/reference.safetensors"),
                     {dir + "/model.safetensors", "truncated"});
}

TEST(Cli, CorruptHeader) {
  const std::string dir = copy_of_llama();
  std::fstream f(dir + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(8);
  f.write("#!garbage", 9);
  f.close();
  expect_input_error(test::run_bespoke("generate " + dir + " --ids " + dir + "/reference.safetensors"),
                     {dir + "/model.safetensors", "not valid JSON"});
}

TEST(Cli, HeaderThatLiesAboutSizes) {
  const std::string dir = copy_of_llama();
  const io::Checkpoint ckpt(dir);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const std::string& name : ckpt.names()) tensors.emplace_back(name, ckpt.get(name));
  io::write_safetensors(dir + "/model.safetensors", tensors);
  // Rewrite one shape in place with one of the same length but twice the elements.
  std::fstream f(dir + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t at = bytes.find("\"shape\":[64]");
  ASSERT_NE(at, std::string::npos);
  f.seekp(at);
  f << "\"shape\":[32]";
  f.close();
  expect_input_error(test::run_bespoke("generate " + dir + " --ids " + dir + "/reference.safetensors"),
                     {dir + "/model.safetensors", "needs 128 bytes but data_offsets span 256"});
}

TEST(Cli, UnknownModelTypeListsTheSupportedOnes) {
  const std::string dir = copy_of_llama();
  edit_config(dir, [](nlohmann::json& c) { c["model_type"] = "mamba"; });
  expect_input_error(test::run_bespoke("inspect " + dir),
                     {dir + "/config.json", "'mamba'", "llama", "qwen3", "gemma4_text", "granite"});
}

TEST(Cli, ConfigThatDisagreesWithTheWeights) {
  const std::string dir = copy_of_llama();
  edit_config(dir, [](nlohmann::json& c) { c["intermediate_size"] = 128; });
  expect_input_error(test::run_bespoke("generate " + dir + " --ids " + dir + "/reference.safetensors"),
                     {dir + "/model.safetensors", "model.layers.0.mlp.gate_proj.weight", "[160,64] != spec [128,64]"});
}

TEST(Cli, ConfigThatIsNotJson) {
  const std::string dir = copy_of_llama();
  std::ofstream(dir + "/config.json") << "{ not json";
  expect_input_error(test::run_bespoke("inspect " + dir), {dir + "/config.json", "not valid JSON"});
}

// JSON that parses but has a shape a reader takes for granted (export reads text_config as an
// object) is bad input: exit 2 and one line, not the 70 of a bug.
TEST(Cli, ConfigOfTheWrongShape) {
  const std::string dir = copy_of_llama();
  edit_config(dir, [](nlohmann::json& c) { c["text_config"] = "not an object"; });
  expect_input_error(test::run_bespoke("export " + dir + " --to hf --out " + dir + "/hf"), {});
}

// An output path below a regular file fails inside std::filesystem (creating the directory):
// bad input too, exit 2 and one line naming the path.
TEST(Cli, OutputPathInsideAFile) {
  const std::string dir = copy_of_llama();
  expect_input_error(test::run_bespoke("export " + dir + " --to hf --out " + dir + "/config.json/hf"),
                     {dir + "/config.json/hf", "Not a directory"});
}

TEST(Cli, IdsOfTheWrongTypeOrRange) {
  const std::string dir = copy_of_llama();
  io::write_safetensors(dir + "/f.safetensors", {{"input_ids", torch::zeros({1, 4})}});
  expect_input_error(test::run_bespoke("generate " + dir + " --ids " + dir + "/f.safetensors"),
                     {dir + "/f.safetensors", "expected I64"});
  io::write_safetensors(dir + "/big.safetensors", {{"input_ids", torch::full({1, 4}, 700, torch::kInt64)}});
  expect_input_error(test::run_bespoke("generate " + dir + " --ids " + dir + "/big.safetensors"), {"outside [0, 700)"});
  expect_input_error(test::run_bespoke("generate " + dir + " --ids " + dir + "/big.safetensors --tensor ids"),
                     {"no tensor 'ids'"});
  io::write_safetensors(dir + "/empty.safetensors", {{"input_ids", torch::zeros({0, 4}, torch::kInt64)}});
  expect_input_error(test::run_bespoke("generate " + dir + " --ids " + dir + "/empty.safetensors"), {"batch, seq > 0"});
}

TEST(Cli, HelpAndUsageErrors) {
  for (const char* cmd : {"inspect", "logits", "generate", "tokenize", "detokenize", "chat-format"}) {
    const test::CommandResult r = test::run_bespoke(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("MODEL_DIR"), std::string::npos) << r.out;
  }
  EXPECT_EQ(test::run_bespoke("frobnicate").exit_code, 64);
  EXPECT_EQ(test::run_bespoke("logits " + test::fixture_dir("llama")).exit_code, 64);  // no --ids
  const std::string generate =
      "generate " + test::fixture_dir("llama") + " --ids " + test::fixture_dir("llama") + "/reference.safetensors";
  EXPECT_EQ(test::run_bespoke(generate + " --device tpu").exit_code, 64);
  if (!torch::cuda::is_available()) EXPECT_EQ(test::run_bespoke(generate + " --device cuda").exit_code, 64);
#if TORCH_VERSION_MAJOR < 2
  EXPECT_EQ(test::run_bespoke(generate + " --dtype f16").exit_code, 64);
#endif
}

}  // namespace
}  // namespace bespoke
