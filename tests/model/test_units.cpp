// Units are what pruning keeps or drops whole. Every row of the tensor table says which unit
// each slice belongs to, and one step moves units both ways: selecting the kept units and
// placing them back gives the original tensor with the dropped units zeroed, bit for bit.
#include <gtest/gtest.h>

#include <random>

#include "bespoke/core/error.h"
#include "bespoke/model/load.h"
#include "bespoke/model/tensor_table.h"
#include "bespoke/model/units.h"
#include "test_util.h"

namespace bespoke {
namespace {

using model::Axis;
using model::TensorInfo;

// A random subset of [0, n), in random order.
std::vector<int64_t> random_subset(std::mt19937& rng, int64_t n) {
  std::vector<int64_t> all(n);
  for (int64_t i = 0; i < n; ++i) all[i] = i;
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(std::uniform_int_distribution<int64_t>(0, n)(rng));
  return all;
}

// `t` with every element outside the kept units of `dim` set to zero, built elementwise.
torch::Tensor zero_dropped(torch::Tensor t, int64_t dim, int64_t width, const std::vector<int64_t>& kept) {
  std::vector<bool> keep(t.size(dim) / width, false);
  for (int64_t u : kept) keep[u] = true;
  for (int64_t e = 0; e < t.size(dim); ++e)
    if (!keep[e / width]) t.select(dim, e).zero_();
  return t;
}

TEST(Units, SelectThenPlaceGivesBackTheTensorWithDroppedUnitsZeroed) {
  std::mt19937 rng(7);
  for (const char* family : {"llama", "gemma4", "phi3"}) {
    model::Transformer net = model::load_model(test::fixture_dir(family));
    auto params = net->named_parameters();
    for (const TensorInfo& info : model::tensor_table(net->spec())) {
      const torch::Tensor original = params.find(info.name)->detach();
      for (size_t d = 0; d < info.axes.size(); ++d) {
        if (info.axes[d] == Axis::kNone) continue;
        const std::vector<int64_t> kept = random_subset(rng, info.units(d));
        const model::UnitMap map = model::keep_units(kept);
        const torch::Tensor small = model::move_units(original, d, info.unit_width[d], map, int64_t(kept.size()));
        EXPECT_EQ(small.size(d), int64_t(kept.size()) * info.unit_width[d]) << info.name;
        const torch::Tensor back = model::move_units(small, d, info.unit_width[d], map.inverse(), info.units(d));
        EXPECT_TRUE(torch::equal(back, zero_dropped(original.clone(), d, info.unit_width[d], kept)))
            << family << " " << info.name << " dim " << d;
        EXPECT_TRUE(torch::equal(model::move_units(back, d, info.unit_width[d], map, int64_t(kept.size())), small))
            << family << " " << info.name << " dim " << d;
      }
    }
  }
}

TEST(Units, EveryRowNamesTheUnitsOfItsAxes) {
  const model::ModelSpec spec = model::load_model(test::fixture_dir("gemma4"))->spec();
  const std::vector<TensorInfo> table = model::tensor_table(spec);
  int64_t checked = 0;
  for (const TensorInfo& t : table) {
    ASSERT_EQ(t.unit_width.size(), t.shape.size()) << t.name;
    for (size_t d = 0; d < t.axes.size(); ++d) {
      const model::LayerSpec* l = t.layer >= 0 ? &spec.layers[t.layer] : nullptr;
      switch (t.axes[d]) {
        case Axis::kQ:
          EXPECT_EQ(t.units(d), l->n_heads) << t.name;
          ++checked;
          break;
        case Axis::kKv:
          EXPECT_EQ(t.units(d), l->n_kv_heads) << t.name;
          ++checked;
          break;
        case Axis::kFfn:
          EXPECT_EQ(t.units(d), l->ffn_dim) << t.name;
          ++checked;
          break;
        case Axis::kHidden:
          EXPECT_EQ(t.units(d), spec.hidden_size) << t.name;
          ++checked;
          break;
        case Axis::kLayer:
          EXPECT_EQ(t.units(d), spec.n_layers()) << t.name;
          ++checked;
          break;
        default:
          EXPECT_EQ(t.unit_width[d], 1) << t.name;
      }
    }
    const bool heads =
        std::count(t.axes.begin(), t.axes.end(), Axis::kQ) + std::count(t.axes.begin(), t.axes.end(), Axis::kKv) > 0;
    EXPECT_EQ(t.kv_layer, heads ? t.layer : -1) << t.name;  // this fixture shares no KV
  }
  EXPECT_GT(checked, 0);
}

TEST(Units, LayersThatReuseKeysAndValuesReadTheirSourcesGroups) {
  model::ModelSpec spec = model::load_model(test::fixture_dir("gemma4"))->spec();
  spec.layers[3].kv_source = 1;  // as Gemma 4's shared layers do
  for (const TensorInfo& t : model::tensor_table(spec)) {
    if (t.layer != 3) continue;
    EXPECT_EQ(t.name.find("attn_k."), std::string::npos) << "a sharing layer has no keys of its own: " << t.name;
    if (t.name == model::layer_tensor_name(3, "attn_q.weight")) EXPECT_EQ(t.kv_layer, 1);
  }
  const std::vector<std::vector<int64_t>> readers = model::kv_readers(spec);
  EXPECT_EQ(readers[1], (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(readers[0], (std::vector<int64_t>{0}));
  EXPECT_TRUE(readers[3].empty());
}

TEST(Units, AMapOutOfRangeIsRefused) {
  const torch::Tensor t = torch::ones({4, 3});
  EXPECT_THROW(model::move_units(t, 0, 2, model::keep_units({2}), 1), Error);
  EXPECT_THROW(model::move_units(t, 0, 2, model::UnitMap{{0}, {1}}, 1), Error);
}

}  // namespace
}  // namespace bespoke
