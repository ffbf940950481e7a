// Lottery-ticket controls (pruning-methods.md §8): does a pruned model owe its quality to its
// inherited weights, or would its shape train as well from other starts? Four arms share the
// cut's shape, the data, the tokens and the optimiser; each trains at its own best rate:
//   A  the method's cut with its inherited weights
//   B  the same spec from a fresh random init (seeded)
//   C  the cut's weights with each matrix's entries permuted (seeded): its value distribution
//      and norms kept, its function gone (norm and bias vectors stay as they are)
//   D  random units of the source at the cut's sizes, with their inherited weights (seeded):
//      tests the importance criterion rather than the init; skipped for a non-uniform cut
// and B trains on to max_multiple x A's tokens, for the tokens it needs to reach A's loss.
//
// OUT/<arm>/init-<s>/          the arm's starting model at seed s (B, C, D; A starts from the cut)
// OUT/<arm>/sweep/lr-<rate>/   one run per rate of the sweep (the first seed)
// OUT/<arm>/seed-<s>/          the arm's run at seed s; final/ the trained model
// OUT/B/extend/seed-<s>/       B's run to max_multiple x the steps
// OUT/lottery.json             the comparison (run_lottery)
// Every run keeps settings.json (what it was started with) and writes result.json when done
// (its checkpoints are then removed): a rerun with the same settings reads it back, resumes a
// run that has none from its checkpoint, and starts afresh a run whose settings changed.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bespoke/model/spec.h"
#include "bespoke/model/transformer.h"
#include "bespoke/prune/target.h"
#include "bespoke/train/trainer.h"

namespace bespoke::pipeline {

using Json = nlohmann::ordered_json;

struct LotteryConfig {
  std::string source;  // the model the cut came from (the fine-tuned base): D draws its units from it
  std::string pruned;  // arm A: the method's cut, a model directory; B and C start from its spec
  std::string data, eval_data;  // training records (JSONL), held-out records for the curves
  // Shared settings: teacher (distillation), seq_len, batch, steps, schedule (its peak is
  // replaced by each arm's rate), domains, device, save_every, stop_at...; model, out, seed,
  // eval_every and eval_at are set per run.
  train::TrainConfig train;
  std::vector<double> lrs;       // the sweep; a single rate: no sweep
  int64_t sweep_steps = 0;       // steps of each sweep run (0: train.steps / 4)
  std::vector<uint64_t> seeds = {0, 1};
  int64_t eval_points = 8;       // log-spaced from the first step to the last
  double max_multiple = 4;       // B continues up to this multiple of A's tokens (1: not at all)
  int64_t extension_seeds = 1;   // B's continued runs: the first this many seeds
  int64_t task_items = 0, max_new_tokens = 256;  // encoding metrics of the final models; 0: none
  std::string prompt_template;                   // the task prompt's wording; empty: the built-in
  std::string out;
};

// Runs the arms (skipping finished runs, resuming an interrupted one) and returns (and writes
// OUT/lottery.json):
// {arms: {A|B|C|D: {description, skipped (reason or null), lr, sweep [{lr, eval_loss}],
//   sweep_note, seeds [{seed, run, curve [[tokens, eval_loss], ...], final_eval_loss, tokens,
//   task}], final_eval_loss (mean), final_eval_loss_sd, tokens, curve (the seeds' mean),
//   task {...} (the seeds' mean) or null}},
//  token_multiplier {value (null if not reached), k, text ("2.3×" or "more than 4×"),
//   b_curve [[tokens, loss]...]},
//  a_beats_b, a_minus_b (B's mean final loss − A's: how much lower A's is), shape (the cut's
//  sizes), notes [...]}
// Runs are named relative to OUT. A rate of the sweep that diverges has a null loss; an arm
// that diverges at its chosen rate is an Error(kInput). Throws Error(kInput) when `stop`
// interrupts a run ("run the same command again to resume"), Error(kUsage) for a bad config.
Json run_lottery(const LotteryConfig& config, const std::atomic<bool>& stop);

// The tokens at which `curve` ([[tokens, loss], ...], tokens increasing) first reaches `loss`,
// linearly interpolated between points (the first point's tokens if it starts there); nullopt if
// it never does.
std::optional<double> tokens_to_reach(const Json& curve, double loss);

// Entries of `tensor` permuted by a seeded random permutation (arm C).
torch::Tensor shuffle_within(const torch::Tensor& tensor, uint64_t seed);

// The cut's sizes as a target of its source, or nullopt when its layers differ in shape (arm D
// then has no uniform target to draw at).
std::optional<prune::Target> uniform_target(const model::ModelSpec& cut);

// The starting model of `arm` ("A" to "D") at `seed`: A is the cut as it is. Throws
// Error(kUnsupported) for D of a non-uniform cut.
model::Transformer arm_start(const LotteryConfig& config, const std::string& arm, uint64_t seed);

}  // namespace bespoke::pipeline
