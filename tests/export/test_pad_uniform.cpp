// Zero-padding a pruned model to a uniform shape changes nothing it computes: the padded
// model's logits equal the cut model's, for every family and for query groups that need
// copied KV heads. OLMo2's full-width q/k norm is rescaled, exact up to its eps.
#include <gtest/gtest.h>

#include "bespoke/core/error.h"
#include "bespoke/export/pad_uniform.h"
#include "bespoke/io/safetensors.h"
#include "test_util.h"

namespace bespoke {
namespace {

struct Cut {
  std::string family;
  std::vector<int64_t> heads, kv_heads, ffn;
  double tolerance = 1e-5;  // fp32 reordering; OLMo2: its norms' eps sees a wider mean
};

class PadUniform : public ::testing::TestWithParam<Cut> {};

TEST_P(PadUniform, PaddedLogitsEqualTheCutModel) {
  const Cut& c = GetParam();
  model::Transformer cut = test::cut_fixture(c.family, c.heads, c.kv_heads, c.ffn);
  model::Transformer padded = exporter::pad_uniform(cut);
  for (const model::LayerSpec& l : padded->spec().layers) {
    EXPECT_EQ(l.n_heads, padded->spec().layers[0].n_heads);
    EXPECT_EQ(l.n_kv_heads, padded->spec().layers[0].n_kv_heads);
    EXPECT_EQ(l.ffn_dim, *std::max_element(c.ffn.begin(), c.ffn.end()));
  }
  const torch::Tensor ids =
      io::SafetensorsFile(test::fixture_dir(c.family) + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  const torch::Tensor want = cut->forward(ids).logits, got = padded->forward(ids).logits;
  EXPECT_LT(test::max_abs_diff(got, want), c.tolerance) << c.family;
}

// Layer 2 of the GQA cuts has 3 query heads on one KV head: wider than the padded group of 2,
// so its KV head is copied into two slots. OLMo2 forbids copies, so its cut keeps groups <= 2.
INSTANTIATE_TEST_SUITE_P(Families, PadUniform,
                         ::testing::Values(Cut{"llama", {4, 2, 3, 1}, {2, 1, 1, 1}, {160, 64, 96, 32}},
                                           Cut{"gemma2", {4, 4, 2, 0}, {2, 2, 1, 0}, {160, 96, 160, 32}},
                                           Cut{"gemma3", {4, 2, 3, 1}, {2, 1, 1, 1}, {160, 64, 96, 0}},
                                           Cut{"qwen3", {4, 2, 3, 1}, {2, 1, 1, 1}, {64, 160, 96, 32}},
                                           Cut{"olmo2", {4, 2, 2, 1}, {2, 1, 2, 1}, {160, 64, 96, 32}, 1e-4},
                                           Cut{"phi3", {4, 1, 2, 2}, {2, 1, 1, 2}, {160, 64, 96, 32}},
                                           Cut{"granite", {4, 2, 3, 1}, {2, 1, 1, 1}, {160, 64, 96, 32}}),
                         [](const auto& info) { return info.param.family; });

TEST(PadUniform, FullWidthNormThatWouldNeedCopiesIsRefusedNamingTheLayer) {
  model::Transformer cut = test::cut_fixture("olmo2", {4, 2, 3, 1}, {2, 1, 1, 1}, {160, 64, 96, 32});
  try {
    exporter::pad_uniform(cut);
    FAIL() << "padded an OLMo2 layer whose group needs a copied KV head";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("k norm"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bespoke
