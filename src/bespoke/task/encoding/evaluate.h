// `bespoke eval encoding`: every item's prompt answered by a model or server, the answers
// scored into REPORT.json, and the stress cases run the same way.
#pragma once

#include <functional>
#include <vector>

#include "bespoke/task/encoding/dataset.h"
#include "bespoke/task/encoding/prompt.h"
#include "bespoke/task/encoding/respond.h"

namespace bespoke::task::encoding {

struct EvalOptions {
  PromptTemplate prompt = PromptTemplate::builtin();
  bool stress = true;
  // Called after each answer: (answered so far, total).
  std::function<void(size_t, size_t)> progress;
};

// score_report of the answers, each item's raw answer under items[i].output, and the stress
// result under "stress" when asked for.
Json evaluate(const std::vector<Item>& items, const Respond& respond, const EvalOptions& options);

// A report's headline numbers, for tables that compare models: n, valid_json, and the metrics'
// epr, np, fr_pooled and sc.
Json headline(const Json& report);

}  // namespace bespoke::task::encoding
