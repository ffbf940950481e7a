#include "bespoke/model/kv_cache.h"

#include <algorithm>

namespace bespoke::model {
namespace {

torch::Tensor pad_of(const KvCache& c, int64_t rows) {
  return c.pad.defined() ? c.pad : torch::zeros({rows}, torch::kInt64);
}

int64_t rows_of(const KvCache& c) {
  for (const auto* layers : {&c.keys, &c.recurrent})
    for (const torch::Tensor& t : *layers)
      if (t.defined()) return t.size(0);
  return 0;
}

// Slots [0, n) of dim 2 prepended as zeros.
torch::Tensor pad_left(const torch::Tensor& t, int64_t n) {
  return n == 0 ? t : torch::constant_pad_nd(t, {0, 0, n, 0});
}

KvCache empty_like(const KvCache& c) {
  KvCache out;
  out.keys.resize(c.keys.size());
  out.values.resize(c.values.size());
  out.conv.resize(c.conv.size());
  out.recurrent.resize(c.recurrent.size());
  return out;
}

}  // namespace

KvCache select_rows(const KvCache& cache, const std::vector<int64_t>& rows) {
  KvCache out = empty_like(cache);
  if (rows.empty() || rows_of(cache) == 0) return out;
  const torch::Tensor pad = pad_of(cache, rows_of(cache)).cpu().index_select(0, torch::tensor(rows, torch::kInt64));
  const int64_t trim = pad.min().item<int64_t>();  // slots that are padding in every row kept
  const auto pick = [&](const torch::Tensor& t) {
    return t.index_select(0, torch::tensor(rows, torch::kInt64).to(t.device()));
  };
  for (size_t l = 0; l < cache.keys.size(); ++l) {
    if (cache.keys[l].defined()) {
      out.keys[l] = pick(cache.keys[l]).slice(2, trim);
      out.values[l] = pick(cache.values[l]).slice(2, trim);
    }
    // A recurrent state has no positions: it is the row's whatever its padding.
    if (l < cache.recurrent.size() && cache.recurrent[l].defined()) {
      out.conv[l] = pick(cache.conv[l]);
      out.recurrent[l] = pick(cache.recurrent[l]);
    }
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
  KvCache out = empty_like(a);
  for (size_t l = 0; l < a.keys.size(); ++l) {
    if (a.keys[l].defined()) {  // undefined: a layer reading another's keys, in both
      out.keys[l] = torch::cat({pad_left(a.keys[l], length - a.length), pad_left(b.keys[l], length - b.length)}, 0);
      out.values[l] =
          torch::cat({pad_left(a.values[l], length - a.length), pad_left(b.values[l], length - b.length)}, 0);
    }
    if (l < a.recurrent.size() && a.recurrent[l].defined()) {
      out.conv[l] = torch::cat({a.conv[l], b.conv[l]}, 0);
      out.recurrent[l] = torch::cat({a.recurrent[l], b.recurrent[l]}, 0);
    }
  }
  out.length = length;
  out.pad = torch::cat({pad_of(a, na).cpu() + (length - a.length), pad_of(b, nb).cpu() + (length - b.length)});
  return out;
}

}  // namespace bespoke::model
