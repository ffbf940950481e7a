// `bespoke run` end to end on a shrunken demo (a two-layer parent pretrained for seconds): every
// stage's outputs and manifest; kill -9 during Phase 3, then the rerun resumes from the last
// checkpoint (losing at most one checkpoint interval); a finished run's rerun skips every stage;
// a changed gate setting reruns the gate alone; the report's JSON has what the plan promises and
// its page renders in headless Chromium; a run over its cost cap stops there with a message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

const char* const kStages[] = {"data",       "feasibility", "tokenizer", "parent",  "pretrain", "finetune",
                               "importance", "prune",       "recover",   "gate",    "lottery",  "export"};

// A general domain of the test's own: a few source-like files.
std::string general_domain(const std::string& dir) {
  const std::string src = dir + "/general";
  fs::create_directories(src);
  for (int f = 0; f < 3; ++f) {
    std::ofstream out(src + "/m" + std::to_string(f) + ".py");
    for (int i = 0; i < 40; ++i)
      out << "def f" << f << "_" << i << "(x):\n    return x * " << i << " + " << f << "  # line " << i << "\n";
  }
  return src;
}

std::string experiment(const std::string& dir, const std::string& extra_budget = "", int gate_items = 2) {
  const std::string root = fs::path(BESPOKE_INTEROP).parent_path().parent_path().string();
  return "[run]\nseq_len = 256\nbatch = 4\n"
         "[budget]\nmemory_gb = 4\n" + extra_budget +
         "[[candidates]]\nname = \"parent\"\nscratch = true\n"
         "[scratch]\ntokenizer = \"" + test::fixture_dir("llama") +
         "\"\nvocab = 600\nhidden = 64\nlayers = 2\nheads = 4\nkv_heads = 2\nffn = 128\nsteps = 24\nlr = 0.003\nwarmup = 2\n"
         "[data]\ngenerate_train = 32\ngenerate_eval = 4\nprompt_template = \"" + root + "/configs/demo_prompt.txt\"\n"
         "[[data.domains]]\nname = \"encoding\"\ntask = true\nweight = 0.7\n"
         "[[data.domains]]\nname = \"python\"\nsource_dir = \"" + general_domain(dir) +
         "\"\nsuffix = \".py\"\nrecord_chars = 400\nweight = 0.3\n"
         "[finetune]\nsteps = 4\nlr = 0.001\nwarmup = 1\n"
         "[importance]\nsamples = 4\n"
         "[prune]\nmethod = \"minitron\"\ntarget = \"hidden=32,heads=2,kv_heads=1,ffn=64\"\n"
         "[recover]\nsteps = 30\nlr = 0.003\nwarmup = 2\nmix_every = 10\nsave_every = 5\n"
         "[gate]\nitems = " + std::to_string(gate_items) + "\nmax_new_tokens = 280\nhard_targets = false\nstop = false\n"
         "[lottery]\nsteps = 6\nlrs = [0.003, 0.01]\nsweep_steps = 2\nseeds = [0, 1]\neval_points = 3\nmax_multiple = 2\n"
         "[export]\ntypes = [\"f16\", \"q8_0\"]\ninterop = \"" + std::string(BESPOKE_INTEROP) + "\"\n";
}

nlohmann::json read_json(const fs::path& path) {
  return nlohmann::json::parse(std::ifstream(path));
}

