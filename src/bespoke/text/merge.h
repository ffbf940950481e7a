// The merge loop shared by both BPE flavours: repeatedly join the adjacent pair with the best
// priority (lowest first, leftmost on ties), in O(n log n) with a heap of candidate pairs, so a
// long unsplit text (SentencePiece-style tokenizers have no pre-tokenizer) stays fast.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <tuple>
#include <vector>

namespace bespoke::text {

// `priority(a, b)`: the priority of joining neighbours a and b, or nullopt if they do not join.
// `join(a, b)`: the joined symbol. Returns the symbols left when no pair joins.
template <typename Symbol, typename Priority, typename Join>
std::vector<Symbol> merge_pairs(std::vector<Symbol> symbols, Priority priority, Join join) {
  const int64_t n = static_cast<int64_t>(symbols.size());
  std::vector<int64_t> next(n), prev(n), version(n, 0);
  std::vector<bool> alive(n, true);
  for (int64_t i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  // (priority, left, right, left version, right version); smallest first
  using Candidate = std::tuple<double, int64_t, int64_t, int64_t, int64_t>;
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto offer = [&](int64_t a, int64_t b) {
    if (a < 0 || b < 0) return;
    if (const std::optional<double> p = priority(symbols[a], symbols[b]))
      heap.emplace(*p, a, b, version[a], version[b]);
  };
  for (int64_t i = 0; i + 1 < n; ++i) offer(i, i + 1);
  while (!heap.empty()) {
    const auto [p, a, b, va, vb] = heap.top();
    heap.pop();
    if (!alive[a] || !alive[b] || next[a] != b || version[a] != va || version[b] != vb) continue;  // stale
    symbols[a] = join(symbols[a], symbols[b]);
    ++version[a];
    alive[b] = false;
    next[a] = next[b];
    if (next[b] >= 0) prev[next[b]] = a;
    offer(prev[a], a);
    offer(a, next[a]);
  }
  std::vector<Symbol> out;
  for (int64_t i = 0; i < n; ++i)
    if (alive[i]) out.push_back(std::move(symbols[i]));
  return out;
}

}  // namespace bespoke::text
