// Learning-rate schedules: linear warmup, then cosine decay or warmup-stable-decay (WSD).
#pragma once

#include <cstdint>
#include <string>

namespace bespoke::train {

struct Schedule {
  std::string kind = "cosine";  // cosine | wsd | constant
  double peak = 1e-4;
  double final_ratio = 0.1;     // the last step's rate / peak (cosine, wsd)
  int64_t warmup = 0;           // steps of linear warmup from peak / warmup
  double decay_fraction = 0.2;  // wsd: the share of steps in the final linear decay
};

// The rate of step `step` (0-based) of `total`. Throws Error(kUsage) for an unknown kind or a
// ratio out of range, at any step (a run is refused at its first).
double learning_rate(const Schedule& s, int64_t step, int64_t total);

}  // namespace bespoke::train
