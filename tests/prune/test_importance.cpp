// Importance, Minitron and Taylor: every field the same for any split of the samples into batches;
// each score equal to a direct computation of its definition (the aggregation of the tapped
// activations, the entropy of the attention distribution, a finite difference of the loss in a
// unit mask, the loss with a layer skipped); and it ranks units by what they do: on a model
// trained in the test, masking each layer's least important FFN neurons or query heads (or the model's least important
// hidden channels) raises the calibration loss less than masking the most important.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>

#include "bespoke/model/load.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/masks.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "bespoke/train/trainer.h"
#include "test_util.h"

namespace bespoke {
namespace {

using torch::Tensor;

// Both methods with skip-loss, on the same batches.
std::vector<prune::Importance> both(model::Transformer& net, const std::vector<Tensor>& batches) {
  const prune::ImportanceOptions o{true};
  return {prune::activation_importance(net, batches, o), prune::taylor_importance(net, batches, o)};
}

// The models run in fp64 here, so that a split changes nothing but the order of the sums kept in
// fp32: each batch's mask gradients and the per-batch reductions of the taps, an error of about
// 1e-7 of the largest term, whatever the size of the result. A Taylor score sums terms of both
// signs, so its result can be far below its terms: gemma4_full's layer-0 KV scores moved by up to
// 6.5e-6 of the largest score in one run of the suite (the order of fp32 sums follows the
// thread count). So every score is compared at 5e-5 of the largest of its kind, on fixed rows; a skip-loss, a difference of two losses of ~ln(vocab)
// summed in fp32, at `floor`. A dependence on the batching (a mean over the wrong count, a
// state carried between batches) moves scores by far more.
void expect_close(const Tensor& a, const Tensor& b, const std::string& what, double floor = 0) {
  ASSERT_EQ(a.defined(), b.defined()) << what;
  if (!a.defined()) return;
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  if (a.numel() == 0) return;
  const double atol = std::max(5e-5 * a.abs().max().item<double>(), floor);
  EXPECT_TRUE(torch::allclose(a, b, 1e-6, atol))
      << what << ": max diff " << test::max_abs_diff(a, b) << " of values up to " << a.abs().max().item<double>();
}

void expect_same(const prune::Importance& a, const prune::Importance& b) {
  EXPECT_EQ(a.tokens, b.tokens);
  for (size_t i = 0; i < a.heads.size(); ++i) {
    const std::string at = a.method + " layer " + std::to_string(i) + " ";
    expect_close(a.heads[i], b.heads[i], at + "heads");
    expect_close(a.kv[i], b.kv[i], at + "kv");
    expect_close(a.ffn[i], b.ffn[i], at + "ffn");
    expect_close(a.entropy[i], b.entropy[i], at + "entropy");
  }
  expect_close(a.layers, b.layers, a.method + " layers");
  expect_close(a.hidden, b.hidden, a.method + " hidden");
  expect_close(a.residual, b.residual, a.method + " residual");
  expect_close(a.drift, b.drift, a.method + " drift");
  expect_close(a.skip_loss, b.skip_loss, a.method + " skip_loss", 1e-5);
}

TEST(Importance, EveryFieldTheSameForAnyBatchSplit) {
  // qwen3: GQA and per-head q/k norms; gemma4_full: KV-sharing layers, sliding windows, sandwich
  // and per-layer-input norms, tied embeddings.
  torch::manual_seed(18);
  for (const std::string family : {"qwen3", "gemma4_full"}) {
    model::Transformer net = model::load_model(test::fixture_dir(family));
    for (auto& p : net->parameters()) p.set_data(p.to(torch::kFloat64));
    const Tensor ids = torch::randint(net->spec().input_vocab_size(), {4, 12}, torch::kInt64);
    const std::vector<prune::Importance> whole = both(net, {ids});
    const std::vector<prune::Importance> split = both(net, {ids.narrow(0, 0, 1), ids.narrow(0, 1, 3)});
    for (size_t m = 0; m < 2; ++m) {
      SCOPED_TRACE(family + " " + whole[m].method);
      EXPECT_EQ(whole[m].tokens, 48);
      expect_same(whole[m], split[m]);
      EXPECT_GT(whole[m].ffn[0].max().item<double>(), 0.0);
      EXPECT_GT(whole[m].hidden.max().item<double>(), 0.0);
      EXPECT_GT(whole[m].layers.max().item<double>(), 0.0);
    }
  }
}

// Every tap of one forward, detached.
std::map<std::string, Tensor> record_taps(model::Transformer& net, const Tensor& ids) {
  std::map<std::string, Tensor> taps;
  const model::TapObserver observe = [&](const std::string& name, const Tensor& v) { taps[name] = v.detach().clone(); };
  torch::NoGradGuard no_grad;
  net->forward(ids, nullptr, false, &observe);
  return taps;
}

// Model-Optimizer's aggregation, written out: sqrt(sum over rows of (mean over positions of |T|)^2).
Tensor minitron(const Tensor& t) {
  Tensor a = torch::zeros({t.size(-1)}, torch::kFloat64);
  for (int64_t b = 0; b < t.size(0); ++b) a += t[b].to(torch::kFloat64).abs().mean(0).pow(2);
  return a.sqrt();
}

TEST(Importance, MinitronScoresAreModelOptimizersAggregation) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const model::ModelSpec& s = net->spec();
  const Tensor ids = torch::randint(s.vocab_size, {3, 10}, torch::kInt64);
  const prune::Importance imp = prune::activation_importance(net, {ids});
  const std::map<std::string, Tensor> taps = record_taps(net, ids);
  Tensor hidden = minitron(taps.at("blk.0.input")) + minitron(taps.at("output_norm"));
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const std::string blk = "blk." + std::to_string(i) + ".";
    hidden += minitron(taps.at(blk + "attn_norm")) + minitron(taps.at(blk + "ffn_norm"));
    const model::LayerSpec& l = s.layers[i];
    const Tensor heads = minitron(taps.at(blk + "attn_output.input")).view({l.n_heads, l.head_dim}).norm(2, {1});
    EXPECT_TRUE(torch::allclose(imp.heads[i], heads, 1e-6)) << i;
    EXPECT_TRUE(torch::allclose(imp.kv[i], heads.view({l.n_kv_heads, -1}).sum(1), 1e-6)) << i;
    EXPECT_TRUE(torch::allclose(imp.ffn[i], minitron(taps.at(blk + "ffn_down.input")), 1e-6)) << i;
  }
  EXPECT_TRUE(torch::allclose(imp.hidden, hidden, 1e-6)) << test::max_abs_diff(imp.hidden, hidden);
}

