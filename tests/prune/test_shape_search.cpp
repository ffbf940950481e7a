// The shape search: budgets parse or are refused naming --params; every candidate keeps the
// kernel rules, fits the budget and is about as large as the largest shape that fits, the most
// even first (every shape of the grid tried here), and the cut it picks has, tensor by tensor,
// the predicted parameter count and the loss it was ranked by.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "bespoke/core/error.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/depth.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/rank.h"
#include "bespoke/prune/shape_search.h"
#include "test_util.h"
#include "wide_llama.h"

namespace bespoke {
namespace {

TEST(ShapeSearch, BudgetsParseOrAreRefusedNamingTheKey) {
  EXPECT_EQ(prune::parse_param_count("1.5B"), 1500000000);
  EXPECT_EQ(prune::parse_param_count("800M"), 800000000);
  EXPECT_EQ(prune::parse_param_count("64k"), 64000);
  EXPECT_EQ(prune::parse_param_count("123456789"), 123456789);
  for (const std::string bad : {"", "1.5", "abc", "0", "-5", "1.2.3B", "B", ".5M", "2T"}) {
    try {
      prune::parse_param_count(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput);
      EXPECT_EQ(std::string(e.what()).rfind("--params '" + bad + "'", 0), 0u) << e.what();
    }
  }
}

// 4 layers, 8 query heads in 2 groups of head_dim 16, hidden 256, FFN 512. Its norms' epsilon is
// 1e-12: a hidden cut rescales them to the new width, exact as eps -> 0 (extract.h), and this
// random model's activations are small enough for 1e-5 to show in the loss.
model::ModelSpec wide_spec() {
  return test::wide_llama(256, 1e-12);
}

// The exact count of `t` on `s` keeping the first n layers (all layers here are alike).
int64_t count_of(const model::ModelSpec& s, const prune::Target& t) {
  return model::parameter_count(prune::selected_spec(s, prune::random_selection(s, t, 0)));
}

// The largest share of the wide spec any axis of `t` removes.
double deepest_cut(const prune::Target& t) {
  return std::max({1 - t.layers / 4.0, t.hidden ? 1 - t.hidden / 256.0 : 0.0, 1 - t.heads / 8.0, 1 - t.kv_heads / 2.0,
                   1 - t.ffn / 512.0});
}

TEST(ShapeSearch, CandidatesKeepTheKernelRulesFitTheBudgetAndAreTheLargest) {
  const model::ModelSpec s = wide_spec();
  const int64_t source = model::parameter_count(s);
  const prune::LayerChoice first = [](int64_t n) {
    std::vector<int64_t> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = i;
    return v;
  };
  for (const double share : {0.4, 0.6, 0.85}) {
    const int64_t budget = int64_t(share * double(source));
    const std::vector<prune::Shape> shapes = prune::candidate_shapes(s, budget, first, true, true, 5);
    ASSERT_FALSE(shapes.empty());
    EXPECT_LE(shapes.size(), 5u);
    for (size_t j = 0; j < shapes.size(); ++j) {
      const prune::Target& t = shapes[j].target;
      EXPECT_LE(shapes[j].params, budget);
      EXPECT_EQ(shapes[j].params, count_of(s, t));
      EXPECT_EQ(t.ffn % 64, 0);
      EXPECT_TRUE(t.ffn >= 64 && t.ffn <= 512);
      EXPECT_EQ(t.heads % t.kv_heads, 0);
      EXPECT_LE(t.heads / t.kv_heads, 4);
      EXPECT_TRUE(t.layers >= 1 && t.layers <= 4);
      EXPECT_TRUE(t.hidden == 0 || (t.hidden % 64 == 0 && t.hidden >= 64 && t.hidden < 256)) << t.hidden;
      if (j > 0) EXPECT_LE(deepest_cut(shapes[j - 1].target), deepest_cut(t));
    }
    // Every shape of the grid: the candidates are within 2% of the largest that fits, and the
    // first is the most even of the widest-FFN shapes in that window.
    int64_t largest = 0;
    std::vector<prune::Target> widest;
    for (int64_t n = 1; n <= 4; ++n)
      for (const int64_t h : {64, 128, 192, 0})  // 0: the source's 256
        for (int64_t kv = 1; kv <= 2; ++kv)
          for (int64_t g = 1; g <= 4; ++g) {
            prune::Target best;
            for (int64_t f = 64; f <= 512; f += 64)
              if (const int64_t p = count_of(s, prune::Target{n, h, kv * g, kv, f}); p <= budget)
                largest = std::max(largest, p), best = prune::Target{n, h, kv * g, kv, f};
            if (best.ffn) widest.push_back(best);
          }
    for (const prune::Shape& sh : shapes) EXPECT_GE(sh.params, largest - largest / 50) << share;
    for (const prune::Target& t : widest)
      if (count_of(s, t) >= largest - largest / 50) EXPECT_LE(deepest_cut(shapes[0].target), deepest_cut(t)) << share;
    EXPECT_TRUE(
        std::any_of(shapes.begin(), shapes.end(), [&](const prune::Shape& sh) { return sh.params == largest; }) ||
        shapes.size() == 5u)
        << share;
  }
  try {
    prune::candidate_shapes(s, prune::embedding_params(s) - 1, first, true, true, 5);
    FAIL() << "accepted a budget below the embeddings";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--params " + std::to_string(prune::embedding_params(s) - 1) +
                                         " is below the " + std::to_string(prune::embedding_params(s))),
              std::string::npos)
        << e.what();
  }
  const std::vector<prune::Shape> depth = prune::candidate_shapes(s, source * 3 / 4, first, false, true, 5);
  for (const prune::Shape& sh : depth) {
    EXPECT_EQ(sh.target.ffn + sh.target.heads + sh.target.kv_heads + sh.target.hidden, 0);
    EXPECT_LE(sh.params, source * 3 / 4);
  }
}

