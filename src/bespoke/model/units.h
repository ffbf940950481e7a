// Moving whole units (query heads, KV groups, FFN neurons, hidden channels, per-layer blocks)
// between a tensor and one of another size along an axis: the one step behind extraction
// (keep some units, drop the rest) and padding (put the units back among zeros).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace bespoke::model {

// Unit source[i] of one tensor becomes unit target[i] of the other.
struct UnitMap {
  std::vector<int64_t> source, target;

  // The same pairs the other way round: what was placed is selected back.
  UnitMap inverse() const { return {target, source}; }
  void add(int64_t from, int64_t to) { source.push_back(from), target.push_back(to); }
};

// The map that keeps `kept` (unit indices, in this order) and packs them at 0, 1, 2, ...
UnitMap keep_units(const std::vector<int64_t>& kept);

// Returns a tensor like `t` but with `units` units of `width` elements along `dim`: unit
// map.target[i] holds t's unit map.source[i], every other unit is zero. Extraction is
// move_units(t, d, w, keep_units(kept), kept.size()); padding moves them back with the inverse.
torch::Tensor move_units(const torch::Tensor& t, int64_t dim, int64_t width, const UnitMap& map, int64_t units);

}  // namespace bespoke::model
