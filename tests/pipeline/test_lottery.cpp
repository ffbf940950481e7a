// The lottery-ticket arms on the Llama fixture trained briefly on numbered lines and cut to half
// its layers and FFN: the token count at which a curve reaches a loss; arm C's matrices are
// permutations of A's with its norms kept; arm D is a random cut of the source with A's shape;
// the four arms train on equal tokens with log-spaced curves, the sweep picks each arm's rate,
// B's extension gives the multiplier; a rerun reads every run back without training one (it is
// given a stop that would interrupt any), and a changed extension reruns only B's extension.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bespoke/core/error.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/lottery.h"
#include "bespoke/prune/extract.h"
#include "bespoke/train/trainer.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;
using pipeline::Json;

const std::atomic<bool> kRun{false};

std::string write_lines(const std::string& path, int first, int n) {
  std::ofstream out(path);
  for (int i = first; i < first + n; ++i)
    out << nlohmann::json{{"text", "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog"}}
               .dump()
        << "\n";
  return path;
}

struct Setup {
  std::string work, source, pruned, data, eval;
};

// The fixture after 30 steps on the lines (the source), and its cut to 2 layers and 80 FFN units.
const Setup& setup() {
  static const Setup s = [] {
    Setup s;
    s.work = test::scratch_dir("lottery");
    s.data = write_lines(s.work + "/data.jsonl", 0, 40);
    s.eval = write_lines(s.work + "/eval.jsonl", 100, 8);
    train::TrainConfig t;
    t.model = test::fixture_dir("llama");
    t.data = s.data;
    t.out = s.work + "/source";
    t.steps = 30;
    t.seq_len = 32;
    t.batch = 4;
    t.schedule.peak = 3e-3;
    train::train(t, kRun);
    s.source = t.out + "/final";
    model::Transformer source = model::load_model(s.source);
    prune::Target target;
    target.layers = 2;
    target.ffn = 80;
    model::Transformer cut = prune::extract(source, prune::random_selection(source->spec(), target, 7));
    s.pruned = s.work + "/pruned";
    model::export_hf(cut, s.source, s.pruned);
    return s;
  }();
  return s;
}

pipeline::LotteryConfig config(const std::string& out) {
  const Setup& s = setup();
  pipeline::LotteryConfig c;
  c.source = s.source;
  c.pruned = s.pruned;
  c.data = s.data;
  c.eval_data = s.eval;
  c.train.teacher = s.source;
  c.train.steps = 6;
  c.train.seq_len = 32;
  c.train.batch = 4;
  c.train.save_every = 2;
  c.lrs = {1e-3, 1e-2};
  c.sweep_steps = 2;
  c.seeds = {0, 1};
  c.eval_points = 3;
  c.max_multiple = 2;
  c.out = out;
  return c;
}

TEST(Lottery, TokensToReachInterpolatesBetweenPoints) {
  const Json curve = {{100, 3.0}, {200, 2.0}, {400, 1.0}};
  EXPECT_DOUBLE_EQ(*pipeline::tokens_to_reach(curve, 1.5), 300.0);  // halfway from 2.0 at 200 to 1.0 at 400
  EXPECT_DOUBLE_EQ(*pipeline::tokens_to_reach(curve, 2.0), 200.0);
  EXPECT_DOUBLE_EQ(*pipeline::tokens_to_reach(curve, 5.0), 100.0);  // already there at the first point
  EXPECT_FALSE(pipeline::tokens_to_reach(curve, 0.5));
}

TEST(Lottery, ShuffleWithinPermutesEntriesBySeed) {
  const torch::Tensor t = torch::arange(60, torch::kFloat32).reshape({6, 10});
  const torch::Tensor a = pipeline::shuffle_within(t, 1);
  EXPECT_EQ(a.sizes(), t.sizes());
  EXPECT_TRUE(torch::equal(std::get<0>(a.reshape(-1).sort()), t.reshape(-1)));  // the same entries
  EXPECT_FALSE(torch::equal(a, t));
  EXPECT_TRUE(torch::equal(a, pipeline::shuffle_within(t, 1)));
  EXPECT_FALSE(torch::equal(a, pipeline::shuffle_within(t, 2)));
}

TEST(Lottery, UniformTargetRecoversTheCutsShape) {
  const model::ModelSpec cut = model::read_hf_config(setup().pruned);
  const std::optional<prune::Target> t = pipeline::uniform_target(cut);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->layers, 2);
  EXPECT_EQ(t->ffn, 80);
  EXPECT_EQ(t->heads, 4);
  EXPECT_EQ(t->kv_heads, 2);
  EXPECT_EQ(t->hidden, 64);
  model::ModelSpec uneven = cut;
  uneven.layers[1].ffn_dim = 40;
  EXPECT_FALSE(pipeline::uniform_target(uneven));
}

