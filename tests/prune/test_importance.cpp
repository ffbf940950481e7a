// Activation importance: the same for any split of the samples into batches, and it ranks units
// by what they do: on a model trained in the test, masking each layer's least important FFN
// neurons or query heads raises the calibration loss less than masking the most important.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "bespoke/model/load.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/masks.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "bespoke/train/trainer.h"
#include "test_util.h"

namespace bespoke {
namespace {

TEST(Importance, TheSameForAnyBatchSplit) {
  model::Transformer net = model::load_model(test::fixture_dir("qwen3"));
  const torch::Tensor ids = torch::randint(net->spec().vocab_size, {4, 12}, torch::kInt64);
  const prune::Importance whole = prune::activation_importance(net, {ids});
  const prune::Importance split = prune::activation_importance(net, {ids.narrow(0, 0, 1), ids.narrow(0, 1, 3)});
  EXPECT_EQ(whole.tokens, 48);
  EXPECT_EQ(split.tokens, 48);
  for (int64_t i = 0; i < net->spec().n_layers(); ++i) {
    EXPECT_TRUE(torch::allclose(whole.ffn[i], split.ffn[i], 1e-5)) << i;
    EXPECT_TRUE(torch::allclose(whole.heads[i], split.heads[i], 1e-5)) << i;
    EXPECT_TRUE(torch::allclose(whole.kv[i], split.kv[i], 1e-5)) << i;
  }
  EXPECT_TRUE(torch::allclose(whole.layers, split.layers, 1e-5));
  EXPECT_GT(whole.ffn[0].min().item<double>(), 0.0);
}

// Mean next-token cross-entropy of `rows` under `net`.
double loss(model::Transformer& net, const std::vector<torch::Tensor>& rows) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  int64_t n = 0;
  for (const torch::Tensor& ids : rows) {
    const torch::Tensor logits = net->forward(ids).logits;
    const int64_t T = ids.size(1);
    sum += torch::nn::functional::cross_entropy(logits.narrow(1, 0, T - 1).flatten(0, 1),
                                                ids.narrow(1, 1, T - 1).flatten(),
                                                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
               .item<double>();
    n += ids.size(0) * (T - 1);
  }
  return sum / n;
}

// Each layer's `k` least (or most) important FFN neurons masked out; for heads, the least (or
// most) important query head of each KV group, since heads are ranked within their group.
prune::Selection without(const model::ModelSpec& s, const prune::Importance& imp, int64_t k, bool most, bool heads) {
  prune::Selection sel = prune::keep_everything(s);
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    std::vector<int64_t> drop;
    if (heads) {
      const int64_t group = l.n_heads / l.n_kv_heads;
      const torch::Tensor order = imp.heads[i].view({l.n_kv_heads, group}).argsort(1, most);
      for (int64_t g = 0; g < l.n_kv_heads; ++g) drop.push_back(g * group + order[g][0].item<int64_t>());
    } else {
      const torch::Tensor order = imp.ffn[i].argsort(0, most);
      for (int64_t j = 0; j < k; ++j) drop.push_back(order[j].item<int64_t>());
    }
    std::vector<int64_t>& kept = heads ? sel.per_layer[i].q_heads : sel.per_layer[i].ffn;
    for (const int64_t u : drop) kept.erase(std::find(kept.begin(), kept.end(), u));
  }
  return sel;
}

TEST(Importance, MaskingTheLeastImportantCostsLessThanTheMost) {
  namespace fs = std::filesystem;
  const std::string dir = test::scratch_dir("importance");
  std::ofstream(dir + "/data.jsonl") << R"({"text": "the quick brown fox jumps over the lazy dog"})"
                                     << "\n"
                                     << R"({"text": "pack my box with five dozen liquor jugs"})"
                                     << "\n"
                                     << R"({"text": "how vexingly quick daft zebras jump"})"
                                     << "\n";
  train::TrainConfig c;
  c.model = test::fixture_dir("llama");
  c.data = dir + "/data.jsonl";
  c.out = dir + "/run";
  c.steps = 40;
  c.seq_len = 32;
  c.batch = 3;
  c.micro_batch = 3;
  c.schedule.peak = 3e-3;
  c.schedule.warmup = 2;
  c.schedule.kind = "constant";
  const std::atomic<bool> run{false};
  train::train(c, run);
  model::Transformer net = model::load_model(c.out + "/final");
  const text::Encoder encoder(c.out + "/final");
  std::vector<torch::Tensor> rows;
  for (const text::Example& e : train::read_examples(c.data, encoder))
    rows.push_back(torch::tensor(e.ids, torch::kInt64).unsqueeze(0));
  const prune::Importance imp = prune::activation_importance(net, rows);
  const double base = loss(net, rows);
  for (const bool heads : {false, true}) {
    const auto masked_loss = [&](bool most) {
      const model::ModelSpec& s = net->spec();
      net->set_masks(std::make_shared<model::UnitMasks>(prune::masks_of(s, without(s, imp, 32, most, heads))));
      const double l = loss(net, rows);
      net->set_masks(nullptr);
      return l;
    };
    const double least = masked_loss(false), most = masked_loss(true);
    EXPECT_LT(least, most) << (heads ? "heads" : "ffn") << ": base " << base;
    EXPECT_LT(base, most) << (heads ? "heads" : "ffn");
  }
}

}  // namespace
}  // namespace bespoke
