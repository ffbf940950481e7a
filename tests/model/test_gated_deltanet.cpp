// The Gated DeltaNet's two forms of the delta rule compute the same recurrence: the chunked
// form (prefill, training) against the token-by-token one (decoding), from a given state, over
// lengths that are not a multiple of the chunk and across several chunks; and a sequence cut in
// two and continued from the carried state equals the whole. The chunked form's gradients
// (training runs it) against central finite differences in fp64.
#include <gtest/gtest.h>

#include "bespoke/model/gated_deltanet.h"
#include "test_util.h"

namespace bespoke {
namespace {

struct Inputs {
  torch::Tensor q, k, v, g, beta, state;
};

// As the layer makes them: q and k of unit norm (q scaled), log-decays <= 0, beta in (0, 1).
Inputs random_inputs(int64_t B, int64_t H, int64_t T, int64_t dk, int64_t dv,
                     torch::ScalarType dtype = torch::kFloat32) {
  torch::manual_seed(11);
  const auto o = torch::TensorOptions().dtype(dtype);
  const auto unit = [](const torch::Tensor& x) { return x / x.norm(2, -1, true); };
  return {unit(torch::randn({B, H, T, dk}, o)) / std::sqrt(double(dk)),
          unit(torch::randn({B, H, T, dk}, o)),
          torch::randn({B, H, T, dv}, o),
          -torch::rand({B, H, T}, o) * 2,
          torch::rand({B, H, T}, o),
          torch::randn({B, H, dk, dv}, o)};
}

TEST(DeltaRule, ChunkedEqualsRecurrentFromAGivenState) {
  for (const int64_t T : {int64_t(1), int64_t(7), int64_t(21), int64_t(64), int64_t(70)}) {
    const Inputs in = random_inputs(2, 3, T, 8, 5);
    torch::Tensor s_rec = in.state.clone(), s_chunk = in.state.clone();
    const torch::Tensor rec = model::delta_rule_recurrent(in.q, in.k, in.v, in.g, in.beta, s_rec);
    for (const int64_t chunk : {int64_t(4), int64_t(64)}) {
      torch::Tensor s = in.state.clone();
      const torch::Tensor out = model::delta_rule_chunked(in.q, in.k, in.v, in.g, in.beta, s, chunk);
      ASSERT_EQ(out.sizes(), rec.sizes());
      EXPECT_LT(test::max_abs_diff(out, rec), 1e-5) << "T " << T << " chunk " << chunk;
      EXPECT_LT(test::max_abs_diff(s, s_rec), 1e-5) << "T " << T << " chunk " << chunk;
    }
  }
}

TEST(DeltaRule, AnUndefinedStateIsZeros) {
  const Inputs in = random_inputs(1, 2, 9, 4, 4);
  torch::Tensor none, zeros = torch::zeros({1, 2, 4, 4});
  const torch::Tensor a = model::delta_rule_chunked(in.q, in.k, in.v, in.g, in.beta, none, 4);
  const torch::Tensor b = model::delta_rule_recurrent(in.q, in.k, in.v, in.g, in.beta, zeros);
  EXPECT_LT(test::max_abs_diff(a, b), 1e-5);
  EXPECT_LT(test::max_abs_diff(none, zeros), 1e-5);
}

TEST(DeltaRule, ContinuingFromTheCarriedStateEqualsTheWhole) {
  const Inputs in = random_inputs(2, 2, 30, 8, 8);
  torch::Tensor whole_state;
  const torch::Tensor whole = model::delta_rule_chunked(in.q, in.k, in.v, in.g, in.beta, whole_state, 8);
  torch::Tensor state;
  const auto part = [&](int64_t from, int64_t n) {
    const auto cut = [&](const torch::Tensor& x) { return x.narrow(2, from, n); };
    return model::delta_rule_chunked(cut(in.q), cut(in.k), cut(in.v), cut(in.g), cut(in.beta), state, 8);
  };
  const torch::Tensor first = part(0, 13), second = part(13, 17);
  EXPECT_LT(test::max_abs_diff(torch::cat({first, second}, 2), whole), 1e-5);
  EXPECT_LT(test::max_abs_diff(state, whole_state), 1e-5);
}

TEST(DeltaRule, ChunkedGradientsEqualFiniteDifferences) {
  const Inputs in = random_inputs(1, 2, 7, 3, 2, torch::kFloat64);
  torch::manual_seed(3);
  const torch::Tensor w_out = torch::randn({1, 2, 7, 2}, torch::kFloat64),
                      w_state = torch::randn({1, 2, 3, 2}, torch::kFloat64);
  // Chunks of 3 over 7 tokens: the carried state, the padding and the triangular solve all in the path.
  const auto loss = [&](const std::vector<torch::Tensor>& x) {
    torch::Tensor state = x[5];
    const torch::Tensor o = model::delta_rule_chunked(x[0], x[1], x[2], x[3], x[4], state, 3);
    return (o * w_out).sum() + (state * w_state).sum();
  };
  std::vector<torch::Tensor> leaves = {in.q, in.k, in.v, in.g, in.beta, in.state};
  for (torch::Tensor& l : leaves) l = l.clone().requires_grad_();
  loss(leaves).backward();
  const double h = 1e-6;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const torch::Tensor flat_grad = leaves[i].grad().reshape(-1);
    for (int64_t e = 0; e < leaves[i].numel(); e += 3) {
      std::vector<torch::Tensor> plus, minus;
      for (const torch::Tensor& l : leaves) plus.push_back(l.detach().clone()), minus.push_back(l.detach().clone());
      plus[i].view(-1)[e] += h;
      minus[i].view(-1)[e] -= h;
      const double numeric = (loss(plus).item<double>() - loss(minus).item<double>()) / (2 * h);
      EXPECT_NEAR(flat_grad[e].item<double>(), numeric, 1e-6) << "input " << i << " entry " << e;
    }
  }
}

}  // namespace
}  // namespace bespoke
