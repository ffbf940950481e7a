// Width and depth cuts from importance: a target's sizes filled with the highest-scoring units
// (Minitron's ranking; Taylor scores in the same Importance rank the same way).
#pragma once

#include <cstdint>
#include <vector>

#include "bespoke/model/spec.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/selection.h"
#include "bespoke/prune/target.h"

namespace bespoke::prune {

// Throws Error(kInput) when `importance` does not score `spec`'s units: another layer count, or
// a layer with other numbers of query heads, KV groups or FFN neurons.
void check_importance(const model::ModelSpec& spec, const Importance& importance);

// What depth cuts rank layers by: the loss increase when the layer is skipped where it was
// measured (Importance::skip_loss), else block influence.
const torch::Tensor& layer_scores(const Importance& importance);

// The `k` highest of `scores` (1-D), as ascending indices; ties go to the lower index.
std::vector<int64_t> top(const torch::Tensor& scores, int64_t k);

// `target`'s sizes with the highest-scoring units: in each layer the KV groups of highest group
// score and, in every kept group, as many of its query heads as the target asks, highest first
// (so each group keeps the same number); the FFN neurons of highest score; with target.hidden,
// the hidden channels of highest importance.hidden (one set for the model); with target.layers,
// the layers ranked_layers() keeps by layer_scores(). A layer that reads another's keys and
// values keeps that layer's groups. Throws as check_target() and check_importance() do.
Selection ranked_selection(const model::ModelSpec& spec, const Importance& importance, const Target& target,
                           bool contiguous = false);

}  // namespace bespoke::prune
