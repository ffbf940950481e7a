// Per-layer shapes from importance: each layer's query heads and FFN neurons chosen by one global
// ranking under the parameter budget of a uniform target (anchors-2026.md §1: per-layer shapes
// keep quality at high compression; FLAP's per-layer standardised scores, pruning-methods §6).
#pragma once

#include <cstdint>

#include "bespoke/model/spec.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/selection.h"
#include "bespoke/prune/target.h"

namespace bespoke::prune {

// The FFN granularity of a layer `ffn_dim` wide: 64 neurons from 512 up (kernels tile by 64),
// else an eighth of the width (test-sized models). A layer keeps a multiple of it, or all (or
// the uniform width, where that is below one block).
int64_t ffn_block(int64_t ffn_dim);

// The layers, hidden channels and KV groups of ranked_selection(spec, importance, target), and in
// each kept layer a number of query heads per kept group and of FFN neurons of its own: units are
// ranked across layers by their score standardised within the layer ((s - mean) / std, heads and
// neurons apart), query heads as one slice of the i-th best head of every kept group, neurons in
// blocks of ffn_block(), and taken best first while the parameter count stays within the uniform
// cut's. Each layer keeps at least half the target's heads per group (at least one) and half its
// FFN width rounded down to a block (at least one block, or the target's width when that is less).
// Throws as ranked_selection() does.
Selection non_uniform_selection(const model::ModelSpec& spec, const Importance& importance, const Target& target,
                                bool contiguous = false);

}  // namespace bespoke::prune
