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

// The headline of a model directory on the first `n` items of `items_path`, answered in-process
// under the record's grammar, without the stress cases: what the pipeline's tables compare.
Json model_headline(const std::string& model_dir, const std::string& items_path, int64_t n, int64_t max_new_tokens,
                    const std::string& prompt_template, const model::LoadOptions& load);

}  // namespace bespoke::task::encoding
