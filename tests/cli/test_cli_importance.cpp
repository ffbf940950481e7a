// `bespoke importance`: writes importance.safetensors, .json and .html, which read back to what
// the library computes on the same calibration rows; the page draws in headless Chromium; a file
// from a model of another shape, a missing or corrupt file, or one file of another run is
// refused in one line; bad input is one line and exit 2 (usage mistakes 64) before any work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/importance_io.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

std::string calibration_data(const std::string& dir) {
  const std::string path = dir + "/data.jsonl";
  std::ofstream out(path);
  for (const char* text : {"the quick brown fox jumps over the lazy dog", "pack my box with five dozen liquor jugs",
                           "how vexingly quick daft zebras jump", "sphinx of black quartz, judge my vow"})
    out << nlohmann::json{{"text", text}}.dump() << "\n";
  return path;
}

const char* const kArgs = " --seq-len 8 --batch 2";

// Expects `code` and exactly one line on stderr containing `needle`.
void expect_refused(const test::CommandResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

// Error(kInput) from `read` whose message holds `needle`.
void expect_input_error(const std::function<void()>& read, const std::string& needle) {
  try {
    read();
    ADD_FAILURE() << "no error, expected '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(CliImportance, WritesThreeFilesThatReadBackToTheLibrarysScores) {
  const std::string dir = test::scratch_dir("cli-importance"), model = test::fixture_dir("llama");
  const std::string data = calibration_data(dir), out = dir + "/imp";
  const test::CommandResult r = test::run_bespoke("importance " + model + " --data " + data + kArgs + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"importance.safetensors", "importance.json", "importance.html"})
    EXPECT_TRUE(fs::is_regular_file(out + "/" + f)) << f;

  model::Transformer net = model::load_model(model);
  const text::Encoder encoder(model);
  prune::CalibrationOptions o;
  o.seq_len = 8;
  o.batch = 2;
  const prune::Importance want =
      prune::activation_importance(net, prune::calibration_batches(train::read_examples(data, encoder), o, data));
  const prune::Importance got = prune::read_importance(out, net->spec());
  EXPECT_EQ(got.method, "minitron");
  EXPECT_EQ(got.tokens, want.tokens);
  EXPECT_FALSE(got.skip_loss.defined());
  for (int64_t i = 0; i < net->spec().n_layers(); ++i) {
    EXPECT_TRUE(torch::allclose(got.heads[i], want.heads[i], 1e-6)) << i;
    EXPECT_TRUE(torch::allclose(got.kv[i], want.kv[i], 1e-6)) << i;
    EXPECT_TRUE(torch::allclose(got.ffn[i], want.ffn[i], 1e-6)) << i;
    EXPECT_TRUE(torch::allclose(got.entropy[i], want.entropy[i], 1e-6)) << i;
  }
  for (const auto& [a, b] : {std::pair{got.layers, want.layers},
                             {got.hidden, want.hidden},
                             {got.residual, want.residual},
                             {got.drift, want.drift}})
    EXPECT_TRUE(torch::allclose(a, b, 1e-6));

  const nlohmann::json j = nlohmann::json::parse(std::ifstream(out + "/importance.json"));
  EXPECT_EQ(j["tokens"], want.tokens);
  ASSERT_EQ(j["layers"].size(), 4u);
  EXPECT_EQ(j["rankings"]["layers"][0], want.layers.argmax().item<int64_t>());
  EXPECT_EQ(j["rankings"]["ffn"][2][0], want.ffn[2].argmax().item<int64_t>());
  EXPECT_EQ(j["rankings"]["heads"][1].size(), 2u) << "two KV groups, their heads ranked within each";
}

TEST(CliImportance, TaylorWithSkipLossAndThePageInChromium) {
  const std::string dir = test::scratch_dir("cli-importance"), out = dir + "/imp";
  const test::CommandResult r = test::run_bespoke("importance " + test::fixture_dir("qwen3") + " --data " +
                                                  calibration_data(dir) + kArgs + " --taylor --skip-loss --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const prune::Importance got = prune::read_importance(out, model::read_hf_config(test::fixture_dir("qwen3")));
  EXPECT_EQ(got.method, "taylor");
  ASSERT_TRUE(got.skip_loss.defined());
  EXPECT_EQ(got.skip_loss.numel(), 4);

  const std::vector<std::string> charts = {"layer-chart",     "skip-chart", "head-heatmap",
                                           "entropy-heatmap", "ffn-chart",  "hidden-chart"};
  std::string ids;
  for (const std::string& id : charts) ids += " " + id;
  const test::CommandResult page = test::run_command("node " + std::string(BESPOKE_INTEROP) + "/check_html.mjs " + out +
                                                     "/importance.html" + ids + " profile-table");
  ASSERT_EQ(page.exit_code, 0) << page.out << page.err;
  const nlohmann::json result = nlohmann::json::parse(page.out);
  ASSERT_EQ(result["svgs"].size(), charts.size());
  for (size_t i = 0; i < charts.size(); ++i) {
    EXPECT_EQ(result["svgs"][i]["id"], charts[i]);
    EXPECT_GT(result["svgs"][i]["shapes"].get<int>(), 0) << charts[i];
  }
  EXPECT_GT(result["elements"]["profile-table"]["height"].get<double>(), 0);
}

TEST(CliImportance, RefusesAFileFromAnotherModelARunsMixAndCorruptFiles) {
  const std::string dir = test::scratch_dir("cli-importance"), data = calibration_data(dir);
  const std::string a = dir + "/a", b = dir + "/b";
  ASSERT_EQ(test::run_bespoke("importance " + test::fixture_dir("llama") + " --data " + data + kArgs + " --out " + a)
                .exit_code,
            0);
  ASSERT_EQ(test::run_bespoke("importance " + test::fixture_dir("llama") + " --data " + data + kArgs +
                              " --samples 2 --out " + b)
                .exit_code,
            0);
  // c: other rows, as many tokens as b's, so only the scores tell the two runs apart.
  std::vector<std::string> lines;
  std::ifstream in(data);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::ofstream reversed(dir + "/reversed.jsonl");
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) reversed << *it << "\n";
  reversed.close();
  const std::string c = dir + "/c";
  ASSERT_EQ(test::run_bespoke("importance " + test::fixture_dir("llama") + " --data " + dir + "/reversed.jsonl" +
                              kArgs + " --samples 2 --out " + c)
                .exit_code,
            0);
  const model::ModelSpec llama = model::read_hf_config(test::fixture_dir("llama"));
  EXPECT_EQ(prune::read_importance(c, llama).tokens, prune::read_importance(b, llama).tokens);
  fs::copy_file(b + "/importance.safetensors", c + "/importance.safetensors", fs::copy_options::overwrite_existing);
  expect_input_error([&] { prune::read_importance(c, llama); }, "another run");
  expect_input_error([&] { prune::read_importance(a, model::read_hf_config(test::fixture_dir("qwen3"))); },
                     "importance file from another model");
  fs::copy_file(b + "/importance.json", a + "/importance.json", fs::copy_options::overwrite_existing);
  expect_input_error([&] { prune::read_importance(a, llama); }, "another run");
  fs::resize_file(b + "/importance.safetensors", fs::file_size(b + "/importance.safetensors") / 2);
  expect_input_error([&] { prune::read_importance(b, llama); }, "importance.safetensors");
  fs::remove(b + "/importance.json");
  expect_input_error([&] { prune::read_importance(b, llama); }, "importance.json: no such file");
  std::ofstream(a + "/importance.json") << "{\"model\": ";
  expect_input_error([&] { prune::read_importance(a, llama); }, "not valid JSON");
}

TEST(CliImportance, BadInputIsOneLineBeforeAnyWork) {
  const std::string dir = test::scratch_dir("cli-importance"), model = test::fixture_dir("llama");
  const std::string data = calibration_data(dir), out = dir + "/never";
  const std::string cmd = "importance " + model + " --data " + data + kArgs + " --out " + out;

  std::ofstream(dir + "/empty.jsonl") << nlohmann::json{{"text", ""}}.dump() << "\n";
  expect_refused(test::run_bespoke("importance " + model + " --data " + dir + "/empty.jsonl --out " + out), 2,
                 "fewer than one row");
  const std::string weightless = dir + "/weightless";
  fs::create_directories(weightless);
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(model + "/" + f, weightless + "/" + f);
  expect_refused(test::run_bespoke("importance " + weightless + " --data " + data + " --out " + out), 2,
                 "no model.safetensors");
  expect_refused(test::run_bespoke("importance " + model + " --data " + dir + "/absent.jsonl --out " + out), 2,
                 "absent.jsonl");
  expect_refused(test::run_bespoke("importance " + model + " --data " + data + " --seq-len 1 --out " + out), 2,
                 "--seq-len");
  expect_refused(test::run_bespoke(cmd + " --device tpu"), 64, "tpu");  // usage, as for every command
  EXPECT_EQ(test::run_bespoke(cmd + " --dtype f8").exit_code, 64);
  EXPECT_FALSE(fs::exists(out)) << "nothing written";
}

}  // namespace
}  // namespace bespoke