TEST(Importance, EntropyIsThatOfTheAttentionDistribution) {
  for (const std::string family : {"llama", "gemma4_full"}) {  // causal; sliding windows and KV sharing
    SCOPED_TRACE(family);
    model::Transformer net = model::load_model(test::fixture_dir(family));
    const model::ModelSpec& s = net->spec();
    const Tensor ids = torch::randint(s.input_vocab_size(), {2, 12}, torch::kInt64);
    const std::map<std::string, Tensor> taps = record_taps(net, ids);
    const prune::Importance imp = prune::activation_importance(net, {ids});
    for (int64_t i = 0; i < s.n_layers(); ++i) {
      const std::string blk = "blk." + std::to_string(i) + ".";
      const Tensor p = taps.at(blk + "attn_probs").to(torch::kFloat64);  // [B, H, T, S]
      const int64_t B = p.size(0), H = p.size(1), T = p.size(2);
      EXPECT_TRUE(torch::allclose(p.sum(-1), torch::ones({B, H, T}, torch::kFloat64), 1e-5)) << i;
      EXPECT_EQ(p.triu(1).abs().max().item<double>(), 0.0) << "no query sees a later key, layer " << i;
      if (family == "llama") {  // the probabilities are the ones the context was made of
        const Tensor v = torch::matmul(taps.at(blk + "attn_norm"), net->named_parameters()[blk + "attn_v.weight"].t());
        const Tensor vh = v.view({B, T, 2, 1, 16}).expand({B, T, 2, 2, 16}).reshape({B, T, H, 16}).transpose(1, 2);
        const Tensor context = torch::matmul(p.to(torch::kFloat32), vh).transpose(1, 2).reshape({B, T, H * 16});
        EXPECT_LT(test::max_abs_diff(context, taps.at(blk + "attn_output.input")), 1e-5) << i;
      }
      Tensor entropy = torch::zeros({H}, torch::kFloat64);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t t = 0; t < T; ++t) {
            const Tensor row = p[b][h][t].masked_select(p[b][h][t] > 0);
            entropy[h] -= (row * row.log()).sum();
          }
      entropy /= double(B * T);
      EXPECT_TRUE(torch::allclose(imp.entropy[i], entropy, 1e-5)) << i << ": " << imp.entropy[i] << entropy;
    }
  }
}

