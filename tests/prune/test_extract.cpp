// Extraction against the two models it must equal: the source with every dropped unit's weights
// zeroed (and a dropped layer made the identity), and the source running with the selection's
// 0/1 masks. Each unit type alone, and all at once, for every fixture family; keeping
// everything, or masking with ones, gives the model back bit for bit. In Qwen 3.5's DeltaNet
// layers the "query heads" are value heads within their key heads, the "KV groups" key heads.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/model/tensor_table.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/masks.h"
#include "test_util.h"

namespace bespoke {
namespace {

using model::Axis;

// `k` of 0..n-1, ascending, chosen by `rng`.
std::vector<int64_t> some(int64_t n, int64_t k, std::mt19937& rng) {
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(k);
  std::sort(all.begin(), all.end());
  return all;
}

struct Cut {
  bool heads = false, groups = false, ffn = false, layer = false, hidden = false;
};

// A selection of `s` cutting what `cut` names: half of each group's query heads, half of the
// KV groups (with all their heads), half of the FFN neurons, one layer that no other reads, and
// a quarter of the hidden channels.
prune::Selection choose(const model::ModelSpec& s, const Cut& cut, uint32_t seed) {
  std::mt19937 rng(seed);
  prune::Selection sel = prune::keep_everything(s);
  if (cut.hidden) sel.hidden = some(s.hidden_size, s.hidden_size * 3 / 4, rng);
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    prune::LayerSelection& p = sel.per_layer[i];
    if (l.kv_source >= 0) {
      p.kv_groups = sel.per_layer[l.kv_source].kv_groups;  // tied to the layer it reads
    } else if (cut.groups && l.group_units() > 1) {
      p.kv_groups = some(l.group_units(), (l.group_units() + 1) / 2, rng);
    }
    const int64_t group = l.head_units() / l.group_units(), keep = cut.heads && group > 1 ? group / 2 : group;
    p.q_heads.clear();
    for (const int64_t g : p.kv_groups)
      for (const int64_t h : some(group, keep, rng)) p.q_heads.push_back(g * group + h);
    if (cut.ffn) p.ffn = some(l.ffn_dim, l.ffn_dim / 2, rng);
  }
  if (cut.layer) {
    const std::vector<std::vector<int64_t>> readers = model::kv_readers(s);
    for (int64_t i = 1; i < s.n_layers(); ++i)
      if (readers[i].size() <= 1) {  // read by itself only
        sel.layers.erase(sel.layers.begin() + i);
        break;
      }
  }
  return sel;
}

// The source computing what `sel` keeps: dropped units' slices zeroed in every tensor along
// their axis, and a dropped layer's outputs zeroed so that it passes its input through. A
// dropped hidden channel stays zero in the residual stream, where the norms still count it.
model::Transformer zeroed(model::Transformer& source, const prune::Selection& sel) {
  const model::ModelSpec& s = source->spec();
  model::Transformer out = test::with_spec(source, s);
  out->to(source->parameters().front().scalar_type());
  torch::NoGradGuard no_grad;
  auto params = out->named_parameters();
  const auto zero_dropped = [](torch::Tensor t, size_t d, const model::TensorInfo& info,
                               const std::vector<int64_t>& kept) {
    torch::Tensor keep = torch::zeros({info.units(d)});
    for (const int64_t u : kept) keep[u] = 1.0;
    std::vector<int64_t> shape(t.dim(), 1);
    shape[d] = t.size(d);
    t.mul_(keep.repeat_interleave(info.unit_width[d]).view(shape).to(t.dtype()));
  };
  for (const model::TensorInfo& info : model::tensor_table(s)) {
    torch::Tensor t = params[info.name];
    const bool norm = info.name.find("norm") != std::string::npos;  // its weight scales zeros only
    for (size_t d = 0; d < info.axes.size(); ++d)
      if (info.axes[d] == Axis::kHidden && !norm) zero_dropped(t, d, info, sel.hidden);
    if (info.layer < 0) continue;
    const prune::LayerSelection& p = sel.per_layer[info.layer];
    const bool dropped = std::find(sel.layers.begin(), sel.layers.end(), info.layer) == sel.layers.end();
    const std::string suffix = model::layer_tensor_suffix(info.name);
    if (dropped) {
      if (suffix == "layer_output_scale.weight") t.fill_(1.0);
      for (const char* output : {"attn_output.", "ssm.out.", "ffn_down.", "proj."})
        if (suffix.rfind(output, 0) == 0) t.zero_();
      continue;
    }
    for (size_t d = 0; d < info.axes.size(); ++d) {
      const std::vector<int64_t>* kept = info.axes[d] == Axis::kQ     ? &p.q_heads
                                         : info.axes[d] == Axis::kKv  ? &p.kv_groups
                                         : info.axes[d] == Axis::kFfn ? &p.ffn
                                                                      : nullptr;
      if (kept) zero_dropped(t, d, info, *kept);
    }
  }
  return out;
}

// `source` with its norms' epsilon at 1e-20 where `tiny`, as it is otherwise.
model::Transformer with_tiny_eps(model::Transformer& source, bool tiny) {
  model::ModelSpec s = source->spec();
  if (tiny) s.norm_eps = 1e-20;
  return test::with_spec(source, s);
}

const std::vector<std::string> kFamilies = {"llama",   "mistral",       "qwen2",       "qwen3", "gemma2",
                                            "gemma3",  "gemma4",        "gemma4_full", "phi3",  "olmo2",
                                            "granite", "gemma4_k_eq_v", "qwen3_5"};

class Extract : public ::testing::TestWithParam<std::string> {};

TEST_P(Extract, KeepingEverythingGivesTheModelBack) {
  model::Transformer net = model::load_model(test::fixture_dir(GetParam()));
  model::Transformer same = prune::extract(net, prune::keep_everything(net->spec()));
  auto want = net->named_parameters();
  for (const auto& p : same->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), want[p.key()])) << p.key();
}

