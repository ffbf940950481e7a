#include "bespoke/pipeline/l0.h"

#include <cmath>
#include <memory>

#include "bespoke/core/error.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/prune/expected_size.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/fold.h"
#include "bespoke/prune/hard_concrete.h"
#include "bespoke/prune/importance_io.h"
#include "bespoke/prune/lagrangian.h"
#include "bespoke/prune/learned_masks.h"

namespace bespoke::pipeline {
namespace {

// What the masks' part of a run shares between the trainer's callbacks.
struct MaskRun {
  model::ModelSpec spec;
  prune::Target target;
  model::UnitMasks log_alpha;
  std::unique_ptr<prune::Lagrangian> lagrangian;
  std::vector<torch::Tensor> gates;  // every log α tensor
  int64_t step = 0;                  // of the last training forward
};

nlohmann::json mask_metrics(const MaskRun& m) {
  torch::NoGradGuard no_grad;
  const model::UnitMasks p = prune::open_probabilities(m.spec, m.log_alpha);
  nlohmann::json types = nlohmann::json::object();
  const std::vector<prune::SizeConstraint> c = prune::size_constraints(m.spec, p, m.target);
  const torch::Tensor lambda = m.lagrangian->lambdas().detach().cpu().to(torch::kFloat64);
  for (size_t j = 0; j < c.size(); ++j)
    types[c[j].type] = {{"expected", c[j].kept.mean().item<double>() * double(c[j].units)},
                        {"target", m.lagrangian->target_at(c[j], m.step + 1) * double(c[j].units)},
                        {"final_target", c[j].target * double(c[j].units)},
                        {"lambda", {lambda[j][0].item<double>(), lambda[j][1].item<double>()}}};
  int64_t undecided = 0, all = 0;
  for (const auto& [name, q] : prune::named_gates(p)) {
    undecided += ((q > 0.05) & (q < 0.95)).sum().item<int64_t>();
    all += q.numel();
  }
  return {{"masks",
           {{"expected_params", prune::expected_params(m.spec, p).item<double>()},
            {"types", types},
            {"undecided", all > 0 ? double(undecided) / double(all) : 0.0}}}};
}

void check(const L0Options& o, const MaskRun& m) {
  const auto usage = [](const std::string& why) { fail(ErrorKind::kInput, why); };
  if (m.gates.empty()) usage("--target cuts nothing this method could learn: give sizes below the model's");
  if (!(o.mask_lr > 0) || !(o.lambda_lr > 0)) usage("--mask-lr and --lambda-lr must be positive");
  if (!(o.warmup_fraction >= 0 && o.warmup_fraction <= 1)) usage("--mask-warmup must be in [0, 1]");
}

}  // namespace

L0Result learn_masks(const L0Options& o, const std::atomic<bool>& stop) {
  auto m = std::make_shared<MaskRun>();
  m->spec = model::read_hf_config(o.train.model);
  m->target = o.target;
  m->log_alpha = prune::make_learned_masks(m->spec, o.target, o.seed);
  if (!o.init_from.empty())
    prune::init_from_importance(m->log_alpha, m->spec, o.target, prune::read_importance(o.init_from, m->spec));
  const std::vector<std::pair<std::string, torch::Tensor>> named = prune::named_gates(m->log_alpha);
  for (const auto& [name, t] : named) m->gates.push_back(t);
  check(o, *m);
  const int64_t warmup = std::llround(o.warmup_fraction * double(o.train.steps));
  m->lagrangian = std::make_unique<prune::Lagrangian>(
      prune::size_constraints(m->spec, prune::open_probabilities(m->spec, m->log_alpha), o.target), warmup);

  train::TrainConfig cfg = o.train;
  if (o.freeze_weights) {
    cfg.freeze = {""};  // every parameter
    cfg.write_final = false;
  }
  const double peak = cfg.schedule.peak;
  train::Extensions ext;
  ext.groups.push_back({"masks", named, o.mask_lr / peak, 0.0});
  ext.groups.push_back({"lambdas", {{"lambda", m->lagrangian->lambdas()}}, o.lambda_lr / peak, 0.0});
  ext.before_forward = [m](model::Transformer& net, train::Pass pass, int64_t step) {
    if (pass == train::Pass::kMeasure) {
      net->set_masks(std::make_shared<model::UnitMasks>(prune::binarise(m->spec, m->log_alpha, m->target).values));
      return;
    }
    for (const torch::Tensor& g : m->gates) prune::clamp_log_alpha(g);
    m->step = step;
    net->set_masks(std::make_shared<model::UnitMasks>(prune::sample_masks(m->spec, m->log_alpha)));
  };
  ext.terms.push_back({"lagrangian", [m](model::Transformer&, const train::Batch&, int64_t step) {
                         const model::UnitMasks p = prune::open_probabilities(m->spec, m->log_alpha);
                         return m->lagrangian->term(prune::size_constraints(m->spec, p, m->target), step);
                       }});
  ext.metrics = [m] { return mask_metrics(*m); };

  L0Result r;
  r.run = train::train(cfg, stop, ext);
  for (const torch::Tensor& g : m->gates) prune::clamp_log_alpha(g);
  r.binarised = prune::binarise(m->spec, m->log_alpha, o.target);
  return r;
}

model::Transformer cut_learned(model::Transformer& trained, const prune::Binarised& b) {
  trained->set_masks(nullptr);
  prune::fold_mask_values(trained, b.values);
  return prune::extract(trained, b.selection);
}

}  // namespace bespoke::pipeline
