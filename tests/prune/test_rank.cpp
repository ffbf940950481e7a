// Selections from importance: the kept units are the highest-scoring ones, GQA groups keep equal
// query heads, depth cuts keep the highest block influence (or one contiguous block), the layers
// others read, and a local/global pattern llama.cpp can express; per-layer shapes stay within
// the uniform cut's budget, in FFN blocks, above their floors, and use the budget up.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"
#include "bespoke/model/tensor_table.h"
#include "bespoke/prune/depth.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/non_uniform.h"
#include "bespoke/prune/rank.h"
#include "test_util.h"
#include "wide_llama.h"

namespace bespoke {
namespace {

// Random scores of every unit of `s`, seeded; layer i's FFN scores scaled by `ffn_scale[i]` and
// raised to `ffn_power[i]`, so that layers differ in scale and in shape.
prune::Importance random_importance(const model::ModelSpec& s, uint64_t seed, std::vector<double> ffn_power = {}) {
  torch::manual_seed(seed);
  prune::Importance imp;
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    imp.heads.push_back(torch::rand({l.n_heads}, torch::kFloat64));
    imp.kv.push_back(imp.heads.back().view({l.n_kv_heads, -1}).sum(1));
    const double power = ffn_power.empty() ? 1.0 : ffn_power[i];
    imp.ffn.push_back(torch::rand({l.ffn_dim}, torch::kFloat64).pow(power) * double(i + 1));
  }
  imp.layers = torch::rand({s.n_layers()}, torch::kFloat64);
  imp.hidden = torch::rand({s.hidden_size}, torch::kFloat64);
  return imp;
}

std::set<int64_t> as_set(const std::vector<int64_t>& v) {
  return {v.begin(), v.end()};
}

// The indices of the `k` highest scores, by torch's own sort.
std::set<int64_t> top_set(const torch::Tensor& scores, int64_t k) {
  const torch::Tensor idx = std::get<1>(scores.topk(k));
  std::set<int64_t> out;
  for (int64_t j = 0; j < k; ++j) out.insert(idx[j].item<int64_t>());
  return out;
}

TEST(Rank, KeepsTheHighestScoringUnitsWithEqualHeadsPerGroup) {
  const model::ModelSpec s = model::read_hf_config(test::fixture_dir("llama"));  // 4 heads in 2 groups, ffn 160
  for (const uint64_t seed : {1, 2, 3}) {
    const prune::Importance imp = random_importance(s, seed);
    prune::Target t = prune::parse_target("layers=3,heads=2,kv_heads=1,ffn=64");
    t.hidden = 40;
    const prune::Selection sel = prune::ranked_selection(s, imp, t);
    EXPECT_EQ(as_set(sel.hidden), top_set(imp.hidden, 40));
    EXPECT_EQ(as_set(sel.layers), top_set(imp.layers, 3));
    const model::ModelSpec cut = prune::selected_spec(s, sel);  // throws for unequal groups
    for (int64_t k = 0; k < cut.n_layers(); ++k) EXPECT_EQ(cut.layers[k].n_heads, 2);
    for (int64_t i = 0; i < s.n_layers(); ++i) {
      const prune::LayerSelection& p = sel.per_layer[i];
      EXPECT_EQ(as_set(p.ffn), top_set(imp.ffn[i], 64)) << i;
      EXPECT_EQ(as_set(p.kv_groups), top_set(imp.kv[i], 1)) << i;
      const int64_t g = p.kv_groups[0];
      std::set<int64_t> want;
      for (const int64_t h : top_set(imp.heads[i].view({2, 2})[g], 2)) want.insert(g * 2 + h);
      EXPECT_EQ(as_set(p.q_heads), want) << i;
    }
  }
}

TEST(Rank, LayersOthersReadStayAndShareTheirGroups) {
  const model::ModelSpec s = model::read_hf_config(test::fixture_dir("gemma4_full"));  // 4 and 5 read 2 and 3
  prune::Importance imp = random_importance(s, 4);
  imp.layers = torch::tensor({0.9, 0.8, 0.0, 0.0, 0.7, 0.6}, torch::kFloat64);
  const prune::Selection sel = prune::ranked_selection(s, imp, prune::parse_target("layers=4,heads=2,kv_heads=1"));
  EXPECT_EQ(sel.layers, (std::vector<int64_t>{0, 1, 2, 3}));
  const std::vector<std::vector<int64_t>> readers = model::kv_readers(s);
  for (int64_t i = 0; i < s.n_layers(); ++i)
    for (const int64_t r : readers[i]) EXPECT_EQ(sel.per_layer[r].kv_groups, sel.per_layer[i].kv_groups) << r;
  prune::selected_spec(s, sel);
  EXPECT_THROW(prune::ranked_layers(s, imp.layers, 1, false), Error);
}

TEST(Rank, AContiguousCutDropsTheBlockOfLeastTotalScore) {
  const model::ModelSpec s = model::read_hf_config(test::fixture_dir("llama"));
  for (const uint64_t seed : {5, 6, 7}) {
    torch::manual_seed(seed);
    const torch::Tensor scores = torch::rand({4}, torch::kFloat64);
    for (int64_t n = 1; n <= 4; ++n) {
      const std::vector<int64_t> kept = prune::ranked_layers(s, scores, n, true);
      ASSERT_EQ(int64_t(kept.size()), n);
      double least = 1e9;
      for (int64_t a = 0; a + (4 - n) <= 4; ++a)
        least = std::min(least, scores.narrow(0, a, 4 - n).sum().item<double>());
      std::vector<int64_t> dropped;
      for (int64_t i = 0; i < 4; ++i)
        if (!std::count(kept.begin(), kept.end(), i)) dropped.push_back(i);
      for (size_t j = 1; j < dropped.size(); ++j) EXPECT_EQ(dropped[j], dropped[j - 1] + 1);
      double sum = 0;
      for (const int64_t i : dropped) sum += scores[i].item<double>();
      EXPECT_NEAR(sum, least, 1e-12) << "n " << n;
    }
  }
}

// Whether llama.cpp's period rule (layer i local when i % p < p - 1) gives `kept` its kinds.
bool expressible(const model::ModelSpec& s, const std::vector<int64_t>& kept) {
  for (size_t p = 2; p <= kept.size() + 1; ++p) {
    bool ok = true;
    for (size_t k = 0; k < kept.size(); ++k) ok = ok && (s.layers[kept[k]].window > 0) == (k % p < p - 1);
    if (ok) return true;
  }
  return false;
}

// Gemma 2 and 3 in llama.cpp mark local layers by a period: a depth cut keeps the best-scoring
// layers among the choices a period expresses (every subset tried), and the cut exports.
TEST(Rank, GemmaDepthCutsKeepALocalGlobalPatternLlamaCppExpresses) {
  for (const std::string family : {"gemma2", "gemma3"}) {
    const std::string dir = test::fixture_dir(family);
    const model::ModelSpec s = model::read_hf_config(dir);  // local, global, local, global
    // Unconstrained, the two global layers would stay: a pattern no period gives.
    const torch::Tensor scores = torch::tensor({0.1, 1.0, 0.3, 0.9}, torch::kFloat64);
    for (int64_t n = 1; n <= 4; ++n) {
      double best = -1;
      for (int mask = 0; mask < 16; ++mask) {
        std::vector<int64_t> subset;
        double sum = 0;
        for (int64_t i = 0; i < 4; ++i)
          if (mask >> i & 1) subset.push_back(i), sum += scores[i].item<double>();
        if (int64_t(subset.size()) == n && expressible(s, subset)) best = std::max(best, sum);
      }
      const std::vector<int64_t> kept = prune::ranked_layers(s, scores, n, false);
      double sum = 0;
      for (const int64_t i : kept) sum += scores[i].item<double>();
      EXPECT_TRUE(expressible(s, kept)) << family << " n " << n;
      EXPECT_NEAR(sum, best, 1e-12) << family << " n " << n;
    }
    EXPECT_NE(prune::ranked_layers(s, scores, 2, false), (std::vector<int64_t>{1, 3}));
    model::Transformer net = model::load_model(dir);
    prune::Importance imp = random_importance(s, 8);
    imp.layers = scores;
    model::Transformer cut = prune::extract(net, prune::ranked_selection(s, imp, prune::parse_target("layers=2")));
    EXPECT_NO_THROW(exporter::export_gguf(cut, dir, test::scratch_dir("gemma_depth") + "/cut.gguf", io::GgmlType::kF32))
        << family;
  }
  // Families without a period keep the best layers, whatever their kinds.
  const model::ModelSpec llama = model::read_hf_config(test::fixture_dir("llama"));
  EXPECT_EQ(prune::ranked_layers(llama, torch::tensor({0.1, 1.0, 0.3, 0.9}, torch::kFloat64), 2, false),
            (std::vector<int64_t>{1, 3}));
}

// A model wide enough for 64-neuron FFN blocks: 4 layers, 8 query heads in 2 groups, FFN 512.
model::ModelSpec wide_spec() {
  return test::wide_llama(64, 1e-5);
}

TEST(Rank, NonUniformShapesStayWithinTheUniformBudgetAndUseIt) {
  const model::ModelSpec s = wide_spec();
  const prune::Target t = prune::parse_target("heads=4,kv_heads=2,ffn=256");
  for (const uint64_t seed : {1, 2}) {
    // Layers differ in how their FFN scores are spread, so their shares should too.
    const prune::Importance imp = random_importance(s, seed, {0.3, 1.0, 3.0, 8.0});
    const int64_t budget = model::parameter_count(prune::selected_spec(s, prune::ranked_selection(s, imp, t)));
    const prune::Selection sel = prune::non_uniform_selection(s, imp, t);
    const model::ModelSpec cut = prune::selected_spec(s, sel);
    const int64_t params = model::parameter_count(cut);
    EXPECT_LE(params, budget);
    std::set<int64_t> widths;
    for (int64_t i = 0; i < s.n_layers(); ++i) {
      const model::LayerSpec& l = cut.layers[i];
      const prune::LayerSelection& p = sel.per_layer[i];
      widths.insert(l.ffn_dim);
      EXPECT_TRUE(l.ffn_dim % 64 == 0 || l.ffn_dim == 512) << l.ffn_dim;
      EXPECT_GE(l.ffn_dim, 128) << i;  // half the target's 256
      EXPECT_GE(l.n_heads / l.n_kv_heads, 1) << i;
      EXPECT_EQ(as_set(p.ffn), top_set(imp.ffn[i], l.ffn_dim)) << i;
      for (const int64_t g : p.kv_groups) {
        std::set<int64_t> in_group, want;
        for (const int64_t h : p.q_heads)
          if (h / 4 == g) in_group.insert(h);
        for (const int64_t h : top_set(imp.heads[i].view({2, 4})[g], l.n_heads / l.n_kv_heads)) want.insert(g * 4 + h);
        EXPECT_EQ(in_group, want) << i;
      }
      // The budget is used up: no layer could take its next block or head slice.
      model::ModelSpec more = cut;
      if (l.ffn_dim < 512) {
        more.layers[i].ffn_dim = std::min<int64_t>(512, l.ffn_dim + 64);
        EXPECT_GT(model::parameter_count(more), budget) << i;
        more = cut;
      }
      if (l.n_heads < 8) {
        more.layers[i].n_heads += l.n_kv_heads;
        EXPECT_GT(model::parameter_count(more), budget) << i;
      }
    }
    EXPECT_GT(widths.size(), 1u) << "every layer kept the same FFN width";
  }
}

TEST(Rank, ImportanceOfAnotherModelIsRefused) {
  const model::ModelSpec s = model::read_hf_config(test::fixture_dir("llama"));
  prune::Importance imp = random_importance(s, 1);
  imp.ffn[2] = torch::rand({100}, torch::kFloat64);
  try {
    prune::ranked_selection(s, imp, prune::parse_target("ffn=64"));
    FAIL() << "accepted importance of another shape";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("layer 2 scores 100 FFN neurons, the model has 160"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace bespoke
