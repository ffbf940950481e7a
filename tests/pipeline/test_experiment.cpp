// Experiment files: a valid one read with its defaults and paths resolved; bad ones refused
// before any work in one line naming the key and the reason (unknown keys, wrong types, missing
// paths, impossible targets, a plan over its cost cap).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bespoke/core/error.h"
#include "bespoke/pipeline/experiment.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

// A small valid experiment on the llama fixture (4 layers, hidden 64, 4 heads, 2 KV heads,
// FFN 160), with `extra` appended (TOML tables may be reopened only once, so the cases replace
// whole lines through `edit`).
std::string valid(const std::string& data_dir) {
  return "[run]\nseq_len = 64\nbatch = 2\n"
         "[[candidates]]\nname = \"tiny\"\nmodel = \"" +
         test::fixture_dir("llama") +
         "\"\n"
         "[data]\ntask = \"" +
         data_dir + "/task.jsonl\"\neval = \"" + data_dir +
         "/task.jsonl\"\n"
         "[prune]\nmethod = \"minitron\"\ntarget = \"ffn=96\"\n"
         "[recover]\nsteps = 4\n"
         "[lottery]\nseeds = [0, 1]\n";
}

std::string edit(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

class ExperimentFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch_dir("experiment");
    std::ofstream(dir_ + "/task.jsonl") << "{\"text\": \"hello world\"}\n";
  }
  // The message parse_experiment refuses `text` with; "" when it accepts it.
  std::string refusal(const std::string& text) {
    try {
      pipeline::parse_experiment(text, dir_, "exp.toml");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput) << e.what();
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(ExperimentFile, ValidFileReadsWithDefaultsAndPathsFromItsDirectory) {
  const pipeline::Experiment e =
      pipeline::parse_experiment(valid(dir_) +
                                     "[export]\ninterop = \"harness\"\n[budget]\ncost_cap = 150\n"
                                     "price_per_gpu_hour = 2.5\n",
                                 dir_, "exp.toml");
  EXPECT_EQ(e.run.seq_len, 64);
  EXPECT_EQ(e.run.batch, 2);
  EXPECT_EQ(e.candidates.size(), 1u);
  EXPECT_EQ(e.prune.target, "ffn=96");
  EXPECT_EQ(e.recover.steps, 4);
  EXPECT_DOUBLE_EQ(e.budget.cost_cap, 150);  // an integer is a number too
  EXPECT_EQ(e.exporting.interop, (fs::path(dir_) / "harness").string());
  EXPECT_EQ(e.exporting.types, (std::vector<std::string>{"f16", "q8_0"}));
  EXPECT_EQ(e.lottery.seeds, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(e.run.device, "cpu");
}

TEST_F(ExperimentFile, UnknownKeysAreNamedWithTheirTable) {
  EXPECT_EQ(refusal(edit(valid(dir_), "target = \"ffn=96\"", "traget = \"ffn=96\"")),
            "exp.toml: prune.traget: unknown key");
  EXPECT_EQ(refusal(valid(dir_) + "[serve]\nport = 1\n"), "exp.toml: serve: unknown key");
  EXPECT_EQ(refusal(edit(valid(dir_), "name = \"tiny\"", "name = \"tiny\"\nweights = 1")),
            "exp.toml: candidates[0].weights: unknown key");
}

TEST_F(ExperimentFile, WrongTypesAndValuesNameTheKey) {
  EXPECT_EQ(refusal(edit(valid(dir_), "seq_len = 64", "seq_len = \"64\"")),
            "exp.toml: run.seq_len: must be an integer");
  EXPECT_EQ(refusal(edit(valid(dir_), "batch = 2", "batch = 0")), "exp.toml: run.batch: must be at least 1, not 0");
  EXPECT_EQ(refusal(edit(valid(dir_), "seeds = [0, 1]", "seeds = [0]")),
            "exp.toml: lottery.seeds: needs at least 2 seeds, to tell an arm from its noise");
  EXPECT_NE(refusal(edit(valid(dir_), "method = \"minitron\"", "method = \"magic\"")).find("exp.toml: prune.method: "),
            std::string::npos);
  EXPECT_EQ(refusal(valid(dir_) + "[export]\ntypes = [\"q2_k\"]\n"),
            "exp.toml: export.types: \"q2_k\" is none of f32, f16, bf16, q8_0, q4_0");
  EXPECT_EQ(refusal(valid(dir_) + "[budget]\ncost_cap = 150\n"),
            "exp.toml: budget.cost_cap: needs budget.price_per_gpu_hour to turn device-hours into money");
  EXPECT_EQ(refusal(valid(dir_) + "[gate]\nmax_new_tokens = 100\n")
                .rfind("exp.toml: gate.max_new_tokens: must be at least ", 0),
            0u);
  // TOML itself: the line and column.
  EXPECT_EQ(refusal("[run]\nseed = = 1\n").rfind("exp.toml:2:", 0), 0u);
}

TEST_F(ExperimentFile, MissingPathsAreNamed) {
  EXPECT_EQ(refusal(edit(valid(dir_), test::fixture_dir("llama"), "/no/such/model")),
            "exp.toml: candidates[0].model: /no/such/model/config.json does not exist");
  EXPECT_EQ(refusal(edit(valid(dir_), "eval = \"" + dir_ + "/task.jsonl\"", "eval = \"missing.jsonl\"")),
            "exp.toml: data.eval: " + (fs::path(dir_) / "missing.jsonl").string() + " does not exist");
}

TEST_F(ExperimentFile, ImpossibleTargetsAreRefusedAgainstEachCandidate) {
  const std::string more_ffn = refusal(edit(valid(dir_), "target = \"ffn=96\"", "target = \"ffn=999\""));
  EXPECT_EQ(more_ffn.rfind("exp.toml: prune.target: ", 0), 0u) << more_ffn;
  EXPECT_NE(more_ffn.find("ffn"), std::string::npos) << more_ffn;
  EXPECT_EQ(
      refusal(edit(valid(dir_), "target = \"ffn=96\"", "target = \"ffn=0\"")).rfind("exp.toml: prune.target: ", 0), 0u);
  EXPECT_EQ(refusal(edit(valid(dir_), "target = \"ffn=96\"", "target = \"ffn=96\"\nparams = \"1M\"")),
            "exp.toml: prune.target: give exactly one of prune.target, prune.params, prune.targets");
  EXPECT_EQ(
      refusal(edit(valid(dir_), "method = \"minitron\"\ntarget = \"ffn=96\"", "method = \"l0\"\nparams = \"1M\"")),
      "exp.toml: prune.target: learned masks (l0) need a shape: prune.target");
}

TEST_F(ExperimentFile, DomainsNeedTheTaskAndOneSourceEach) {
  const std::string base = valid(dir_);
  EXPECT_EQ(refusal(base + "[[data.domains]]\nname = \"general\"\njsonl = \"" + dir_ + "/task.jsonl\"\n"),
            "exp.toml: data.domains: one domain must be the task's (task = true)");
  EXPECT_EQ(refusal(base + "[[data.domains]]\nname = \"t\"\ntask = true\njsonl = \"x.jsonl\"\n"),
            "exp.toml: data.domains[0].name: a domain takes exactly one of task = true, jsonl, source_dir");
  EXPECT_EQ(refusal(base + "[[data.domains]]\nname = \"t\"\ntask = true\n[[data.domains]]\nname = \"g\"\nsource_dir = "
                           "\"/no/such/dir\"\nsuffix = \".py\"\n"),
            "exp.toml: data.domains[1].source_dir: /no/such/dir does not exist");
}

// The CLI: a plan whose estimate is over the cap is refused before any stage runs.
TEST_F(ExperimentFile, PlanOverItsCapIsRefusedBeforeAnyWork) {
  const std::string path = dir_ + "/exp.toml";
  std::ofstream(path) << valid(dir_) << "[budget]\nprice_per_gpu_hour = 1000000\ncost_cap = 0.01\n"
                      << "flops_per_second = 1e6\n";
  const std::string out = dir_ + "/run";
  const test::CommandResult r = test::run_bespoke("run " + path + " --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("budget.cost_cap: the plan's estimate for tiny is"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--over-budget"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out + "/data")) << "a stage ran";

  const test::CommandResult unknown = test::run_bespoke("run " + dir_ + "/missing.toml --out " + out);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("missing.toml: cannot read the experiment file"), std::string::npos) << unknown.err;
}

// The experiments shipped in configs/ read as they are, and the Phase 0 table each real one shows
// in its comments is the table `--plan` prints from its candidates' config.json alone: an 8B
// dense base beside a mixture of experts, and the plan's EXP-28 (Gemma-4-31B beside the hybrid
// Qwen3.5-9B).
TEST_F(ExperimentFile, ShippedExperimentsReadAndShowTheirOwnPlan) {
  const std::string configs = std::string(BESPOKE_FIXTURES) + "/../../configs";
  EXPECT_NO_THROW(pipeline::read_experiment(configs + "/demo.toml"));
  const std::pair<const char*, std::vector<std::string>> real[] = {
      {"dense-8b-to-1.5b.toml", {"llama-3.1-8b", "mixtral-8x7b"}},
      {"gemma4-31b-to-2b.toml", {"gemma-4-31b", "qwen3.5-9b"}}};
  for (const auto& [file, names] : real) {
    const std::string path = configs + "/" + file;
    const pipeline::Experiment e = pipeline::read_experiment(path);
    EXPECT_EQ(e.candidates.size(), names.size()) << file;
    const test::CommandResult plan = test::run_bespoke("run " + path + " --plan --out " + dir_ + "/plan-" + file);
    ASSERT_EQ(plan.exit_code, 0) << plan.err;
    std::ifstream in(path);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::istringstream printed(plan.err);
    int rows = 0;
    for (std::string line; std::getline(printed, line);) {
      const bool candidate = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
        return line.find("  " + n + "  ") != std::string::npos;
      });
      if (line.rfind("rank", 0) != 0 && !candidate) continue;
      ++rows;
      while (!line.empty() && line.back() == ' ') line.pop_back();
      EXPECT_NE(text.find("#   " + line + "\n"), std::string::npos) << file << ": not in the file's comments: " << line;
    }
    EXPECT_EQ(rows, 3) << file;  // the header and both candidates
  }
}

}  // namespace
}  // namespace bespoke
