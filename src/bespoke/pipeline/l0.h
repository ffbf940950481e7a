// Learned masks end to end (Sheared-LLaMA, §1 of the methods' notes): hard-concrete gates on the
// units a target cuts (learned_masks.h), trained by the training engine with the Lagrangian size
// constraint (lagrangian.h) added to the loss, then binarised to the target exactly (binarise.h).
// The loss is the engine's: the task's cross-entropy, or distillation from a teacher ("self":
// the model without its masks). Two modes:
//   joint            the weights train with the masks, as Sheared-LLaMA does;
//   freeze_weights   only gates and multipliers train: the weights stay in their dtype (bf16 on
//                    a GPU) with no gradients and no optimizer state, and a teacher "self"
//                    shares them, so a 7-9B source fits one 80 GB GPU.
// Each training forward draws every gate afresh (from the global generators, which checkpoints
// keep, so a resumed run draws what the uninterrupted one did); held-out and domain losses are
// measured with the binarised masks. Checkpoints hold the gates ("masks/<name>") and the
// multipliers ("lambdas/lambda") beside the trained weights; metrics.jsonl adds per step the
// expected parameter count, per type the expected units kept per row against the step's
// target, the multipliers, and the share of gates still undecided (open with a probability
// between 0.05 and 0.95).
#pragma once

#include <atomic>
#include <string>

#include "bespoke/model/transformer.h"
#include "bespoke/prune/binarise.h"
#include "bespoke/train/trainer.h"

namespace bespoke::pipeline {

struct L0Options {
  train::TrainConfig train;  // model, data, out (the run's directory), steps, lr (the weights'), teacher, ...
  prune::Target target;
  bool freeze_weights = false;
  double mask_lr = 1.0, lambda_lr = 1.0;  // peak rates of log α and of the λ, on the weights' schedule
  double warmup_fraction = 0.2;           // of the steps, over which the target moves from the source's
  std::string init_from;                  // an importance directory (bespoke importance) to start the gates from
  uint64_t seed = 0;                      // of the gates' starting values
};

struct L0Result {
  train::TrainResult run;
  prune::Binarised binarised;  // the gates at the end, at the target's counts
};

// Throws Error for bad options (a target that cuts nothing, rates that are not positive).
L0Result learn_masks(const L0Options& options, const std::atomic<bool>& stop);

// The pruned model: `trained` (the weights the masks learned with) with the binarised values
// folded in, cut to the selection.
model::Transformer cut_learned(model::Transformer& trained, const prune::Binarised& binarised);

}  // namespace bespoke::pipeline
