// prune_once: a shape cut is the extraction of the method's selection; a budget cut is the best
// of the searched shapes, within the budget; work that needs calibration rows refuses to run
// without them, and a random shape cut needs none.
#include <gtest/gtest.h>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/load.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/one_shot.h"
#include "bespoke/prune/rank.h"
#include "test_util.h"

namespace bespoke {
namespace {

std::vector<torch::Tensor> rows() {
  torch::manual_seed(0);
  return {torch::randint(0, 700, {4, 16}, torch::kInt64), torch::randint(0, 700, {2, 16}, torch::kInt64)};
}

TEST(OneShot, AShapeCutIsTheExtractedSelection) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const prune::Target t = prune::parse_target("layers=3,heads=2,kv_heads=1,ffn=64");
  prune::OneShot cut = prune::prune_once(net, {{prune::Method::kMinitron}}, {t}, rows());
  EXPECT_TRUE(cut.shapes.empty());
  const prune::Importance imp = prune::activation_importance(net, rows());
  model::Transformer want = prune::extract(net, prune::ranked_selection(net->spec(), imp, t));
  const torch::Tensor ids = io::SafetensorsFile(test::fixture_dir("llama") + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  EXPECT_LT(test::max_abs_diff(cut.model->forward(ids).logits, want->forward(ids).logits), 1e-6);
  EXPECT_EQ(cut.selection.layers, prune::ranked_selection(net->spec(), imp, t).layers);
}

TEST(OneShot, ABudgetCutIsTheBestSearchedShape) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const int64_t budget = model::parameter_count(net->spec()) * 7 / 10;
  prune::OneShot cut = prune::prune_once(net, {{prune::Method::kRandom}, {}, 3}, {std::nullopt, budget}, rows());
  ASSERT_FALSE(cut.shapes.empty());
  EXPECT_LE(cut.shapes.size(), 3u);
  for (size_t i = 1; i < cut.shapes.size(); ++i) EXPECT_LE(cut.shapes[i - 1].loss, cut.shapes[i].loss);
  EXPECT_EQ(model::parameter_count(cut.model->spec()), cut.shapes.front().params);
  EXPECT_LE(cut.shapes.front().params, budget);
}

TEST(OneShot, WorkThatNeedsRowsRefusesToRunWithoutThem) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const prune::Target t = prune::parse_target("ffn=64");
  EXPECT_THROW(prune::prune_once(net, {{prune::Method::kTaylor}}, {t}, {}), Error);
  EXPECT_THROW(prune::prune_once(net, {{prune::Method::kRandom}}, {std::nullopt, 100000}, {}), Error);
  EXPECT_EQ(prune::prune_once(net, {{prune::Method::kRandom}}, {t}, {}).model->spec().layers[0].ffn_dim, 64);
}

}  // namespace
}  // namespace bespoke
