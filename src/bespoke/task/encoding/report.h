// REPORT.json: a model's outputs on the evaluation items scored as mnemonic's scorer scores
// them — per-item metrics, averages over the items with parseable output (summed in id order,
// as the scorer sums them), MIH on minimal items, CCS per twin pair, NP on dense-number items,
// a breakdown per category, and the scorer's verdict.
#pragma once

#include <optional>
#include <vector>

#include "bespoke/task/encoding/dataset.h"

namespace bespoke::task::encoding {

// outputs[i] is items[i]'s parsed output, nullopt where none was found. `items` in id order.
// The result has valid_json, n, metrics {epr, fr, ted_failures, ccs_pass, ccs_pairs, mih_pass,
// mih_total, np, np_dense, sc, sc_pass}, verdict, per_category, pairs, items, and stress (null
// here: the stress cases need a model).
Json score_report(const std::vector<Item>& items, const std::vector<std::optional<Json>>& outputs);

// The report of already-written outputs (`--predictions`): id -> parsed output, a missing id
// counting as unparseable.
Json evaluate_predictions(const std::vector<Item>& items,
                          const std::map<std::string, std::optional<Json>>& predictions);

}  // namespace bespoke::task::encoding