// The number of distinct parameter elements of `net` (a tied head counted once).
int64_t elements(model::Transformer& net) {
  std::set<const void*> seen;
  int64_t n = 0;
  for (const torch::Tensor& p : net->parameters())
    if (seen.insert(p.data_ptr()).second) n += p.numel();
  return n;
}

TEST(ShapeSearch, TheChosenCutHasThePredictedCountAndTheLossItWasRankedBy) {
  const model::ModelSpec s = wide_spec();
  model::Transformer net(s);
  model::init_random(net, 0.1);
  torch::manual_seed(3);
  const std::vector<torch::Tensor> batches = {torch::randint(256, {2, 24}, torch::kInt64),
                                              torch::randint(256, {1, 24}, torch::kInt64)};
  const prune::Importance imp = prune::activation_importance(net, batches);
  const prune::LayerChoice layers = [&](int64_t n) { return prune::ranked_layers(s, imp.layers, n, false); };
  std::vector<prune::Shape> shapes = prune::candidate_shapes(s, model::parameter_count(s) / 2, layers, true, true, 4);
  const auto select = [&](const prune::Target& t) { return prune::ranked_selection(s, imp, t); };
  prune::score_shapes(net, select, batches, shapes);
  for (size_t j = 1; j < shapes.size(); ++j) EXPECT_LE(shapes[j - 1].loss, shapes[j].loss);
  for (const prune::Shape& sh : shapes) {
    model::Transformer cut = prune::extract(net, select(sh.target));
    EXPECT_EQ(elements(cut), sh.params);
    torch::NoGradGuard no_grad;
    double sum = 0;
    for (const torch::Tensor& ids : batches) sum += prune::next_token_loss(cut->forward(ids).logits, ids) * ids.size(0);
    EXPECT_NEAR(sum / 3, sh.loss, 1e-4);
  }
  const std::string table = prune::shape_table(shapes, model::parameter_count(s));
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), int64_t(shapes.size()) + 1) << table;
  for (const prune::Shape& sh : shapes) EXPECT_NE(table.find(std::to_string(sh.params)), std::string::npos) << table;
}

}  // namespace
}  // namespace bespoke
