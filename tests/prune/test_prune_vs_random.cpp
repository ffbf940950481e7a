// On a small teacher trained in the test, pruning by activation importance beats the random
// control at the same target on held-out text: zero-shot against every random seed tried (with
// uniform and with per-layer shapes), and after the same short distillation from the teacher;
// depth by block influence beats random layers too (their expected loss: the mean over every pair).
// On the hybrid, the same for DeltaNet heads.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/l0.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/importance_io.h"
#include "bespoke/prune/non_uniform.h"
#include "bespoke/prune/rank.h"
#include "bespoke/prune/slicegpt.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "bespoke/train/trainer.h"
#include "test_util.h"

namespace bespoke {
namespace {

// Lines of a small grammar: what the teacher learns, and what held-out text is drawn from.
void write_corpus(const std::string& path, int lines, uint32_t seed) {
  const std::vector<std::string> who = {"the cat", "a dog", "my friend", "the old man", "a small bird", "the teacher"};
  const std::vector<std::string> does = {"sees", "likes", "finds", "carries", "follows", "paints"};
  const std::vector<std::string> what = {"a red ball", "the green door", "two apples", "a long letter", "the map"};
  const std::vector<std::string> where = {" in the park", " at night", " every day", " near the river", ""};
  std::mt19937 rng(seed);
  const auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  std::ofstream out(path);
  for (int i = 0; i < lines; ++i) {
    std::string text;
    for (int k = 0; k < 3; ++k) text += pick(who) + " " + pick(does) + " " + pick(what) + pick(where) + ". ";
    out << nlohmann::json{{"text", text}}.dump() << "\n";
  }
}

struct Fixture {
  std::string dir, teacher;
  std::vector<torch::Tensor> calibration, held_out;
};

// Trains a fixture briefly on the grammar; calibration rows from the training text, held-out
// rows from other lines.
Fixture train_teacher(const std::string& family) {
  Fixture f;
  f.dir = test::scratch_dir("prune_vs_random_" + family);
  write_corpus(f.dir + "/train.jsonl", 160, 1);
  write_corpus(f.dir + "/held_out.jsonl", 40, 2);
  train::TrainConfig c;
  c.model = test::fixture_dir(family);
  c.data = f.dir + "/train.jsonl";
  c.out = f.dir + "/teacher";
  c.steps = 60;
  c.seq_len = 32;
  c.batch = 8;
  c.schedule.peak = 3e-3;
  c.schedule.warmup = 4;
  const std::atomic<bool> run{false};
  train::train(c, run);
  f.teacher = c.out + "/final";
  const text::Encoder encoder(f.teacher);
  const prune::CalibrationOptions calibration{16, 32, 8};
  f.calibration = prune::calibration_batches(train::read_examples(c.data, encoder), calibration, c.data);
  f.held_out = prune::calibration_batches(train::read_examples(f.dir + "/held_out.jsonl", encoder), calibration, "");
  return f;
}

// One teacher for every test here.
const Fixture& trained_teacher() {
  static const Fixture f = train_teacher("llama");
  return f;
}

double loss(model::Transformer& net, const std::vector<torch::Tensor>& batches) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  int64_t rows = 0;
  for (const torch::Tensor& ids : batches) {
    sum += prune::next_token_loss(net->forward(ids).logits, ids) * double(ids.size(0));
    rows += ids.size(0);
  }
  return sum / double(rows);
}

// The held-out loss of `student` (cut from the teacher) distilled from it for a few steps.
double distilled_loss(const Fixture& f, model::Transformer& student, const std::string& name) {
  const std::string dir = f.dir + "/" + name;
  model::export_hf(student, f.teacher, dir);
  train::TrainConfig c;
  c.model = dir;
  c.teacher = f.teacher;
  c.data = f.dir + "/train.jsonl";
  c.out = dir + "-kd";
  c.steps = 24;
  c.seq_len = 32;
  c.batch = 8;
  c.schedule.peak = 2e-3;
  c.schedule.warmup = 2;
  const std::atomic<bool> run{false};
  train::train(c, run);
  model::Transformer distilled = model::load_model(c.out + "/final");
  return loss(distilled, f.held_out);
}

TEST(PruneVsRandom, ImportanceBeatsRandomZeroShotAfterDistillationAndInDepth) {
  const Fixture& f = trained_teacher();
  model::Transformer teacher = model::load_model(f.teacher);
  const model::ModelSpec& s = teacher->spec();
  const prune::Importance imp = prune::activation_importance(teacher, f.calibration);
  const double dense = loss(teacher, f.held_out);

  const prune::Target width = prune::parse_target("heads=2,kv_heads=1,ffn=48");
  const prune::Selection ranked = prune::ranked_selection(s, imp, width);
  model::Transformer ranked_cut = prune::extract(teacher, ranked);
  const double ranked_loss = loss(ranked_cut, f.held_out);
  std::vector<double> random_losses;
  for (const uint64_t seed : {1, 2, 3}) {
    model::Transformer cut = prune::extract(teacher, prune::random_selection(s, width, seed));
    random_losses.push_back(loss(cut, f.held_out));
    EXPECT_LT(ranked_loss, random_losses.back()) << "seed " << seed;
  }
  model::Transformer per_layer = prune::extract(teacher, prune::non_uniform_selection(s, imp, width));
  const double per_layer_loss = loss(per_layer, f.held_out);
  EXPECT_LT(per_layer_loss, *std::min_element(random_losses.begin(), random_losses.end()));
  std::cout << "dense " << dense << ", minitron " << ranked_loss << " (per-layer shapes " << per_layer_loss
            << "), random " << random_losses[0] << " " << random_losses[1] << " " << random_losses[2] << "\n";

  model::Transformer random_cut = prune::extract(teacher, prune::random_selection(s, width, 1));
  const double ranked_kd = distilled_loss(f, ranked_cut, "minitron");
  const double random_kd = distilled_loss(f, random_cut, "random");
  std::cout << "after distillation: minitron " << ranked_kd << ", random " << random_kd << "\n";
  EXPECT_LT(ranked_kd, random_kd);

  const prune::Target depth = prune::parse_target("layers=2");
  model::Transformer by_influence = prune::extract(teacher, prune::ranked_selection(s, imp, depth));
  const double influence_loss = loss(by_influence, f.held_out);
  // Random layers' expected loss: the mean over every pair of the 4 layers, each equally likely.
  double random_sum = 0;
  int64_t pairs = 0;
  for (int64_t a = 0; a < s.n_layers(); ++a)
    for (int64_t b = a + 1; b < s.n_layers(); ++b, ++pairs) {
      prune::Selection sel = prune::keep_everything(s);
      sel.layers = {a, b};
      model::Transformer cut = prune::extract(teacher, sel);
      random_sum += loss(cut, f.held_out);
    }
  std::cout << "depth: influence " << influence_loss << ", random expected " << random_sum / double(pairs) << "\n";
  EXPECT_LT(influence_loss, random_sum / double(pairs));
}

// The hybrid: Qwen 3.5's DeltaNet value heads, half of those in each key head, ranked by their
// outputs before ssm.out, against random heads at the same target (their expected loss: the mean
// over five seeds); training through the chunked delta rule taught the teacher the grammar first.
// Measured: dense 0.84, ranked 1.27, random 1.28 to 1.75 (mean 1.54).
TEST(PruneVsRandom, DeltaNetValueHeadsByImportanceBeatRandomOnAHybrid) {
  static const Fixture f = train_teacher("qwen3_5");
  model::Transformer untrained = model::load_model(test::fixture_dir("qwen3_5"));
  model::Transformer teacher = model::load_model(f.teacher);
  const model::ModelSpec& s = teacher->spec();
  const double dense = loss(teacher, f.held_out);
  EXPECT_LT(dense, 0.5 * loss(untrained, f.held_out));
  const prune::Importance imp = prune::activation_importance(teacher, f.calibration);
  const prune::Target t = prune::parse_target("value_heads=2");
  model::Transformer ranked = prune::extract(teacher, prune::ranked_selection(s, imp, t));
  const double ranked_loss = loss(ranked, f.held_out);
  double random_sum = 0;
  std::cout << "DeltaNet value heads 4 -> 2: dense " << dense << ", minitron " << ranked_loss << ", random";
  for (const uint64_t seed : {1, 2, 3, 4, 5}) {
    model::Transformer cut = prune::extract(teacher, prune::random_selection(s, t, seed));
    const double random_loss = loss(cut, f.held_out);
    random_sum += random_loss;
    std::cout << " " << random_loss;
  }
  std::cout << "\n";
  EXPECT_LT(ranked_loss, random_sum / 5);
}

// The methods compared at one target every one of them can cut, 40 of the 64 hidden channels:
// one-shot importance (Minitron), learned masks (frozen weights, started from that importance,
// distilled from the model itself), SliceGPT (one rotation of the stream), and random channels; each then distilled
// from the teacher for the same 24 steps. Printed as a table; what holds on this teacher is asserted.
TEST(PruneVsRandom, MethodsComparedAtOneHiddenTarget) {
  const Fixture& f = trained_teacher();
  model::Transformer teacher = model::load_model(f.teacher);
  const model::ModelSpec& s = teacher->spec();
  const prune::Importance imp = prune::activation_importance(teacher, f.calibration);
  const prune::Target target = prune::parse_target("hidden=40");

  model::Transformer minitron = prune::extract(teacher, prune::ranked_selection(s, imp, target));
  model::Transformer random = prune::extract(teacher, prune::random_selection(s, target, 1));
  pipeline::L0Options o;
  o.train.model = f.teacher;
  o.train.data = f.dir + "/train.jsonl";
  o.train.out = f.dir + "/l0";
  o.train.steps = 40;
  o.train.seq_len = 32;
  o.train.batch = 8;
  o.train.schedule.peak = 1e-3;
  o.train.schedule.warmup = 0;
  o.train.teacher = "self";
  o.target = target;
  o.freeze_weights = true;
  o.mask_lr = 0.1;
  o.lambda_lr = 0.1;
  prune::write_importance(f.dir + "/importance", imp, s);
  o.init_from = f.dir + "/importance";
  const std::atomic<bool> run{false};
  pipeline::L0Result learned = pipeline::learn_masks(o, run);
  model::Transformer l0 = pipeline::cut_learned(learned.run.model, learned.binarised);

  model::Transformer sliced = prune::slice_gpt(teacher, f.calibration, 40).model;
  std::vector<std::pair<std::string, model::Transformer>> arms = {
      {"minitron", minitron}, {"l0", l0}, {"slicegpt", sliced}, {"random", random}};
  std::map<std::string, std::pair<double, double>> losses;  // zero-shot, after distillation
  for (auto& [name, net] : arms) losses[name] = {loss(net, f.held_out), distilled_loss(f, net, "hidden-" + name)};
  std::cout << "hidden 64 -> 40, held-out loss (zero-shot / after 24 distillation steps); dense "
            << loss(teacher, f.held_out) << "\n";
  for (const auto& [name, l] : losses) std::cout << "  " << name << " " << l.first << " / " << l.second << "\n";
  // Measured: dense 1.205; SliceGPT 1.647 / 1.178, learned masks 2.953 / 1.425, Minitron
  // 2.954 / 1.425, random 3.340 / 1.473. A rotation keeps far more of the stream than any
  // choice of channels; 40 frozen-weight steps from the importance start barely move the masks.
  EXPECT_LT(losses["minitron"].second, losses["random"].second);
  EXPECT_LT(losses["l0"].second, losses["random"].second);
  EXPECT_LT(losses["slicegpt"].first, losses["minitron"].first);
  EXPECT_LT(losses["slicegpt"].second, losses["minitron"].second);
}

}  // namespace
}  // namespace bespoke
