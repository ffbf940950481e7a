// A shrunken `bespoke demo` (a two-layer model, a few dozen records, seconds of training): every
// stage's outputs, a learned vocabulary that llama.cpp tokenizes the same way, training loss
// falling, constrained decoding fully schema-compliant, llama.cpp agreeing with Bespoke on the
// exported files, the HTML report in headless Chromium; a training killed by SIGTERM resumes on
// rerun, and a finished run's rerun skips every stage.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/pipeline/demo.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

std::string demo_args(const std::string& out) {
  const std::string root = fs::path(BESPOKE_INTEROP).parent_path().parent_path().string();
  return "demo --out " + out + " --tokenizer " + test::fixture_dir("llama") + " --prompt-template " + root +
         "/configs/demo_prompt.txt --interop " + BESPOKE_INTEROP +
         " --n-train 24 --n-eval 3 --vocab 1024 --hidden 64 --layers 2 --heads 4 --kv-heads 2 --ffn 128 --steps 40 "
         "--warmup 2"
         " --seq-len 512 --batch 4 --lr 0.003 --max-new-tokens 320";
}

nlohmann::json read_json(const fs::path& path) {
  return nlohmann::json::parse(std::ifstream(path));
}

TEST(Demo, KilledTrainingResumesAndEveryStageLeavesItsOutputs) {
  const std::string out = test::scratch_dir("demo") + "/run";
  fs::remove_all(out);
  // Start, wait for the first training checkpoint, then SIGTERM.
  const test::CommandResult killed =
      test::run_command(std::string(BESPOKE_BINARY) + " " + demo_args(out) + " > " + out + ".log 2>&1 & pid=$!; " +
                        "for i in $(seq 1 1200); do ls -d " + out +
                        "/train/checkpoints/step-* > /dev/null 2>&1 && break; sleep 0.05; done; " +
                        "kill -TERM $pid; wait $pid; echo rc=$?; cat " + out + ".log");
  ASSERT_NE(killed.out.find("rc=2"), std::string::npos) << killed.out << killed.err;
  EXPECT_NE(killed.out.find("run the same command again to resume"), std::string::npos) << killed.out;
  EXPECT_FALSE(fs::exists(out + "/train/manifest.json"));

  const test::CommandResult resumed = test::run_bespoke(demo_args(out));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("stage data: done before, skipped"), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming training from"), std::string::npos) << resumed.err;

  for (const char* stage : {"data", "tokenizer", "model", "train", "eval", "export"}) {
    const nlohmann::json m = read_json(fs::path(out) / stage / "manifest.json");
    EXPECT_EQ(m["status"], "done") << stage;
    EXPECT_FALSE(m["inputs"].empty() && std::string(stage) != "data") << stage;
  }
  for (const char* file :
       {"data/train.jsonl", "data/eval.jsonl", "tokenizer/tokenizer/tokenizer.json", "model/model/config.json",
        "train/final/model.safetensors", "eval/untrained.json", "eval/trained.json", "eval/trained_constrained.json",
        "export/model-f32.gguf", "export/model-q8_0.gguf", "report.json", "report.html"})
    EXPECT_TRUE(fs::exists(fs::path(out) / file)) << file;

  const nlohmann::json r = read_json(fs::path(out) / "report.json");
  // The learned vocabulary: as large as asked (24 records have enough repeated pairs), and
  // shorter messages than the fixture's generic one.
  EXPECT_EQ(r["tokenizer"]["vocab"], 1024);
  EXPECT_EQ(read_json(fs::path(out) / "model/model/config.json")["vocab_size"], 1024);
  EXPECT_LT(r["tokenizer"]["tokens_per_message"].get<double>(),
            0.8 * r["tokenizer"]["tokens_per_message_base"].get<double>());
  EXPECT_EQ(r["train"]["steps"], 40);
  EXPECT_GT(r["train"]["tokens"].get<int64_t>(), 0);
  EXPECT_LT(r["train"]["final_loss"].get<double>(), r["train"]["first_loss"].get<double>());
  EXPECT_EQ(r["train"]["curve"].size(), 40u);
  for (const char* run : {"untrained", "trained", "trained_constrained"}) EXPECT_EQ(r["eval"][run]["n"], 3) << run;
  EXPECT_EQ(r["eval"]["trained_constrained"]["valid_json"], 3);
  EXPECT_EQ(r["eval"]["trained_constrained"]["metrics"]["sc"], 1.0);
  EXPECT_TRUE(r["export"]["llama_cpp_ok"].get<bool>()) << r["export"].dump();
  EXPECT_LT(r["export"]["max_logprob_diff"].get<double>(), 1e-3);
  EXPECT_EQ(r["export"]["gguf"].size(), 2u);
  for (const auto& f : r["export"]["files"]) EXPECT_TRUE(f["tokenizer_agrees"].get<bool>()) << f.dump();
  EXPECT_NE(resumed.out.find("llama.cpp ok"), std::string::npos) << resumed.out;
  EXPECT_TRUE(r["checks"]["loss_fell"].get<bool>());
  EXPECT_TRUE(r["checks"]["grammar_sc"].get<bool>());
  EXPECT_TRUE(r["checks"]["llama_cpp_agrees"].get<bool>());
  EXPECT_EQ(r["checks"]["trained_vs_untrained"].size(), 8u);
  EXPECT_NE(resumed.out.find("trained beats untrained (both under the grammar)"), std::string::npos) << resumed.out;

  const test::CommandResult html =
      test::run_command("node " + std::string(BESPOKE_INTEROP) + "/check_html.mjs " + out + "/report.html");
  EXPECT_EQ(html.exit_code, 0) << html.out << html.err;

  // Finished: a rerun does nothing but the report.
  const test::CommandResult again = test::run_bespoke(demo_args(out));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const char* stage : {"data", "tokenizer", "model", "train", "eval", "export"})
    EXPECT_NE(again.err.find(std::string("stage ") + stage + ": done before, skipped"), std::string::npos) << again.err;

  // --check: exit 1 naming every check that does not hold, 0 when all do.
  std::vector<std::string> failing;
  for (const auto& [name, holds] : r["checks"].items())
    if (holds.is_boolean() && !holds.get<bool>()) failing.push_back(name);
  const test::CommandResult checked = test::run_bespoke(demo_args(out) + " --check");
  EXPECT_EQ(checked.exit_code, failing.empty() ? 0 : 1) << checked.err;
  for (const std::string& name : failing) EXPECT_NE(checked.err.find(name), std::string::npos) << checked.err;
}