// In fp64 the two agree to 1e-10 (the slicing is exact); in fp32 to 1e-5, Gemma 4 to 3e-5 (its
// attention is unscaled; measured 2.2e-5). A cut that shrinks a norm's width (every norm of the
// residual stream after a hidden cut, OLMo 2's full-width q/k norms after a head cut) runs with
// eps 1e-20: such a norm is rescaled to its new width, exact only as eps -> 0 (at the fixture's
// own eps OLMo 2's tiny logits move by up to 0.09, since its q and k are near zero). Norms
// compute in fp32, there over other widths on the two sides, so those cuts get 1e-5 in fp64 too
// (OLMo 2: measured 3.4e-6).
TEST_P(Extract, EachUnitTypeAloneAndAllAtOnceComputeWhatTheZeroedSourceDoes) {
  const std::string family = GetParam();
  model::Transformer loaded = model::load_model(test::fixture_dir(family));
  const model::ModelSpec& spec = loaded->spec();
  const bool full_width = spec.qk_norm == model::QkNorm::kFullWidth;
  const torch::Tensor ids = io::SafetensorsFile(test::fixture_dir(family) + "/reference.safetensors").get("input_ids");
  const std::pair<const char*, Cut> cuts[] = {
      {"query heads", {true, false, false, false, false}},     {"KV groups", {false, true, false, false, false}},
      {"FFN neurons", {false, false, true, false, false}},     {"a layer", {false, false, false, true, false}},
      {"hidden channels", {false, false, false, false, true}}, {"everything", {true, true, true, true, true}}};
  torch::NoGradGuard no_grad;
  for (const auto dtype : {torch::kFloat64, torch::kFloat32}) {
    for (const auto& [what, cut] : cuts) {
      model::Transformer net = with_tiny_eps(loaded, full_width || cut.hidden);
      net->to(dtype);
      const bool exact = dtype == torch::kFloat64 && !full_width && !cut.hidden;
      const double bound = exact ? 1e-10 : family.rfind("gemma4", 0) == 0 ? 3e-5 : 1e-5;
      const prune::Selection sel = choose(spec, cut, 7);
      model::Transformer small = prune::extract(net, sel);
      EXPECT_LT(model::parameter_count(small->spec()), model::parameter_count(spec)) << family << ": " << what;
      int64_t elements = 0;  // the prediction (the selected spec's count) against the cut model's tensors
      for (const torch::Tensor& p : small->parameters()) elements += p.numel();
      EXPECT_EQ(elements, model::parameter_count(prune::selected_spec(spec, sel))) << family << ": " << what;
      const double d = test::max_abs_diff(small->forward(ids).logits, zeroed(net, sel)->forward(ids).logits);
      EXPECT_LT(d, bound) << family << ": " << what << " in " << dtype;
    }
  }
}

