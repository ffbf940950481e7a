#include "bespoke/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "bespoke/core/error.h"

namespace bespoke::train {

double learning_rate(const Schedule& s, int64_t step, int64_t total) {
  if (s.kind != "constant" && s.kind != "cosine" && s.kind != "wsd")
    fail(ErrorKind::kUsage, "unknown schedule '" + s.kind + "' (cosine, wsd, constant)");
  if (!(s.final_ratio >= 0 && s.final_ratio <= 1)) fail(ErrorKind::kUsage, "--final-lr-ratio must be in [0, 1]");
  if (!(s.decay_fraction > 0 && s.decay_fraction <= 1))
    fail(ErrorKind::kUsage, "the WSD decay fraction must be in (0, 1]");
  if (step < s.warmup) return s.peak * double(step + 1) / s.warmup;
  const double low = s.peak * s.final_ratio;
  const int64_t span = std::max<int64_t>(1, total - s.warmup - 1);
  const double progress = std::min(1.0, double(step - s.warmup) / span);
  if (s.kind == "cosine") return low + (s.peak - low) * 0.5 * (1 + std::cos(M_PI * progress));
  if (s.kind == "wsd") {
    const double stable = 1.0 - s.decay_fraction;
    return progress <= stable ? s.peak : s.peak + (low - s.peak) * (progress - stable) / s.decay_fraction;
  }
  return s.peak;  // constant
}

}  // namespace bespoke::train
