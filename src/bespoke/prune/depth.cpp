#include "bespoke/prune/depth.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <string>

#include "bespoke/core/error.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::prune {
namespace {

constexpr double kNone = -std::numeric_limits<double>::infinity();

[[noreturn]] void bad(const std::string& why) {
  fail(ErrorKind::kInput, "target layers: " + why);
}

bool local_at(int64_t position, int64_t period) {
  return position % period < period - 1;
}

// A period p (2 <= p <= n + 1, p = n + 1 being all local) under which llama.cpp gives the
// kept layers the kinds they have, or 0.
int64_t period_of(const model::ModelSpec& s, const std::vector<int64_t>& kept) {
  const int64_t n = int64_t(kept.size());
  for (int64_t p = 2; p <= n + 1; ++p) {
    bool ok = true;
    for (int64_t k = 0; k < n && ok; ++k) ok = (s.layers[kept[k]].window > 0) == local_at(k, p);
    if (ok) return p;
  }
  return 0;
}

// Whether the family's llama.cpp architecture marks local layers by a period. It is asked of the
// model with every layer sized like layer 0, since native architectures refuse per-layer shapes
// and those do not change the rule; an architecture that refuses the model marks nothing.
bool period_marked(const model::ModelSpec& s) {
  const model::Family& family = model::family_named(s.family);
  if (!family.gguf_arch) return false;
  model::ModelSpec alike = s;
  for (model::LayerSpec& l : alike.layers) {
    l.n_heads = s.layers[0].n_heads, l.n_kv_heads = s.layers[0].n_kv_heads;
    l.head_dim = s.layers[0].head_dim, l.ffn_dim = s.layers[0].ffn_dim;
  }
  try {
    return family.gguf_arch(alike).swa_default_period > 0;
  } catch (const Error&) {
    return false;
  }
}

// The highest-scoring `n` layers, `fixed` ones among them, where layer i may be the j-th kept
// only if fits(i, j); empty if no choice fits. best[i][j] is the best sum of j kept layers
// among the first i.
std::vector<int64_t> best_choice(const std::vector<double>& score, const std::vector<bool>& fixed, int64_t n,
                                 const std::function<bool(int64_t, int64_t)>& fits) {
  const int64_t L = int64_t(score.size());
  std::vector<std::vector<double>> best(L + 1, std::vector<double>(n + 1, kNone));
  best[0][0] = 0;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j <= n; ++j) {
      if (best[i][j] == kNone) continue;
      if (!fixed[i]) best[i + 1][j] = std::max(best[i + 1][j], best[i][j]);
      if (j < n && fits(i, j)) best[i + 1][j + 1] = std::max(best[i + 1][j + 1], best[i][j] + score[i]);
    }
  if (best[L][n] == kNone) return {};
  std::vector<int64_t> kept;
  for (int64_t i = L, j = n; i > 0; --i)
    if (j > 0 && fits(i - 1, j - 1) && best[i - 1][j - 1] != kNone && best[i - 1][j - 1] + score[i - 1] == best[i][j])
      kept.insert(kept.begin(), i - 1), --j;
  return kept;
}

// All layers but the lowest-scoring block of L - n consecutive ones that holds no fixed layer
// and leaves a kept list `ok` accepts; empty if none does.
std::vector<int64_t> best_block(const std::vector<double>& score, const std::vector<bool>& fixed, int64_t n,
                                const std::function<bool(const std::vector<int64_t>&)>& ok) {
  const int64_t L = int64_t(score.size()), drop = L - n;
  std::vector<int64_t> best;
  double least = -kNone;
  for (int64_t a = 0; a + drop <= L; ++a) {
    std::vector<int64_t> kept;
    double sum = 0;
    bool movable = true;
    for (int64_t i = 0; i < L; ++i)
      if (i >= a && i < a + drop)
        sum += score[i], movable = movable && !fixed[i];
      else
        kept.push_back(i);
    if (movable && sum < least && ok(kept)) least = sum, best = kept;
  }
  return best;
}

}  // namespace

std::vector<int64_t> ranked_layers(const model::ModelSpec& s, const torch::Tensor& scores, int64_t n, bool contiguous) {
  const int64_t L = s.n_layers();
  if (scores.numel() != L)
    fail(ErrorKind::kInput, "layer importance has " + std::to_string(scores.numel()) + " scores, the model " +
                                std::to_string(L) + " layers");
  if (n < 1 || n > L) bad(std::to_string(n) + " is not between 1 and the model's " + std::to_string(L));
  const torch::Tensor flat = scores.to(torch::kFloat64).contiguous();
  const std::vector<double> score(flat.data_ptr<double>(), flat.data_ptr<double>() + L);
  const std::vector<std::vector<int64_t>> readers = model::kv_readers(s);
  std::vector<bool> fixed(L);
  int64_t n_fixed = 0;
  for (int64_t i = 0; i < L; ++i) {
    fixed[i] = readers[i].size() > 1;
    n_fixed += fixed[i] ? 1 : 0;
  }
  if (n < n_fixed) bad("other layers read the keys and values of " + std::to_string(n_fixed) + " layers, which stay");
  std::vector<int64_t> all(L);
  for (int64_t i = 0; i < L; ++i) all[i] = i;
  const bool by_period = period_marked(s) && period_of(s, all) > 0;
  std::vector<int64_t> kept;
  if (contiguous) {
    kept = best_block(score, fixed, n, [&](const std::vector<int64_t>& k) { return !by_period || period_of(s, k); });
  } else if (!by_period) {
    kept = best_choice(score, fixed, n, [](int64_t, int64_t) { return true; });
  } else {
    double best = kNone;
    for (int64_t p = 2; p <= n + 1; ++p) {
      const auto fits = [&](int64_t i, int64_t j) { return (s.layers[i].window > 0) == local_at(j, p); };
      std::vector<int64_t> k = best_choice(score, fixed, n, fits);
      double sum = 0;
      for (const int64_t i : k) sum += score[i];
      if (!k.empty() && sum > best) best = sum, kept = k;
    }
  }
  if (kept.empty())
    bad("no " + std::to_string(n) + " of the " + std::to_string(L) + " layers" +
        (contiguous ? " left by one block" : "") +
        (by_period ? " keep a local/global pattern llama.cpp marks by a period" : " keep the layers others read"));
  return kept;
}

}  // namespace bespoke::prune