TEST(Run, KilledRecoveryResumesAndARerunSkipsEveryStage) {
  const std::string dir = test::scratch_dir("run");
  const std::string exp = dir + "/exp.toml", out = dir + "/out";
  std::ofstream(exp) << experiment(dir);

  // Start, wait for a checkpoint of Phase 3, then kill -9: no chance to save anything more.
  const test::CommandResult killed = test::run_command(
      std::string(BESPOKE_BINARY) + " run " + exp + " --out " + out + " > " + dir + "/first.log 2>&1 & pid=$!; " +
      "for i in $(seq 1 3000); do ls -d " + out + "/recover/checkpoints/step-* > /dev/null 2>&1 && break; sleep 0.05; " +
      "done; kill -9 $pid; wait $pid; echo rc=$?; ls " + out + "/recover/checkpoints");
  ASSERT_NE(killed.out.find("rc=137"), std::string::npos) << killed.out << killed.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(killed.out, m, std::regex("step-(\\d+)"))) << killed.out;
  const int seen = std::stoi(m[1]);
  EXPECT_FALSE(fs::exists(out + "/recover/manifest.json"));

  const test::CommandResult resumed = test::run_bespoke("run " + exp + " --out " + out);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  for (const char* stage : {"data", "feasibility", "tokenizer", "parent", "pretrain", "finetune", "importance", "prune"})
    EXPECT_NE(resumed.err.find(std::string("stage ") + stage + ": done before, skipped"), std::string::npos) << stage;
  ASSERT_TRUE(std::regex_search(resumed.err, m, std::regex("recover: resuming training from \\S*step-(\\d+)")))
      << resumed.err;
  EXPECT_GE(std::stoi(m[1]), seen) << "more than one checkpoint interval lost";
  const nlohmann::json recover = read_json(out + "/recover/manifest.json");
  EXPECT_EQ(recover["metrics"]["first_step"], std::stoi(m[1]));
  EXPECT_EQ(recover["metrics"]["steps"], 30);

  for (const char* stage : kStages) {
    const nlohmann::json manifest = read_json(fs::path(out) / stage / "manifest.json");
    EXPECT_EQ(manifest["status"], "done") << stage;
    EXPECT_TRUE(manifest["config"].is_object()) << stage;
    EXPECT_GT(manifest["seconds"].get<double>(), 0) << stage;
    for (const auto& [name, path] : manifest["outputs"].items())
      for (const auto& p : path.is_array() ? path : nlohmann::json::array({path}))
        EXPECT_TRUE(fs::exists(p.get<std::string>())) << stage << " " << name;
  }
  for (const char* file : {"plan/feasibility.json", "data/train.jsonl", "data/heldout.jsonl", "pretrain/final/config.json",
                           "finetune/final/model.safetensors", "importance/importance.html", "prune/pruned/config.json",
                           "recover/final/model.safetensors", "gate/candidate.json", "gate/baseline.json",
                           "lottery/lottery.json", "export/pruned-f16.gguf", "export/base-q8_0.gguf", "ledger.json",
                           "report.json", "report.html"})
    EXPECT_TRUE(fs::exists(fs::path(out) / file)) << file;

  const nlohmann::json r = read_json(out + "/report.json");
  // The domains mixed: both in the held-out file, and the recovery reweighed them.
  EXPECT_EQ(read_json(out + "/data/manifest.json")["metrics"].size(), 2u);
  for (const char* arm : {"A", "B", "C", "D"}) {
    const nlohmann::json& a = r["lottery"]["arms"][arm];
    EXPECT_TRUE(a["final_eval_loss"].is_number()) << arm << a.dump();
    EXPECT_EQ(a["tokens"], r["lottery"]["arms"]["A"]["tokens"]) << arm;  // equal tokens
    EXPECT_EQ(a["seeds"].size(), 2u) << arm;
  }
  EXPECT_TRUE(r["lottery"]["token_multiplier"]["text"].is_string());
  EXPECT_TRUE(r["gate"]["verdict"] == "go" || r["gate"]["verdict"] == "no-go");
  EXPECT_EQ(r["gate"]["table"].size(), 7u);
  EXPECT_EQ(r["export"]["gguf"].size(), 2u);
  EXPECT_TRUE(r["export"]["llama_cpp_ok"].get<bool>()) << r["export"].dump();
  EXPECT_TRUE(r["export"]["speedup"]["q8_0"].is_number());
  // Phase 0's exact counts: the parent and the cut, as the written models have them.
  const nlohmann::json& row = r["feasibility"]["candidates"][0];
  EXPECT_EQ(row["params"], r["prune"]["quality"]["rows"][0]["params"]);
  EXPECT_EQ(row["target"]["params"], r["prune"]["quality"]["rows"][1]["params"]);

  const test::CommandResult html = test::run_command(
      "node " + std::string(BESPOKE_INTEROP) + "/check_html.mjs " + out +
      "/report.html stage-table phase0-table phase-loss-chart importance-charts quality-chart gate-table lottery-chart "
      "export-table");
  EXPECT_EQ(html.exit_code, 0) << html.out << html.err;

  // Finished: a rerun does no work.
  const test::CommandResult again = test::run_bespoke("run " + exp + " --out " + out);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const char* stage : kStages)
    EXPECT_NE(again.err.find(std::string("stage ") + stage + ": done before, skipped"), std::string::npos) << stage;

  // A gate setting changed: the gate alone runs again.
  std::ofstream(exp) << experiment(dir, "", 3);
  const test::CommandResult regate = test::run_bespoke("run " + exp + " --out " + out);
  ASSERT_EQ(regate.exit_code, 0) << regate.err;
  for (const char* stage : kStages) {
    const bool skipped = regate.err.find(std::string("stage ") + stage + ": done before, skipped") != std::string::npos;
    EXPECT_EQ(skipped, std::string(stage) != "gate") << stage;
  }
}

TEST(Run, StopsAtItsCostCapWithACheckpoint) {
  const std::string dir = test::scratch_dir("run-cap");
  const std::string exp = dir + "/exp.toml", out = dir + "/out";
  // One money unit a second, 3 to spend: more than the stages before pretraining take on any
  // machine this runs on, far less than the whole run (about 11 s on 2 cores).
  std::ofstream(exp) << experiment(dir, "price_per_gpu_hour = 3600\ncost_cap = 3\nflops_per_second = 1e8\n");
  const test::CommandResult r = test::run_bespoke("run " + exp + " --out " + out + " --over-budget");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const bool in_stage = r.err.find("(checkpointed): the budget is spent") != std::string::npos;
  const bool between = r.err.find("the cost cap is reached") != std::string::npos;
  EXPECT_TRUE(in_stage || between) << r.err;
  const nlohmann::json ledger = read_json(out + "/ledger.json");
  EXPECT_GE(ledger["cost"].get<double>(), 2.5) << ledger.dump();
  EXPECT_FALSE(fs::exists(out + "/report.json"));
  // Without --over-budget the same plan is refused before any work.
  const test::CommandResult refused = test::run_bespoke("run " + exp + " --out " + dir + "/out2");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("budget.cost_cap"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace bespoke
