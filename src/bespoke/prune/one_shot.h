// A one-shot cut of a loaded model: importance measured where the method ranks by it, the shape
// search run where a parameter budget stands in for a shape, the units selected and sliced out.
// `bespoke prune` and each round of a progressive run (pipeline/progressive.h) cut through here.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "bespoke/model/transformer.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/method.h"
#include "bespoke/prune/selection.h"
#include "bespoke/prune/shape_search.h"
#include "bespoke/prune/target.h"

namespace bespoke::prune {

// What a cut aims at: a shape, or (without one) a parameter budget the shape search meets.
struct Goal {
  std::optional<Target> shape;
  int64_t budget = 0;
};

struct OneShotOptions {
  MethodOptions how;
  ImportanceOptions measure;  // skip_loss: depth ranks layers by the loss increase when skipped
  int64_t candidates = 6;     // shapes the budget search scores
};

struct OneShot {
  model::Transformer model{nullptr};  // the cut, on the source's device and dtype
  Selection selection;
  std::vector<Shape> shapes;  // the budget search's candidates, best first; none for a shape
};

// Cuts `net` to `goal` by the method. `importance` ranks the units where given; else, when the
// method needs it, it is measured on `batches` ([B, T] int64 rows, calibration.h), which the
// budget search also scores its shapes on. Throws Error(kUsage) when the work needs batches
// and there are none, and as select_units() and candidate_shapes() do.
OneShot prune_once(model::Transformer& net, const OneShotOptions& options, const Goal& goal,
                   const std::vector<torch::Tensor>& batches, const Importance* importance = nullptr);

}  // namespace bespoke::prune
