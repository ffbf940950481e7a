#include "bespoke/prune/one_shot.h"

#include "bespoke/core/error.h"
#include "bespoke/prune/extract.h"

namespace bespoke::prune {

OneShot prune_once(model::Transformer& net, const OneShotOptions& o, const Goal& goal,
                   const std::vector<torch::Tensor>& batches, const Importance* importance) {
  const model::ModelSpec& s = net->spec();
  const bool score = needs_importance(o.how.method) && !importance;
  if ((score || !goal.shape) && batches.empty())
    fail(ErrorKind::kUsage, std::string(score ? "importance" : "the shape search") + " needs calibration batches");
  std::optional<Importance> measured;
  if (score)
    measured = o.how.method == Method::kTaylor ? taylor_importance(net, batches, o.measure)
                                               : activation_importance(net, batches, o.measure);
  const Importance* imp = measured ? &*measured : importance;
  OneShot cut;
  Target target;
  if (goal.shape) {
    target = *goal.shape;
  } else {
    cut.shapes = method_shapes(s, o.how, imp, goal.budget, o.candidates);
    score_shapes(
        net, [&](const Target& t) { return select_units(s, o.how, imp, t); }, batches, cut.shapes);
    target = cut.shapes.front().target;
  }
  cut.selection = select_units(s, o.how, imp, target);
  cut.model = extract(net, cut.selection);
  return cut;
}

}  // namespace bespoke::prune
