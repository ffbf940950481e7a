// One-shot pruning methods: how each turns a target (or a parameter budget) into a selection.
//   minitron  units of highest activation importance (rank.h); --non-uniform: per-layer shapes
//   taylor    the same ranking over Taylor scores (importance.h)
//   depth     layers only, by the loss increase when skipped where measured, else block
//             influence (depth.h); --contiguous: one block
//   random    uniformly random units, seeded: the control every comparison needs
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "bespoke/core/name_table.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/selection.h"
#include "bespoke/prune/shape_search.h"
#include "bespoke/prune/target.h"

namespace bespoke::prune {

enum class Method { kMinitron, kTaylor, kDepth, kRandom };
const NameTable<Method>& method_names();

struct MethodOptions {
  Method method = Method::kRandom;
  bool non_uniform = false;
  bool contiguous = false;
  uint64_t seed = 0;  // random
};

// Whether the method ranks units by importance, and so needs calibration data.
bool needs_importance(Method method);

// Throws Error(kInput) for options the method cannot take (--non-uniform or --contiguous
// without importance to rank by, a depth target with widths); `target` is checked against `source` as check_target()
// does.
void check_method(const model::ModelSpec& source, const MethodOptions& options, const std::optional<Target>& target);

// The selection the method makes of `source` at `target`; `importance` is needed where
// needs_importance() says so.
Selection select_units(const model::ModelSpec& source, const MethodOptions& options, const Importance* importance,
                       const Target& target);

// The shape search's candidates for the method: width and depth for minitron, taylor and
// random, depth alone for depth, each cut to n layers keeping the layers the method would keep.
std::vector<Shape> method_shapes(const model::ModelSpec& source, const MethodOptions& options,
                                 const Importance* importance, int64_t budget, int64_t few);

}  // namespace bespoke::prune
