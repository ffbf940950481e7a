// Which examples fill each step. Without domains: one shuffled pass over all examples after
// another. With domains: each row's domain is drawn by the mix's weights, and each domain is
// passed over on its own. The position is a few integers, so a resumed run continues exactly.
//
// Length bucketing (no domains): each pass is cut into windows of `bucket` batches; a window's
// examples are sorted by length and cut into batches, which then go in a shuffled order. A batch
// is as long as its longest row, so rows of like length waste few padded positions. A pass that
// starts mid-step lines its batches up with the steps after the rows that finish that step.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "bespoke/train/data.h"
#include "bespoke/train/domain_mix.h"

namespace bespoke::train {

class Sampler {
 public:
  // `mix` null: one pool of every example. Else one pool per mix domain; an example whose
  // domain the mix does not list is an Error(kUsage).
  // `bucket` > 0 (batches per window) needs `batch`, the rows per step, and no mix.
  Sampler(const std::vector<text::Example>& examples, const DomainMix* mix, uint64_t seed, int64_t bucket = 0,
          int64_t batch = 0);

  // The example indices of the `count` rows of step `step`.
  std::vector<int64_t> rows(int64_t step, int64_t count);

  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  struct Cursor {
    int64_t epoch = 0, index = 0;
  };
  int64_t next(size_t pool);
  std::vector<int64_t> bucketed(std::vector<int64_t> order, uint64_t seed, int64_t epoch) const;

  const DomainMix* mix_;
  uint64_t seed_;
  int64_t bucket_, batch_;
  std::vector<int64_t> lengths_;             // tokens per example
  std::vector<std::vector<int64_t>> pools_;  // example indices
  std::vector<Cursor> cursors_;
  std::vector<std::vector<int64_t>> orders_;  // each pool's order in its cursor's epoch
  std::vector<int64_t> order_epoch_;
};

// Micro-batch `m` (of `micro` rows) of rank `rank` of `world` in a step's global `rows`: every
// world-th row from the rank's own. A length-bucketed batch is sorted, and contiguous slices
// would give the last rank all the long rows while the others wait for it at the all-reduce.
std::vector<int64_t> micro_batch_rows(const std::vector<int64_t>& rows, int rank, int world, int64_t m, int64_t micro);

}  // namespace bespoke::train