// Metrics of `bespoke eval encoding`'s REPORT.json that the checks read.
pipeline::Json metrics(double epr, double fr_pooled, int64_t mih_pass, int64_t mih_total, int64_t ccs_pass) {
  return {{"metrics",
           {{"sc", 1.0},
            {"epr", epr},
            {"np", epr},
            {"np_dense", epr},
            {"fr", 0.3},
            {"fr_pooled", fr_pooled},
            {"ted_failures", 0},
            {"mih_pass", mih_pass},
            {"mih_total", mih_total},
            {"ccs_pass", ccs_pass},
            {"ccs_pairs", 2}}}};
}

TEST(Demo, ChecksReadTheReportsOwnNumbers) {
  pipeline::Json report = {
      {"minutes", 7.5},
      {"train", {{"first_loss", 7.6}, {"final_loss", 0.3}}},
      {"eval",
       {{"untrained_constrained", metrics(0.1, 1.0, 0, 2, 2)}, {"trained_constrained", metrics(0.4, 0.5, 2, 2, 2)}}},
      {"export", {{"files", {{{"llama_cpp_ok", true}}, {{"llama_cpp_ok", true}}}}}}};
  pipeline::Json c = pipeline::demo_checks(report);
  EXPECT_TRUE(c["loss_fell"].get<bool>() && c["grammar_sc"].get<bool>() && c["llama_cpp_agrees"].get<bool>() &&
              c["within_10_minutes"].get<bool>());
  const pipeline::Json expected = {{"sc", "by construction"}, {"epr", "better"},       {"np", "better"},
                                   {"np_dense", "better"},    {"fr_pooled", "better"}, {"ted_failures", "tie at best"},
                                   {"mih", "better"},         {"ccs", "tie at best"}};
  EXPECT_EQ(c["trained_vs_untrained"], expected);
  EXPECT_TRUE(c["trained_beats_untrained"].get<bool>());
  EXPECT_EQ(c["metrics_measured"], 7);
  EXPECT_EQ(c["by_construction"], pipeline::Json::array({"grammar_sc"}));

  // One twin pair lost, no minimal items, a file llama.cpp disagrees on, over time, loss up.
  report["eval"]["trained_constrained"] = metrics(0.4, 0.5, 0, 0, 1);
  report["export"]["files"][1]["llama_cpp_ok"] = false;
  report["minutes"] = 10.5;
  report["train"]["final_loss"] = 8.0;
  c = pipeline::demo_checks(report);
  EXPECT_EQ(c["trained_vs_untrained"]["ccs"], "worse");
  EXPECT_EQ(c["trained_vs_untrained"]["mih"], "not measured");
  EXPECT_FALSE(c["trained_beats_untrained"].get<bool>());
  EXPECT_FALSE(c["llama_cpp_agrees"].get<bool>() || c["within_10_minutes"].get<bool>() || c["loss_fell"].get<bool>());
  // Equal, but short of the best value, is no win either.
  report["eval"]["trained_constrained"] = metrics(0.1, 0.5, 2, 2, 2);
  EXPECT_EQ(pipeline::demo_checks(report)["trained_vs_untrained"]["epr"], "tie");
  EXPECT_FALSE(pipeline::demo_checks(report)["trained_beats_untrained"].get<bool>());
}

