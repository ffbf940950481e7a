// `bespoke prune --targets`: bad input gets one line and exit 2 before any work (no output
// directory); a run on `bespoke data encoding` records prints the quality table with the
// encoding task's columns and writes them into quality.json and quality.svg.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/model/hf_config.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

std::string write_lines(const std::string& dir) {
  std::ofstream out(dir + "/data.jsonl");
  for (int i = 0; i < 20; ++i)
    out << nlohmann::json{{"text", "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog"}}
               .dump()
        << "\n";
  return dir + "/data.jsonl";
}

TEST(CliProgressive, BadInputGetsOneLineAndExit2BeforeAnyWork) {
  const std::string src = test::fixture_dir("llama"), dir = test::scratch_dir("progressive_bad");
  const std::string data = write_lines(dir), out = dir + "/out";
  const int64_t n = model::parameter_count(model::read_hf_config(src));
  const std::string half = std::to_string(n / 2), most = std::to_string(n * 9 / 10);
  const std::string prune = "prune " + src + " --method minitron --data " + data + " ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {prune + "--targets " + half + "," + most + " --recover-tokens 64", "targets must shrink"},
      {prune + "--targets 9M --recover-tokens 64", "not fewer than the source's " + std::to_string(n)},
      {prune + "--targets 'layers=3;layers=3' --recover-tokens 64", "not fewer than the layers=3 cut's"},
      {prune + "--targets 'layers=2;layers=3' --recover-tokens 64", "target layers: 3 is more than the model's 2"},
      {prune + "--targets ffn=999 --recover-tokens 64", "target ffn: 999 is more than the 160"},
      {prune + "--targets 1000 --recover-tokens 64", "parameters of the embeddings and output head alone"},
      {prune + "--targets 2X --recover-tokens 64", "--targets 2X: --params '2X' is not a parameter count"},
      {prune + "--recover-tokens 64 --target ffn=64", "--recover-tokens is an option of progressive runs"},
      {prune + "--eval-data " + data + " --target ffn=64", "--eval-data is an option of progressive runs"},
      {prune + "--targets " + half + " --recover-tokens 64 --target ffn=64", "not with --target or --params"},
      {prune + "--targets " + half + " --recover-tokens 64 --params " + half, "not with --target or --params"},
      {prune + "--targets " + half, "give --recover-tokens N"},
      {"prune " + src + " --method minitron --targets " + half + " --recover-tokens 64", "on --data FILE.jsonl"},
      {"prune " + src + " --method depth --data " + data + " --targets ffn=64 --recover-tokens 64",
       "--method depth cuts layers only"},
      {prune + "--targets " + half + " --recover-tokens 64 --dry-run", "--dry-run prints one cut's sizes"},
  };
  for (const auto& [args, needle] : cases) {
    const test::CommandResult r = test::run_bespoke(args + " --out " + out);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
}

// The Llama fixture on the demo's short prompt; random cuts need no calibration, so the run's
// time goes to the recoveries and to answering the held-out items (ids 10 and 20).
TEST(CliProgressive, EncodingRecordsAddTheTaskColumns) {
  const std::string src = test::fixture_dir("llama"), dir = test::scratch_dir("progressive_encoding");
  const std::string prompt =
      fs::path(BESPOKE_INTEROP).parent_path().parent_path().string() + "/configs/demo_prompt.txt";
  const std::string data = dir + "/data.jsonl", out = dir + "/run";
  ASSERT_EQ(test::run_bespoke("data encoding --n 20 --seed 3 --prompt-template " + prompt + " --out " + data).exit_code,
            0);
  const test::CommandResult r = test::run_bespoke(
      "prune " + src + " --method random --targets 'layers=3;layers=2,ffn=128' --recover-tokens 1024 --data " + data +
      " --seq-len 512 --batch 2 --lr 1e-3 --task-items 2 --max-new-tokens 256 --prompt-template " + prompt + " --out " +
      out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("EPR"), std::string::npos) << r.out;
  const nlohmann::json q = nlohmann::json::parse(std::ifstream(out + "/quality.json"));
  EXPECT_EQ(q["task"], "encoding");
  ASSERT_EQ(q["rows"].size(), 3u);
  for (const nlohmann::json& row : q["rows"]) {
    ASSERT_TRUE(row["task"].is_object()) << row.dump();
    EXPECT_EQ(row["task"]["n"], 2) << row.dump();
    for (const char* metric : {"valid_json", "epr", "np", "fr_pooled", "sc"})
      EXPECT_TRUE(row["task"].contains(metric)) << metric;
  }
  std::ifstream svg(out + "/quality.svg");
  const std::string chart{std::istreambuf_iterator<char>(svg), std::istreambuf_iterator<char>()};
  EXPECT_NE(chart.find("id=\"task-chart\""), std::string::npos);
}

}  // namespace
}  // namespace bespoke