TEST(Importance, ResidualContributionAndDriftAreDirectComputations) {
  model::Transformer net = model::load_model(test::fixture_dir("mistral"));
  const Tensor ids = torch::randint(net->spec().vocab_size, {2, 9}, torch::kInt64);
  const prune::Importance imp = prune::activation_importance(net, {ids});
  torch::NoGradGuard no_grad;
  const std::vector<Tensor> hidden = net->forward(ids, nullptr, true).hidden;  // layer i's input is hidden[i]
  for (int64_t i = 0; i + 1 < net->spec().n_layers(); ++i) {
    const Tensor in = hidden[i].to(torch::kFloat64).flatten(0, 1),
                 out = hidden[i + 1].to(torch::kFloat64).flatten(0, 1);
    double residual = 0, drift = 0;
    for (int64_t t = 0; t < in.size(0); ++t) {
      residual += ((out[t] - in[t]).norm() / in[t].norm()).item<double>();
      drift += 1 - (in[t].dot(out[t]) / (in[t].norm() * out[t].norm())).item<double>();
    }
    EXPECT_NEAR(imp.residual[i].item<double>(), residual / double(in.size(0)), 1e-5) << i;
    EXPECT_NEAR(imp.drift[i].item<double>(), drift / double(in.size(0)), 1e-5) << i;
    EXPECT_NEAR(imp.layers[i].item<double>(), imp.drift[i].item<double>(), 1e-12) << "block influence";
  }
}

// Mean next-token cross-entropy of `rows` under `net`.
double loss(model::Transformer& net, const std::vector<Tensor>& rows) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  int64_t n = 0;
  for (const Tensor& ids : rows) {
    const Tensor logits = net->forward(ids).logits;
    const int64_t T = ids.size(1);
    sum += torch::nn::functional::cross_entropy(logits.narrow(1, 0, T - 1).flatten(0, 1),
                                                ids.narrow(1, 1, T - 1).flatten(),
                                                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
               .item<double>();
    n += ids.size(0) * (T - 1);
  }
  return sum / n;
}

// The loss with every mask 1 except one unit's at `value`.
double loss_at(model::Transformer& net, const std::vector<Tensor>& rows, const std::string& kind, int64_t layer,
               int64_t unit, double value) {
  model::UnitMasks m;
  const model::ModelSpec& s = net->spec();
  for (const model::LayerSpec& l : s.layers) {
    m.heads.push_back(torch::ones({l.n_heads}));
    m.kv.push_back(torch::ones({l.n_kv_heads}));
    m.ffn.push_back(torch::ones({l.ffn_dim}));
  }
  m.layers = torch::ones({s.n_layers()});
  Tensor& t = kind == "heads" ? m.heads[layer] : kind == "kv" ? m.kv[layer] : kind == "ffn" ? m.ffn[layer] : m.layers;
  t[kind == "layers" ? layer : unit] = value;
  net->set_masks(std::make_shared<model::UnitMasks>(m));
  const double l = loss(net, rows);
  net->set_masks(nullptr);
  return l;
}

