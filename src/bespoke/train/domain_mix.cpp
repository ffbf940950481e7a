#include "bespoke/train/domain_mix.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "bespoke/core/error.h"

namespace bespoke::train {
namespace {

void normalise(std::vector<double>& w) {
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  for (double& x : w) x /= total;
}

// Weights that sum to 1, with none above `cap`: a weight above it is fixed at the cap and the
// rest are scaled up in proportion to fill what remains, which may lift another above the cap
// (at most one round per domain).
void apply_cap(std::vector<double>& w, double cap) {
  std::vector<bool> fixed(w.size(), false);
  for (bool more = true; more;) {
    double fixed_mass = 0, free = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      if (fixed[i])
        fixed_mass += cap;
      else
        free += w[i];
    }
    if (free <= 0) {  // only zero weights are left below the cap: they share what remains equally
      const double open = std::count(fixed.begin(), fixed.end(), false);
      for (size_t i = 0; i < w.size(); ++i)
        if (!fixed[i]) w[i] = (1 - fixed_mass) / open;
      return;
    }
    more = false;
    for (size_t i = 0; i < w.size(); ++i) {
      if (fixed[i]) continue;
      w[i] *= (1 - fixed_mass) / free;
      if (w[i] > cap) fixed[i] = more = true;
    }
    for (size_t i = 0; i < w.size(); ++i)
      if (fixed[i]) w[i] = cap;
  }
}

}  // namespace

DomainMix DomainMix::make(std::vector<std::string> names, std::vector<double> weights, double cap) {
  DomainMix m;
  if (names.empty()) fail(ErrorKind::kUsage, "a domain mix needs at least one domain");
  if (weights.empty()) weights.assign(names.size(), 1.0);
  if (weights.size() != names.size()) fail(ErrorKind::kUsage, "one weight per domain");
  for (double w : weights)
    if (!(w >= 0)) fail(ErrorKind::kUsage, "domain weights must not be negative");
  if (std::accumulate(weights.begin(), weights.end(), 0.0) <= 0) fail(ErrorKind::kUsage, "domain weights are all zero");
  if (cap * names.size() < 1 - 1e-12)
    fail(ErrorKind::kUsage,
         "a cap of " + std::to_string(cap) + " cannot hold " + std::to_string(names.size()) + " domains");
  m.names = std::move(names);
  m.weights = std::move(weights);
  m.cap = cap;
  normalise(m.weights);
  apply_cap(m.weights, cap);
  return m;
}

void DomainMix::update(const std::vector<double>& losses, const std::vector<double>& reference) {
  const size_t k = weights.size();
  std::vector<double> logits(k);
  for (size_t i = 0; i < k; ++i)
    logits[i] = std::log(std::max(weights[i], 1e-300)) + eta * std::max(losses[i] - reference[i], 0.0);
  const double top = *std::max_element(logits.begin(), logits.end());
  for (size_t i = 0; i < k; ++i) weights[i] = std::exp(logits[i] - top);
  normalise(weights);
  for (double& w : weights) w = (1 - smoothing) * w + smoothing / k;
  normalise(weights);
  apply_cap(weights, cap);
}

int64_t DomainMix::draw(uint64_t seed, int64_t step, int64_t row) const {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + uint64_t(step) * 1000003ull + uint64_t(row));
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  double sum = 0;
  for (size_t i = 0; i < weights.size(); ++i)
    if (u < (sum += weights[i])) return i;
  return weights.size() - 1;
}

int64_t DomainMix::index(const std::string& name) const {
  const auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : it - names.begin();
}

}  // namespace bespoke::train
