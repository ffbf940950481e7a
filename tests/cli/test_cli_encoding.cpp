// The encoding task's commands end to end: `data encoding` writes chat JSONL whose golds score
// perfectly under `eval encoding --predictions`; `eval encoding --model --constrained` on a
// random-weight fixture gives schema-compliant records; `gate` exits 0 for go and 1 for no-go;
// bad input is one line and exit 2, and outputs are not overwritten without --force.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace bespoke {
namespace {

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(std::ifstream(path));
}

TEST(CliEncoding, SelfConsistencyGeneratedGoldsScorePerfectlyAsPredictions) {
  const std::string dir = test::scratch_dir("cli-encoding");
  const std::string data = dir + "/data.jsonl", report = dir + "/report.json";
  test::CommandResult r = test::run_bespoke("data encoding --n 60 --seed 7 --out " + data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The same file is both the items and, through gold_output, the predictions.
  r = test::run_bespoke("eval encoding --data " + data + " --predictions " + data + " --out " + report);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = read_json(report);
  EXPECT_EQ(j["n"], 60);
  EXPECT_EQ(j["valid_json"], 60);
  EXPECT_EQ(j["metrics"]["epr"], 1.0);
  EXPECT_EQ(j["metrics"]["np"], 1.0);
  EXPECT_EQ(j["metrics"]["sc"], 1.0);
  EXPECT_EQ(j["metrics"]["ted_failures"], 0);
  EXPECT_EQ(j["metrics"]["mih_pass"], j["metrics"]["mih_total"]);
  EXPECT_EQ(j["metrics"]["ccs_pass"], j["metrics"]["ccs_pairs"]);
  EXPECT_GT(j["metrics"]["ccs_pairs"].get<int>(), 0);
  EXPECT_TRUE(j["verdict"]["pass"].get<bool>());
  EXPECT_NE(r.out.find("verdict     PASS"), std::string::npos) << r.out;
  // An existing report is kept without --force.
  r = test::run_bespoke("eval encoding --data " + data + " --predictions " + data + " --out " + report);
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
}

// mnemonic's probe layout, without `pair` or bespoke's category names: roles come from the ids,
// and the figures are those of mnemonic's scorer (tests/fixtures/encoding_oracle/expected.json).
TEST(CliEncoding, ProbeLayoutWithoutPairsIsScoredAsTheScorerScoresIt) {
  const std::string fixture = std::string(BESPOKE_FIXTURES) + "/encoding_oracle/";
  const std::string dir = test::scratch_dir("cli-encoding-probe");
  const std::string gold = dir + "/probe.jsonl", report = dir + "/report.json";
  {
    std::ifstream in(fixture + "gold.jsonl");
    std::ofstream out(gold);
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json r = nlohmann::json::parse(line);
      r.erase("pair");
      r.erase("category");
      out << r.dump() << "\n";
    }
  }
  const test::CommandResult r = test::run_bespoke("eval encoding --data " + gold + " --predictions " + fixture +
                                                  "predictions.jsonl --out " + report);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = read_json(report), want = read_json(fixture + "expected.json")["summary"];
  EXPECT_EQ(j["metrics"]["ccs_pairs"], want["ccs_total"]);  // 2: pair 13-14 has an unparseable member
  EXPECT_EQ(j["metrics"]["ccs_pass"], want["ccs_pass"]);
  EXPECT_EQ(j["metrics"]["mih_total"], want["mih_total"]);
  EXPECT_EQ(j["metrics"]["mih_pass"], want["mih_pass"]);
  EXPECT_NEAR(j["metrics"]["np_dense"].get<double>(), want["avg_np_dense"].get<double>(), 1e-6);
  EXPECT_EQ(j["valid_json"], want["valid"]);
}

TEST(CliEncoding, ConstrainedDecodingInProcessIsSchemaCompliant) {
  const std::string dir = test::scratch_dir("cli-encoding-model");
  const std::string data = dir + "/data.jsonl", report = dir + "/report.json";
  {
    std::ofstream out(data);
    out << R"({"id": 1, "raw_input": "SIGKILL", "category": "minimal"})"
           "\n"
        << R"({"id": 2, "raw_input": "Bumped the pool to 25 in db.go:88", "type": "decision"})"
           "\n";
  }
  const test::CommandResult r =
      test::run_bespoke("eval encoding --data " + data + " --model " + test::fixture_dir("llama") +
                        " --constrained --max-new-tokens 280 --no-stress --out " + report);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = read_json(report);
  EXPECT_EQ(j["valid_json"], 2);
  EXPECT_EQ(j["metrics"]["sc"], 1.0);
  EXPECT_TRUE(j["stress"].is_null());
  EXPECT_FALSE(j["items"][0]["output"].get<std::string>().empty());
}

TEST(CliEncoding, GateExitsZeroForGoAndOneForNoGo) {
  const std::string dir = test::scratch_dir("cli-gate");
  const auto report = [&](const std::string& name, double epr, double sc) {
    const nlohmann::json j = {{"n", 4},
                              {"valid_json", 4},
                              {"metrics",
                               {{"epr", epr},
                                {"fr", 0.0},
                                {"ted_failures", 0},
                                {"ccs_pass", 1},
                                {"ccs_pairs", 1},
                                {"mih_pass", 1},
                                {"mih_total", 1},
                                {"np", 1.0},
                                {"np_dense", 1.0},
                                {"sc", sc}}}};
    std::ofstream(dir + "/" + name) << j.dump();
    return dir + "/" + name;
  };
  const std::string base = report("base.json", 0.95, 1.0), good = report("good.json", 0.97, 1.0),
                    bad = report("bad.json", 0.97, 0.75);
  test::CommandResult r = test::run_bespoke("gate --candidate " + good + " --baseline " + base);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("GO"), std::string::npos);
  r = test::run_bespoke("gate --candidate " + bad + " --baseline " + base);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("NO-GO"), std::string::npos);
  r = test::run_bespoke("gate --candidate " + dir + "/missing.json --baseline " + base);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.json: cannot open"), std::string::npos) << r.err;
}

TEST(CliEncoding, BadItemsAreOneLineAndExitTwo) {
  const std::string dir = test::scratch_dir("cli-encoding-bad");
  std::ofstream(dir + "/items.jsonl") << "{\"id\": 1, \"raw_input\": \"x\"}\nnot json\n";
  const test::CommandResult r = test::run_bespoke("eval encoding --data " + dir + "/items.jsonl --predictions " + dir +
                                                  "/items.jsonl --out " + dir + "/r.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("items.jsonl:2: not a JSON object"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/r.json"));
}

}  // namespace
}  // namespace bespoke
