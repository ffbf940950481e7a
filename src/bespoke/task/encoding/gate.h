// The go/no-go rule for replacing the current encoding model (EXP-28): no-go when the
// candidate is worse than the baseline on more than 2 of the 7 metrics, or misses a hard target
// of the scorer's verdict (EPR >= 0.90, FR <= 0.05, no template echo, SC = 100%).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding {

struct GateRow {
  std::string metric;
  std::optional<double> candidate, baseline;  // nullopt: not measured (no pairs, no minimal items)
  bool higher_is_better = true;
  bool worse = false;
};

// EXP-28's rule by default; an experiment may allow more worse metrics, or judge a model too
// small for the scorer's hard targets on the comparison alone.
struct GateRule {
  int max_worse = 2;
  bool hard_targets = true;
};

struct GateResult {
  std::vector<GateRow> rows;  // EPR, FR, TED, CCS, MIH, NP, SC
  int worse = 0;
  std::vector<std::string> hard_failures;  // missed, whether or not the rule applies them
  GateRule rule;
  bool go = false;
};

// Both arguments are REPORT.json objects of `bespoke eval encoding`. Rates compare: TED as the
// share of parseable outputs that echo, CCS and MIH as shares passing, SC as the compliant
// share. Throws Error(kInput) if either lacks the metrics.
GateResult gate(const Json& candidate, const Json& baseline, const GateRule& rule = {});

// The table `bespoke gate` prints.
std::string gate_table(const GateResult& result);

}  // namespace bespoke::task::encoding
