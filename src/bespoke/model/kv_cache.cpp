#include "bespoke/model/kv_cache.h"

#include <algorithm>

namespace bespoke::model {
namespace {

torch::Tensor pad_of(const KvCache& c, int64_t rows) {
  return c.pad.defined() ? c.pad : torch::zeros({rows}, torch::kInt64);
}

int64_t rows_of(const KvCache& c) {
  for (const torch::Tensor& k : c.keys)
    if (k.defined()) return k.size(0);
  return 0;
}

// Slots [0, n) of dim 2 prepended as zeros.
torch::Tensor pad_left(const torch::Tensor& t, int64_t n) {
  return n == 0 ? t : torch::constant_pad_nd(t, {0, 0, n, 0});
}

}  // namespace

KvCache select_rows(const KvCache& cache, const std::vector<int64_t>& rows) {
  KvCache out;
  out.keys.resize(cache.keys.size());
  out.values.resize(cache.values.size());
  if (rows.empty() || rows_of(cache) == 0) return out;
  const torch::Tensor pad = pad_of(cache, rows_of(cache)).cpu().index_select(0, torch::tensor(rows, torch::kInt64));
  const int64_t trim = pad.min().item<int64_t>();  // slots that are padding in every row kept
  for (size_t l = 0; l < cache.keys.size(); ++l) {
    if (!cache.keys[l].defined()) continue;
    const torch::Tensor idx = torch::tensor(rows, torch::kInt64).to(cache.keys[l].device());
    out.keys[l] = cache.keys[l].index_select(0, idx).slice(2, trim);
    out.values[l] = cache.values[l].index_select(0, idx).slice(2, trim);
  }
  out.length = cache.length - trim;
  out.pad = pad - trim;
  return out;
}

KvCache join_rows(const KvCache& a, const KvCache& b) {
  const int64_t na = rows_of(a), nb = rows_of(b);
  if (na == 0) return b;
  if (nb == 0) return a;
  const int64_t length = std::max(a.length, b.length);
  KvCache out;
  out.keys.resize(a.keys.size());
  out.values.resize(a.values.size());
  for (size_t l = 0; l < a.keys.size(); ++l) {
    if (!a.keys[l].defined()) continue;  // a layer reading another's keys, in both
    out.keys[l] = torch::cat({pad_left(a.keys[l], length - a.length), pad_left(b.keys[l], length - b.length)}, 0);
    out.values[l] = torch::cat({pad_left(a.values[l], length - a.length), pad_left(b.values[l], length - b.length)}, 0);
  }
  out.length = length;
  out.pad = torch::cat({pad_of(a, na).cpu() + (length - a.length), pad_of(b, nb).cpu() + (length - b.length)});
  return out;
}

}  // namespace bespoke::model
