// `bespoke run EXPERIMENT.toml --out RUN`: the plan's phases as stages of one resumable run.
//
//   plan/         Phase 0 from config.json alone, before any work: the estimate the caps are
//                 checked against (a plan over the cost cap is refused unless over_budget)
//   data/         the task's and the domains' records (domains.h)
//   feasibility/  Phase 0 with the one-shot loss of every candidate that has weights: the ranked table
//   tokenizer/, parent/, pretrain/   a candidate trained from scratch (scratch.h)
//   finetune/     Phase 1: the base fine-tuned on the task, the quality ceiling
//   importance/   Phase 1: the base's unit importance on the task (importance.html: the heatmaps)
//   prune/        Phase 2: the cut by the configured method (progressive targets: every round),
//                 and the quality-versus-size table
//   recover/      Phase 3: distillation from the fine-tuned base over the domains
//   gate/         the recovered model against the baseline: go or no-go (a no-go stops the run
//                 before export unless gate.stop is false)
//   lottery/      Phase 4: arms A-D (lottery.h)
//   export/       Phase 5: GGUF of the base and of the pruned model, checked and timed in
//                 llama.cpp and Bespoke (gguf_check.h)
//   ledger.json   device-hours and cost per stage
//   report.json, report.html
// Each stage leaves a manifest (stage.h): a rerun skips what is done, resumes an interrupted
// training from its checkpoint, and reruns only the stages whose settings or inputs changed.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "bespoke/pipeline/experiment.h"
#include "bespoke/pipeline/feasibility.h"
#include "bespoke/pipeline/stage.h"

namespace bespoke::pipeline {

struct RunOptions {
  std::string out;
  bool over_budget = false;  // run a plan whose estimate exceeds the cost cap
  bool plan_only = false;    // Phase 0 from config.json alone, then stop
  bool progress = false;     // progress lines for a terminal
  // What the run claims, computed from the finished report and written into it (the demo's).
  std::function<Json(const Json& report)> checks;
};

// Phase 0's input from the experiment: the candidates (a scratch one by the config.json it will
// have, written into `plan_dir`), the target and every later phase's work.
FeasibilityConfig plan_config(const Experiment& e, const std::string& plan_dir);

// Runs the stages not yet done and returns report.json's object (also written, with
// report.html). Throws Error(kInput) before any work for a plan beyond its caps, and when `stop`
// or a cap interrupts a stage: the stage is checkpointed and the same command resumes.
Json run_experiment(const Experiment& e, const RunOptions& options, const std::atomic<bool>& stop);

// The summary printed at the end.
std::string run_summary(const Json& report);

}  // namespace bespoke::pipeline
