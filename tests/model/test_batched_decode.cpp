// Rows that decode together through one right-aligned KV cache (a server's batch) compute what
// each computes alone: per step, the next-token logits of every row equal those of the row
// decoded by itself, while rows join at different steps with prompts of different lengths and
// leave early. Families cover sliding windows (gemma2, mistral), softcaps (gemma2), per-layer
// inputs and shared KV (gemma4), q/k norms (qwen3), DeltaNet states beside KV (qwen3_5).
#include <gtest/gtest.h>

#include "bespoke/model/generate.h"
#include "bespoke/model/load.h"
#include "test_util.h"

namespace bespoke {
namespace {

struct Row {
  std::vector<int64_t> prompt;
  int joins_at;  // the step at which it joins the batch
  int steps;     // logits it asks for before it leaves
};

// Greedy decoding of one row alone: the logits of each step, [steps, V].
torch::Tensor alone(model::Transformer& net, const Row& row) {
  model::Stepper stepper(net, torch::tensor(row.prompt, torch::kLong).unsqueeze(0));
  std::vector<torch::Tensor> out;
  for (int i = 0; i < row.steps; ++i) {
    out.push_back(stepper.next_logits()[0]);
    stepper.append(out.back().argmax().view({1, 1}));
  }
  return torch::stack(out);
}

// The same rows decoded as one batch: each prefilled alone and joined, one token per row per
// step, and dropped from the cache once it has its logits.
std::vector<torch::Tensor> together(model::Transformer& net, const std::vector<Row>& rows) {
  model::KvCache cache = net->new_cache();
  std::vector<std::vector<torch::Tensor>> got(rows.size());
  std::vector<int64_t> active, next(rows.size());
  for (int step = 0; step < 64; ++step) {
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rows[r].joins_at != step) continue;
      model::KvCache own = net->new_cache();
      const torch::Tensor logits = net->forward(torch::tensor(rows[r].prompt, torch::kLong).unsqueeze(0), &own).logits;
      got[r].push_back(logits[0][logits.size(1) - 1]);
      next[r] = got[r].back().argmax().item<int64_t>();
      cache = model::join_rows(cache, own);
      active.push_back(static_cast<int64_t>(r));
    }
    std::vector<int64_t> keep, kept;
    for (size_t i = 0; i < active.size(); ++i)
      if (static_cast<int>(got[active[i]].size()) < rows[active[i]].steps)
        keep.push_back(int64_t(i)), kept.push_back(active[i]);
    if (kept.size() < active.size()) cache = model::select_rows(cache, keep);
    active = kept;
    if (active.empty()) continue;
    std::vector<int64_t> ids;
    for (int64_t r : active) ids.push_back(next[r]);
    const torch::Tensor logits =
        net->forward(torch::tensor(ids, torch::kLong).unsqueeze(1), &cache).logits.select(1, 0);
    for (size_t i = 0; i < active.size(); ++i) {
      got[active[i]].push_back(logits[int64_t(i)]);
      next[active[i]] = logits[int64_t(i)].argmax().item<int64_t>();
    }
  }
  std::vector<torch::Tensor> out;
  for (const auto& g : got) out.push_back(torch::stack(g));
  return out;
}

std::vector<int64_t> random_ids(std::mt19937& rng, int n, int64_t vocab) {
  std::vector<int64_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int64_t>(rng() % vocab));
  return ids;
}

class BatchedDecode : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchedDecode, EveryRowComputesWhatItComputesAlone) {
  torch::NoGradGuard no_grad;
  model::Transformer net = model::load_model(test::fixture_dir(GetParam()));
  net->eval();
  std::mt19937 rng(7);
  const int64_t V = net->spec().input_vocab_size();
  // Lengths and joins chosen so that padding is added on both sides of a join, and a row
  // leaves while others go on (its padding trimmed from the rest).
  const std::vector<Row> rows = {{random_ids(rng, 3, V), 0, 9},
                                 {random_ids(rng, 11, V), 2, 5},
                                 {random_ids(rng, 2, V), 2, 8},
                                 {random_ids(rng, 6, V), 7, 4}};
  const std::vector<torch::Tensor> batched = together(net, rows);
  for (size_t r = 0; r < rows.size(); ++r) {
    const torch::Tensor reference = alone(net, rows[r]);
    ASSERT_EQ(batched[r].sizes(), reference.sizes()) << "row " << r;
    EXPECT_LT(test::max_abs_diff(batched[r], reference), 1e-4) << GetParam() << " row " << r;
    EXPECT_TRUE(torch::equal(batched[r].argmax(-1), reference.argmax(-1))) << GetParam() << " row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, BatchedDecode,
                         ::testing::Values("llama", "gemma2", "gemma4", "mistral", "qwen3", "qwen3_5"));

TEST(KvCacheRows, JoinPadsTheShorterAndSelectTrimsCommonPadding) {
  model::KvCache a, b;
  a.keys = {torch::ones({1, 2, 5, 4}), torch::Tensor()};
  a.values = {torch::ones({1, 2, 5, 4}) * 2, torch::Tensor()};
  a.length = 5;
  b.keys = {torch::ones({2, 2, 3, 4}) * 3, torch::Tensor()};
  b.values = {torch::ones({2, 2, 3, 4}) * 4, torch::Tensor()};
  b.length = 3;
  b.pad = torch::tensor({0, 1}, torch::kLong);
  const model::KvCache joined = model::join_rows(a, b);
  EXPECT_EQ(joined.length, 5);
  EXPECT_TRUE(torch::equal(joined.pad, torch::tensor({0, 2, 3}, torch::kLong)));
  EXPECT_EQ(joined.keys[0].sizes(), (std::vector<int64_t>{3, 2, 5, 4}));
  EXPECT_FALSE(joined.keys[1].defined());
  EXPECT_EQ(joined.keys[0][1].slice(1, 0, 2).abs().sum().item<float>(), 0.0f);  // the padding is zeros
  EXPECT_TRUE(torch::equal(joined.values[0][2].slice(1, 2), b.values[0][1]));
  const model::KvCache picked = model::select_rows(joined, {2, 1});
  EXPECT_EQ(picked.length, 3);  // two slots were padding in both rows
  EXPECT_TRUE(torch::equal(picked.pad, torch::tensor({1, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(picked.keys[0][1], b.keys[0][0]));
  EXPECT_TRUE(model::select_rows(joined, {}).keys[0].defined() == false);
}

}  // namespace
}  // namespace bespoke
