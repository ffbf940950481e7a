// `bespoke prune`: bad input gets one line and exit 2 before any work (no output directory);
// each method writes a model directory that loads, runs and has the count its plan printed;
// minitron's cut is the one the library ranks from the same calibration data.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/io/gguf_reader.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/importance_io.h"
#include "bespoke/prune/rank.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

std::string write_data(const std::string& dir) {
  std::ofstream out(dir + "/data.jsonl");
  for (int i = 0; i < 12; ++i)
    out << nlohmann::json{{"text", "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog"}}
               .dump()
        << "\n";
  return dir + "/data.jsonl";
}

// The plan: the last stdout line.
nlohmann::json plan_of(const std::string& out) {
  const size_t end = out.find_last_not_of('\n'), start = out.rfind('\n', end);
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1, end + 1));
}

TEST(CliPrune, BadInputGetsOneLineAndExit2BeforeAnyWork) {
  const std::string src = test::fixture_dir("llama"), dir = test::scratch_dir("prune_bad");
  const std::string data = write_data(dir), out = dir + "/out";
  std::ofstream(dir + "/empty.jsonl").close();
  std::ofstream(dir + "/blank.jsonl") << R"({"text": ""})"
                                      << "\n";
  std::ofstream(dir + "/ids.jsonl") << R"({"ids": [1, 2, 99999, 3]})"
                                    << "\n";
  const std::string bare = dir + "/bare";  // a model directory without weights
  fs::create_directories(bare);
  for (const char* name : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(src + "/" + name, bare + "/" + name);
  const std::string prune = "prune " + src + " ";
  const std::string other = dir + "/qwen3_importance";  // scores of another model
  ASSERT_EQ(
      test::run_bespoke("importance " + test::fixture_dir("qwen3") + " --data " + data + " --seq-len 16 --out " + other)
          .exit_code,
      0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {prune + "--method minitron --target heads=3 --data " + data, "target heads: 3 is not a multiple of kv_heads 2"},
      {prune + "--method minitron --target ffn=999 --data " + data, "target ffn: 999 is more than the 160"},
      {prune + "--method minitron --params 1000 --data " + data, "--params 1000 is below the"},
      {prune + "--method minitron --params 1.5 --data " + data, "--params '1.5' is not a parameter count"},
      {prune + "--method minitron --target ffn=64 --data " + dir + "/empty.jsonl", "empty.jsonl: no records"},
      {prune + "--method minitron --target ffn=64 --data " + dir + "/blank.jsonl", "fewer than one row"},
      {prune + "--method minitron --target ffn=64 --seq-len 4096 --data " + data, "fewer than one row of 4096"},
      {"prune " + bare + " --method random --target ffn=64", "model.safetensors"},
      {prune + "--method random --target ffn=64 --params 1M", "give one of --target SPEC or --params N"},
      {prune + "--method random", "give one of --target SPEC or --params N"},
      {prune + "--method minitron --target ffn=64", "--method minitron ranks units by importance: give --importance"},
      {prune + "--method minitron --target ffn=64 --importance " + other, "importance file from another model"},
      {prune + "--method random --target ffn=64 --importance " + other, "--method random ranks nothing"},
      {prune + "--method minitron --target ffn=64 --importance " + dir + "/none", "no such file"},
      {prune + "--method random --params 100K", "--params ranks shapes by calibration loss: give --data"},
      {prune + "--method depth --target ffn=64 --data " + data, "--method depth cuts layers only"},
      {prune + "--method depth --target layers=2 --skip-loss --importance " + other, "--skip-loss is measured"},
      {prune + "--method random --target ffn=64 --non-uniform", "--non-uniform: per-layer shapes come from importance"},
      {prune + "--method random --target layers=2 --contiguous", "--contiguous"},
      {prune + "--method minitron --target ffn=64 --data " + dir + "/ids.jsonl", "token id 99999 is not below"},
      {prune + "--method minitron --params 100K --candidates 0 --data " + data, "--candidates must be at least 1"},
      {prune + "--method minitron --target heads=2 --non-uniform --dry-run", "--dry-run with --non-uniform"},
      {prune + "--method pick --target ffn=64", "unknown method 'pick'"},
      {prune + "--method l0 --params 1M --data " + data, "--method l0 learns masks at a shape: give --target"},
      {prune + "--method l0 --target ffn=64", "--method l0 learns on data"},
      {prune + "--method l0 --target ffn=64 --data " + data + " --importance " + other, "--init-from DIR"},
      {prune + "--method l0 --target ffn=999 --data " + data, "target ffn: 999 is more than the 160"},
      {prune + "--method l0 --target ffn=160 --data " + data, "--target cuts nothing"},
      {prune + "--method random --target ffn=64 --freeze-weights", "--freeze-weights trains masks"},
      {prune + "--method minitron --target attn_blocks=2 --data " + data, "use --method l0"},
      {prune + "--method slicegpt --target ffn=64 --data " + data, "--method slicegpt cuts the hidden size alone"},
      {prune + "--method slicegpt --target hidden=48", "give --data"},
      {"prune " + test::fixture_dir("gemma2") + " --method slicegpt --target hidden=48 --data " + data, "gemma2"},
  };
  for (const auto& [args, needle] : cases) {
    const test::CommandResult r = test::run_bespoke(args + " --samples 2 --out " + out);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
}

TEST(CliPrune, MinitronWritesTheRankedCutAsAModelThatLoadsAndRuns) {
  const std::string src = test::fixture_dir("llama"), dir = test::scratch_dir("prune_minitron");
  const std::string data = write_data(dir), out = dir + "/cut";
  const std::string target = "layers=3,heads=2,kv_heads=1,ffn=64";
  const test::CommandResult r = test::run_bespoke("prune " + src + " --method minitron --target " + target +
                                                  " --data " + data + " --seq-len 16 --batch 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  model::Transformer cut = model::load_model(out);
  EXPECT_EQ(model::parameter_count(cut->spec()), plan_of(r.out)["params"].get<int64_t>());
  // The same cut, ranked here from the same calibration rows.
  model::Transformer net = model::load_model(src);
  const text::Encoder encoder(src);
  const std::vector<torch::Tensor> rows =
      prune::calibration_batches(train::read_examples(data, encoder), {0, 16, 2}, data);
  const prune::Importance imp = prune::activation_importance(net, rows);
  model::Transformer want = prune::extract(net, prune::ranked_selection(net->spec(), imp, prune::parse_target(target)));
  const torch::Tensor ids = io::SafetensorsFile(src + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  EXPECT_LT(test::max_abs_diff(cut->forward(ids).logits, want->forward(ids).logits), 1e-5);
  EXPECT_EQ(test::run_bespoke("inspect " + out).exit_code, 0);
  const test::CommandResult logits = test::run_bespoke("logits " + out + " --ids " + src +
                                                       "/reference.safetensors --out " + dir + "/logits.safetensors");
  EXPECT_EQ(logits.exit_code, 0) << logits.err;
}

// Taylor scores, skip-loss depth and an importance directory: each cut is the one the library
// ranks from the same scores; a directory of other scores than the method's is refused.
TEST(CliPrune, TaylorSkipLossAndImportanceDirectoriesRankAsTheLibraryDoes) {
  const std::string src = test::fixture_dir("llama"), dir = test::scratch_dir("prune_taylor");
  const std::string data = write_data(dir), scores = dir + "/taylor";
  ASSERT_EQ(
      test::run_bespoke("importance " + src + " --data " + data + " --seq-len 16 --taylor --out " + scores).exit_code,
      0);
  model::Transformer net = model::load_model(src);
  const text::Encoder encoder(src);
  const std::vector<torch::Tensor> rows =
      prune::calibration_batches(train::read_examples(data, encoder), {0, 16, 8}, data);
  const prune::Importance taylor = prune::taylor_importance(net, rows);
  const prune::Importance skip = prune::activation_importance(net, rows, {true});
  const std::string width = "heads=2,kv_heads=1,ffn=64";
  const std::pair<std::string, prune::Selection> runs[] = {
      {"--method taylor --target " + width + " --importance " + scores,
       prune::ranked_selection(net->spec(), prune::read_importance(scores, net->spec()), prune::parse_target(width))},
      {"--method taylor --target " + width + " --data " + data,
       prune::ranked_selection(net->spec(), taylor, prune::parse_target(width))},
      {"--method depth --target layers=2 --skip-loss --data " + data,
       prune::ranked_selection(net->spec(), skip, prune::parse_target("layers=2"))},
  };
  const torch::Tensor ids = io::SafetensorsFile(src + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  for (size_t j = 0; j < std::size(runs); ++j) {
    const std::string out = dir + "/cut" + std::to_string(j);
    const test::CommandResult r =
        test::run_bespoke("prune " + src + " " + runs[j].first + " --seq-len 16 --batch 8 --out " + out);
    ASSERT_EQ(r.exit_code, 0) << runs[j].first << "\n" << r.err;
    model::Transformer want = prune::extract(net, runs[j].second);
    EXPECT_LT(test::max_abs_diff(model::load_model(out)->forward(ids).logits, want->forward(ids).logits), 1e-5)
        << runs[j].first;
  }
  const test::CommandResult mixed = test::run_bespoke("prune " + src + " --method minitron --target " + width +
                                                      " --importance " + scores + " --out " + dir + "/mixed");
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("holds taylor scores, not minitron ones"), std::string::npos) << mixed.err;
}

TEST(CliPrune, EachMethodWritesAModelOfThePlannedSize) {
  const std::string src = test::fixture_dir("llama"), dir = test::scratch_dir("prune_methods");
  const std::string data = write_data(dir) + " --seq-len 16 --batch 4";
  const int64_t source = model::parameter_count(model::read_hf_config(src));
  const std::vector<std::string> runs = {
      "--method minitron --target heads=2,ffn=80 --non-uniform --data " + data,
      "--method depth --target layers=2 --contiguous --data " + data,
      "--method minitron --params " + std::to_string(source * 7 / 10) + " --candidates 3 --data " + data,
  };
  for (size_t j = 0; j < runs.size(); ++j) {
    const std::string out = dir + "/cut" + std::to_string(j);
    const test::CommandResult r = test::run_bespoke("prune " + src + " " + runs[j] + " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << runs[j] << "\n" << r.err;
    model::Transformer cut = model::load_model(out);
    const int64_t params = model::parameter_count(cut->spec());
    EXPECT_EQ(params, plan_of(r.out)["params"].get<int64_t>()) << runs[j];
    EXPECT_LT(params, source) << runs[j];
    EXPECT_EQ(test::run_bespoke("inspect " + out).exit_code, 0) << runs[j];
  }
  // The per-layer cut goes out to llama.cpp as deci.
  const test::CommandResult gguf = test::run_bespoke("export " + dir + "/cut0 --to gguf --out " + dir + "/cut0.gguf");
  ASSERT_EQ(gguf.exit_code, 0) << gguf.err;
  EXPECT_EQ(io::GgufFile(dir + "/cut0.gguf").metadata()["general.architecture"], "deci");
  // A dry run needs no data: the plan of a depth cut, with nothing written.
  const test::CommandResult dry =
      test::run_bespoke("prune " + src + " --method depth --target layers=2 --dry-run --out " + dir + "/dry");
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(plan_of(dry.out)["params"].get<int64_t>(),
            model::parameter_count(model::load_model(dir + "/cut1")->spec()));
  EXPECT_FALSE(fs::exists(dir + "/dry"));
  // The search printed its table above the plan, its best shape within the budget.
  const test::CommandResult again = test::run_bespoke("prune " + src + " " + runs[2] + " --out " + dir + "/again");
  EXPECT_NE(again.out.find("layers  hidden  heads  kv_heads"), std::string::npos) << again.out;
  EXPECT_LE(plan_of(again.out)["params"].get<int64_t>(), source * 7 / 10);
  EXPECT_EQ(model::load_model(dir + "/cut1")->spec().n_layers(), 2);
}

// SliceGPT from the command line: a model of the cut's hidden size, untied from a tied source,
// that loads back with the head of its own.
TEST(CliPrune, SliceGptWritesAPlainModelOfTheCutWidth) {
  const std::string src = test::fixture_dir("qwen3"), dir = test::scratch_dir("prune_slicegpt");
  const std::string data = write_data(dir), out = dir + "/sliced";
  const test::CommandResult r = test::run_bespoke("prune " + src + " --method slicegpt --target hidden=48 --data " +
                                                  data + " --seq-len 16 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(plan_of(r.out)["untied"].get<bool>());
  model::Transformer cut = model::load_model(out);
  EXPECT_EQ(cut->spec().hidden_size, 48);
  EXPECT_FALSE(cut->spec().tie_embeddings);
  EXPECT_EQ(model::parameter_count(cut->spec()), plan_of(r.out)["params"].get<int64_t>());
}

// Learned masks from the command line: frozen weights and the model itself as the teacher, a
// model of exactly the target's shape written to --out, the training run beside it; and as a
// progressive run's cut, a round per shape.
TEST(CliPrune, LearnedMasksWriteTheTargetShapeAndRunAsProgressiveRounds) {
  const std::string src = test::fixture_dir("llama"), dir = test::scratch_dir("prune_l0");
  const std::string data = write_data(dir), out = dir + "/cut";
  const test::CommandResult r =
      test::run_bespoke("prune " + src + " --method l0 --target hidden=48,heads=2,ffn=96,mlp_blocks=3 --data " + data +
                        " --seq-len 16 --batch 4 --steps 4 --freeze-weights --teacher self --mask-lr 0.1 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const model::ModelSpec cut = model::load_model(out)->spec();
  EXPECT_EQ(cut.hidden_size, 48);
  int64_t mlp = 0;
  for (const model::LayerSpec& l : cut.layers) {
    EXPECT_EQ(l.n_heads, 2);
    mlp += l.ffn_dim > 0;
    if (l.ffn_dim > 0) EXPECT_EQ(l.ffn_dim, 96);
  }
  EXPECT_EQ(mlp, 3);
  EXPECT_TRUE(fs::exists(out + "-run/metrics.jsonl"));
  const test::CommandResult rounds =
      test::run_bespoke("prune " + src + " --method l0 --targets \"ffn=128;ffn=96\" --recover-tokens 64 --data " +
                        data + " --seq-len 16 --batch 4 --steps 3 --freeze-weights --out " + dir + "/rounds");
  ASSERT_EQ(rounds.exit_code, 0) << rounds.err;
  EXPECT_EQ(model::load_model(dir + "/rounds/round-2")->spec().layers[0].ffn_dim, 96);
  EXPECT_TRUE(fs::exists(dir + "/rounds/round-1/l0/metrics.jsonl"));
}

}  // namespace
}  // namespace bespoke