// The scores of every unit, computed on two batches, against autograd's gradient of the mean loss
// over one batch of all the rows; and that gradient against a finite difference of the loss.
TEST(Importance, TaylorScoresAreTheLossGradientInEachUnitMask) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const model::ModelSpec& s = net->spec();
  const Tensor ids = torch::randint(s.vocab_size, {3, 10}, torch::kInt64);
  const prune::Importance imp = prune::taylor_importance(net, {ids.narrow(0, 0, 2), ids.narrow(0, 2, 1)});

  model::UnitMasks m;
  for (const model::LayerSpec& l : s.layers) {
    m.heads.push_back(torch::ones({l.n_heads}).requires_grad_());
    m.kv.push_back(torch::ones({l.n_kv_heads}).requires_grad_());
    m.ffn.push_back(torch::ones({l.ffn_dim}).requires_grad_());
  }
  m.layers = torch::ones({s.n_layers()}).requires_grad_();
  net->set_masks(std::make_shared<model::UnitMasks>(m));
  const int64_t T = ids.size(1);
  torch::nn::functional::cross_entropy(net->forward(ids).logits.narrow(1, 0, T - 1).flatten(0, 1),
                                       ids.narrow(1, 1, T - 1).flatten())
      .backward();
  net->set_masks(nullptr);
  const auto expect = [](const Tensor& got, const Tensor& mask, const std::string& what) {
    const Tensor want = mask.grad().abs().to(torch::kFloat64);
    // As in expect_close: fp32 sums in another order, an error on the scale of the largest term.
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5 * want.abs().max().item<double>()))
        << what << ": " << test::max_abs_diff(got, want);
  };
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    expect(imp.heads[i], m.heads[i], "heads " + std::to_string(i));
    expect(imp.kv[i], m.kv[i], "kv " + std::to_string(i));
    expect(imp.ffn[i], m.ffn[i], "ffn " + std::to_string(i));
  }
  expect(imp.layers, m.layers, "layers");

  // fp32: a step of 1e-2 keeps rounding (~1e-7 of the loss) well below the slopes compared.
  const double h = 1e-2;
  const std::vector<Tensor> rows = {ids};
  for (const auto& [kind, layer, unit] :
       {std::tuple{"heads", 1, 3}, {"kv", 2, 1}, {"layers", 2, 0}, {"layers", 0, 0}}) {
    const double slope =
        (loss_at(net, rows, kind, layer, unit, 1 + h) - loss_at(net, rows, kind, layer, unit, 1 - h)) / (2 * h);
    const std::string k = kind;
    const Tensor& grad = k == "heads" ? m.heads[layer].grad() : k == "kv" ? m.kv[layer].grad() : m.layers.grad();
    const double g = grad[k == "layers" ? layer : unit].item<double>();
    EXPECT_NEAR(g, slope, 1e-4 + 0.02 * std::abs(slope)) << k << " " << layer << " " << unit;
  }
}

// Taylor's hidden score through the weights: a norm's output channel c is x_c * w_c, so the sum
// over tokens of a_c * dL/da_c is w_c * dL/dw_c; for the (untied) embedding output it is the sum
// over the table of E[v, c] * dL/dE[v, c].
TEST(Importance, TaylorHiddenScoreIsTheNormsAndEmbeddingsFirstOrderTerm) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const Tensor ids = torch::randint(net->spec().vocab_size, {3, 10}, torch::kInt64);
  const prune::Importance imp = prune::taylor_importance(net, {ids});
  net->zero_grad();
  const Tensor logits = net->forward(ids).logits;
  const int64_t T = ids.size(1);
  torch::nn::functional::cross_entropy(logits.narrow(1, 0, T - 1).flatten(0, 1), ids.narrow(1, 1, T - 1).flatten())
      .backward();
  Tensor expected = torch::zeros({net->spec().hidden_size}, torch::kFloat64);
  for (const auto& p : net->named_parameters()) {
    const std::string& name = p.key();
    const Tensor wg = (p.value() * p.value().grad()).to(torch::kFloat64);
    if (name == "token_embd.weight") expected += wg.sum(0).abs();
    if (name == "output_norm.weight" || name.find("attn_norm.weight") != std::string::npos ||
        name.find("ffn_norm.weight") != std::string::npos)
      expected += wg.abs();
  }
  EXPECT_TRUE(torch::allclose(imp.hidden, expected, 1e-4, 1e-9)) << test::max_abs_diff(imp.hidden, expected);
}

