// Dynamic batch loading (Sheared-LLaMA): the share of each data domain in the batches moves
// towards the domains whose evaluation loss is furthest above a reference loss.
//   delta_i = max(loss_i - reference_i, 0)
//   w' = softmax(ln w + eta * delta);  w = (1 - c) w' + c / k;  then no weight above `cap`
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace bespoke::train {

struct DomainMix {
  std::vector<std::string> names;
  std::vector<double> weights;  // sum to 1
  double eta = 1.0;
  double smoothing = 1e-4;  // c: the uniform share mixed in, so no domain starves
  double cap = 1.0;         // the most any one domain may hold

  // Equal weights over `names`, or the given ones normalised. Throws Error(kUsage) for
  // negative or all-zero weights, or a cap below 1 / k.
  static DomainMix make(std::vector<std::string> names, std::vector<double> weights = {}, double cap = 1.0);

  void update(const std::vector<double>& losses, const std::vector<double>& reference);
  // The domain of row `row` of step `step`: a weighted draw fixed by (seed, step, row).
  int64_t draw(uint64_t seed, int64_t step, int64_t row) const;
  int64_t index(const std::string& name) const;  // -1 if absent
};

}  // namespace bespoke::train