TEST(Lottery, ArmsStartFromTheirOwnWeights) {
  const pipeline::LotteryConfig c = config(test::scratch_dir("lottery_arms"));
  model::Transformer a = pipeline::arm_start(c, "A", 0);
  model::Transformer b = pipeline::arm_start(c, "B", 0);
  model::Transformer cc = pipeline::arm_start(c, "C", 0);
  model::Transformer d = pipeline::arm_start(c, "D", 3);
  const auto pa = a->named_parameters(), pb = b->named_parameters(), pc = cc->named_parameters(),
             pd = d->named_parameters();
  ASSERT_EQ(pa.size(), pc.size());
  ASSERT_EQ(pa.size(), pd.size());
  int matrices = 0;
  for (const auto& p : pa) {
    const torch::Tensor& x = p.value();
    EXPECT_EQ(pb[p.key()].sizes(), x.sizes()) << p.key();
    EXPECT_EQ(pd[p.key()].sizes(), x.sizes()) << p.key();
    const torch::Tensor& y = pc[p.key()];
    if (x.dim() < 2) {
      EXPECT_TRUE(torch::equal(y, x)) << p.key();  // norms stay
      continue;
    }
    ++matrices;
    EXPECT_FALSE(torch::equal(y, x)) << p.key();
    EXPECT_TRUE(torch::equal(std::get<0>(y.reshape(-1).sort()), std::get<0>(x.reshape(-1).sort()))) << p.key();
    EXPECT_FALSE(torch::equal(pb[p.key()], x)) << p.key();
  }
  EXPECT_GT(matrices, 10);
  // D drew other FFN units than the cut's own (seed 7): its matrices differ where units were chosen.
  EXPECT_FALSE(torch::equal(pd["blk.0.ffn_up.weight"], pa["blk.0.ffn_up.weight"]));
  EXPECT_TRUE(torch::equal(pd["token_embd.weight"], pa["token_embd.weight"]));  // hidden is not cut
}

TEST(Lottery, ArmsRunOnEqualTokensAndRerunsReadBack) {
  const std::string out = test::scratch_dir("lottery_run");
  pipeline::LotteryConfig c = config(out);
  const Json r = pipeline::run_lottery(c, kRun);
  ASSERT_TRUE(fs::exists(out + "/lottery.json"));
  const int64_t tokens = r["arms"]["A"]["tokens"];
  EXPECT_GT(tokens, 0);
  for (const char* arm : {"A", "B", "C", "D"}) {
    const Json& a = r["arms"][arm];
    SCOPED_TRACE(arm);
    ASSERT_TRUE(a["skipped"].is_null());
    EXPECT_EQ(a["tokens"], tokens);
    ASSERT_EQ(a["seeds"].size(), 2u);
    for (const Json& s : a["seeds"]) {
      ASSERT_EQ(s["curve"].size(), 3u);  // steps 1, 2 (round(sqrt 6)) and 6
      EXPECT_LT(s["curve"][0][0].get<int64_t>(), s["curve"][2][0].get<int64_t>());
      EXPECT_EQ(s["curve"][2][1], s["final_eval_loss"]);
      EXPECT_FALSE(fs::exists(out + "/" + s["run"].get<std::string>() + "/checkpoints"));
      EXPECT_TRUE(fs::exists(out + "/" + s["run"].get<std::string>() + "/final/config.json"));
    }
    EXPECT_NE(a["seeds"][0]["final_eval_loss"], a["seeds"][1]["final_eval_loss"]);  // seeds differ
    ASSERT_EQ(a["sweep"].size(), 2u);
    // The chosen rate is the sweep's lowest loss.
    const Json& sw = a["sweep"];
    EXPECT_EQ(a["lr"], sw[0]["eval_loss"] < sw[1]["eval_loss"] ? sw[0]["lr"] : sw[1]["lr"]);
    EXPECT_TRUE(a["final_eval_loss"].is_number());
  }
  EXPECT_EQ(r["a_beats_b"], r["a_minus_b"].get<double>() > 0);
  EXPECT_NEAR(r["a_minus_b"].get<double>(),
              r["arms"]["B"]["final_eval_loss"].get<double>() - r["arms"]["A"]["final_eval_loss"].get<double>(), 1e-12);
  const Json& m = r["token_multiplier"];
  const Json& b_curve = m["b_curve"];
  EXPECT_EQ(b_curve.back()[0].get<int64_t>() > tokens, true);  // B ran on past A's tokens
  if (m["value"].is_number())
    EXPECT_NEAR(m["value"].get<double>() * tokens,
                *pipeline::tokens_to_reach(b_curve, r["arms"]["A"]["final_eval_loss"].get<double>()), 1e-6);
  else
    EXPECT_EQ(m["text"], "more than 2\u00d7");
  EXPECT_EQ(r["shape"]["layers"], 2);
  EXPECT_EQ(r["shape"]["ffn"], 80);

  // Everything finished: a stop that would interrupt any training run is never seen.
  const std::atomic<bool> stopped{true};
  EXPECT_EQ(pipeline::run_lottery(c, stopped), r);

  // A longer extension retrains B's extension alone: every other run is read back.
  c.max_multiple = 3;
  EXPECT_THROW(pipeline::run_lottery(c, stopped), Error);
  const Json longer = pipeline::run_lottery(c, kRun);
  EXPECT_EQ(longer["arms"], r["arms"]);
  EXPECT_GT(longer["token_multiplier"]["b_curve"].back()[0].get<int64_t>(), b_curve.back()[0].get<int64_t>());
}

TEST(Lottery, BadSettingsAreRefused) {
  pipeline::LotteryConfig c = config(test::scratch_dir("lottery_bad"));
  c.seeds.clear();
  EXPECT_THROW(pipeline::run_lottery(c, kRun), Error);
  c = config(c.out);
  c.eval_points = 1;
  EXPECT_THROW(pipeline::run_lottery(c, kRun), Error);
  c = config(c.out);
  c.max_multiple = 0.5;
  EXPECT_THROW(pipeline::run_lottery(c, kRun), Error);
}

}  // namespace
}  // namespace bespoke