// The selection's masks on the full model compute what the cut model computes, within the same
// bounds as above.
TEST_P(Extract, TheMaskedForwardIsTheExtractedForward) {
  const std::string family = GetParam();
  model::Transformer loaded = model::load_model(test::fixture_dir(family));
  const model::ModelSpec& spec = loaded->spec();
  const bool full_width = spec.qk_norm == model::QkNorm::kFullWidth;
  model::Transformer net = with_tiny_eps(loaded, false);
  const torch::Tensor ids = io::SafetensorsFile(test::fixture_dir(family) + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  const torch::Tensor plain = net->forward(ids).logits;
  net->set_masks(std::make_shared<model::UnitMasks>(prune::masks_of(spec, prune::keep_everything(spec))));
  EXPECT_TRUE(torch::equal(net->forward(ids).logits, plain)) << family << ": all-ones masks";
  const std::pair<const char*, Cut> cuts[] = {
      {"query heads", {true, false, false, false, false}},     {"KV groups", {false, true, false, false, false}},
      {"FFN neurons", {false, false, true, false, false}},     {"a layer", {false, false, false, true, false}},
      {"hidden channels", {false, false, false, false, true}}, {"everything", {true, true, true, true, true}}};
  for (const auto& [what, cut] : cuts) {
    const prune::Selection sel = choose(spec, cut, 11);
    net = with_tiny_eps(loaded, full_width || cut.hidden);
    model::Transformer small = prune::extract(net, sel);
    net->set_masks(std::make_shared<model::UnitMasks>(prune::masks_of(spec, sel)));
    const double d = test::max_abs_diff(net->forward(ids).logits, small->forward(ids).logits);
    EXPECT_LT(d, family.rfind("gemma4", 0) == 0 ? 3e-5 : 1e-5) << family << ": " << what;
  }
}

// Masks that require gradients get them, through a checkpointed model too, for learned masks.
TEST(Extract, MasksTakeGradients) {
  model::Transformer net = model::load_model(test::fixture_dir("qwen3"));
  net->set_activation_checkpointing(true);
  auto masks = std::make_shared<model::UnitMasks>(prune::masks_of(net->spec(), prune::keep_everything(net->spec())));
  for (torch::Tensor& m : masks->ffn) m.requires_grad_(true);
  masks->layers.requires_grad_(true);
  net->set_masks(masks);
  net->forward(torch::tensor({{1, 2, 3, 4}}, torch::kInt64)).logits.pow(2).mean().backward();
  for (const torch::Tensor& m : masks->ffn) EXPECT_GT(m.grad().abs().sum().item<double>(), 0.0);
  EXPECT_GT(masks->layers.grad().abs().sum().item<double>(), 0.0);
  model::UnitMasks wrong = *masks;
  wrong.ffn[1] = torch::ones({3});
  try {
    net->set_masks(std::make_shared<model::UnitMasks>(wrong));
    FAIL() << "took an FFN mask of the wrong size";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1: its FFN mask needs"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Families, Extract, ::testing::ValuesIn(kFamilies),
                         [](const auto& info) { return info.param; });

// A cut model is a model directory like any other: it reads back with the same logits.
TEST(Extract, ACutModelIsAModelDirectory) {
  model::Transformer net = model::load_model(test::fixture_dir("gemma4_full"));
  model::Transformer small = prune::extract(net, choose(net->spec(), {true, true, true, true, true}, 3));
  const std::string out = test::scratch_dir("extract") + "/cut";
  model::export_hf(small, test::fixture_dir("gemma4_full"), out);
  model::Transformer back = model::load_model(out);
  const torch::Tensor ids =
      io::SafetensorsFile(test::fixture_dir("gemma4_full") + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  EXPECT_EQ(test::max_abs_diff(back->forward(ids).logits, small->forward(ids).logits), 0.0);
}

void expect_refused(const model::ModelSpec& s, const prune::Selection& sel, const std::string& needle) {
  try {
    prune::selected_spec(s, sel);
    FAIL() << "accepted a selection that should fail with: " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Extract, SelectionsNoModelCanHaveAreRefusedNamingTheLayer) {
  const model::ModelSpec llama = model::load_model(test::fixture_dir("llama"))->spec();  // 4 heads in 2 groups
  prune::Selection sel = prune::keep_everything(llama);
  sel.per_layer[1].kv_groups = {1};
  expect_refused(llama, sel, "layer 1: keeps query heads of KV group 0, which it drops");
  sel = prune::keep_everything(llama);
  sel.per_layer[2].q_heads = {0, 1, 2};
  expect_refused(llama, sel, "layer 2: every kept KV group needs the same number of query heads");
  sel = prune::keep_everything(llama);
  sel.per_layer[0].ffn = {5, 3};
  expect_refused(llama, sel, "layer 0: kept FFN neurons must be ascending");
  sel = prune::keep_everything(llama);
  sel.layers = {};
  expect_refused(llama, sel, "kept layers must be ascending");
  sel = prune::keep_everything(llama);
  sel.hidden = {0, 2, 1};
  expect_refused(llama, sel, "kept hidden channels must be ascending");
  const model::ModelSpec g4 = model::load_model(test::fixture_dir("gemma4_full"))->spec();  // layer 4 reads layer 3
  sel = prune::keep_everything(g4);
  sel.layers = {0, 1, 2, 4, 5};
  expect_refused(g4, sel, "layer 4: reads the keys and values of layer 3, which the selection drops");
  sel = prune::keep_everything(g4);
  sel.per_layer[3].kv_groups = {0};
  sel.per_layer[3].q_heads = {0, 1};
  expect_refused(g4, sel, "layer 4: must keep the KV groups of layer 3");
}

}  // namespace
}  // namespace bespoke