TEST(Demo, MetricsWithNothingToMeasureCountAsNeitherWinNorLoss) {
  pipeline::Json report = {
      {"minutes", 7.5},
      {"train", {{"first_loss", 7.6}, {"final_loss", 0.3}}},
      {"eval",
       {{"untrained_constrained", metrics(0.1, 1.0, 0, 0, 0)}, {"trained_constrained", metrics(0.4, 0.5, 0, 0, 0)}}},
      {"export", {{"files", {{{"llama_cpp_ok", true}}}}}}};
  // No dense-number item parsed in either run: the report's 0.0 is no measurement; no twin
  // pair scored, no minimal item.
  for (const char* run : {"untrained_constrained", "trained_constrained"}) {
    report["eval"][run]["metrics"]["np_dense"] = 0.0;
    report["eval"][run]["metrics"]["np_dense_n"] = 0;
    report["eval"][run]["metrics"]["ccs_pairs"] = 0;
  }
  pipeline::Json c = pipeline::demo_checks(report);
  for (const char* m : {"np_dense", "mih", "ccs"}) EXPECT_EQ(c["trained_vs_untrained"][m], "not measured") << m;
  EXPECT_EQ(c["trained_vs_untrained"]["sc"], "by construction");
  EXPECT_EQ(c["metrics_measured"], 4);  // epr, np, fr_pooled, ted_failures
  EXPECT_TRUE(c["trained_beats_untrained"].get<bool>());

  // A measured 0.0 NP dense on both sides is a tie, and a tie is no win.
  for (const char* run : {"untrained_constrained", "trained_constrained"})
    report["eval"][run]["metrics"]["np_dense_n"] = 2;
  c = pipeline::demo_checks(report);
  EXPECT_EQ(c["trained_vs_untrained"]["np_dense"], "tie");
  EXPECT_FALSE(c["trained_beats_untrained"].get<bool>());

  // No parseable record in either run: nothing is measured, so nothing is beaten.
  for (const char* run : {"untrained_constrained", "trained_constrained"}) report["eval"][run]["valid_json"] = 0;
  c = pipeline::demo_checks(report);
  EXPECT_EQ(c["metrics_measured"], 0);
  for (const auto& [m, verdict] : c["trained_vs_untrained"].items())
    EXPECT_TRUE(verdict == "not measured" || verdict == "by construction") << m << ": " << verdict;
  EXPECT_FALSE(c["trained_beats_untrained"].get<bool>());
}

}  // namespace
}  // namespace bespoke