TEST(Importance, SkipLossIsTheLossWithTheLayerSkipped) {
  model::Transformer net = model::load_model(test::fixture_dir("qwen3"));
  const std::vector<Tensor> rows = {torch::randint(net->spec().vocab_size, {2, 10}, torch::kInt64)};
  prune::ImportanceOptions o;
  o.skip_loss = true;
  const prune::Importance imp = prune::activation_importance(net, rows, o);
  const double base = loss(net, rows);
  for (int64_t i = 0; i < net->spec().n_layers(); ++i)
    EXPECT_NEAR(imp.skip_loss[i].item<double>(), loss_at(net, rows, "layers", i, 0, 0.0) - base, 1e-5) << i;
  EXPECT_FALSE(prune::activation_importance(net, rows).skip_loss.defined()) << "only when asked";
}

enum class Unit { kFfn, kHeads, kHidden };

// Each layer's `k` least (or most) important FFN neurons masked out; for heads, the least (or
// most) important query head of each KV group, since heads are ranked within their group; for
// hidden channels, the model's `k` least (or most) important.
prune::Selection without(const model::ModelSpec& s, const prune::Importance& imp, int64_t k, bool most, Unit unit) {
  prune::Selection sel = prune::keep_everything(s);
  if (unit == Unit::kHidden) {
    const Tensor order = imp.hidden.argsort(0, most);
    for (int64_t j = 0; j < k; ++j)
      sel.hidden.erase(std::find(sel.hidden.begin(), sel.hidden.end(), order[j].item<int64_t>()));
    return sel;
  }
  const bool heads = unit == Unit::kHeads;
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    std::vector<int64_t> drop;
    if (heads) {
      const int64_t group = l.n_heads / l.n_kv_heads;
      const Tensor order = imp.heads[i].view({l.n_kv_heads, group}).argsort(1, most);
      for (int64_t g = 0; g < l.n_kv_heads; ++g) drop.push_back(g * group + order[g][0].item<int64_t>());
    } else {
      const Tensor order = imp.ffn[i].argsort(0, most);
      for (int64_t j = 0; j < k; ++j) drop.push_back(order[j].item<int64_t>());
    }
    std::vector<int64_t>& kept = heads ? sel.per_layer[i].q_heads : sel.per_layer[i].ffn;
    for (const int64_t u : drop) kept.erase(std::find(kept.begin(), kept.end(), u));
  }
  return sel;
}

TEST(Importance, MaskingTheLeastImportantCostsLessThanTheMost) {
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
  std::vector<Tensor> rows;
  for (const text::Example& e : train::read_examples(c.data, encoder))
    rows.push_back(torch::tensor(e.ids, torch::kInt64).unsqueeze(0));
  const double base = loss(net, rows);
  for (const prune::Importance& imp : both(net, rows)) {
    for (const Unit unit : {Unit::kFfn, Unit::kHeads, Unit::kHidden}) {
      const auto masked_loss = [&](bool most) {
        const model::ModelSpec& s = net->spec();
        const int64_t k = unit == Unit::kHidden ? 16 : 32;
        net->set_masks(std::make_shared<model::UnitMasks>(prune::masks_of(s, without(s, imp, k, most, unit))));
        const double l = loss(net, rows);
        net->set_masks(nullptr);
        return l;
      };
      const double least = masked_loss(false), most = masked_loss(true);
      const std::string what = imp.method + (unit == Unit::kHeads ? " heads" : unit == Unit::kFfn ? " ffn" : " hidden");
      EXPECT_LT(least, most) << what << ": base " << base;
      EXPECT_LT(base, most) << what;
    }
  }
}

}  // namespace
}  // namespace bespoke
