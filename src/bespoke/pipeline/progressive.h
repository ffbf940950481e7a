// Progressive pruning: a chain of smaller and smaller models, each cut from the previous one and
// recovered briefly by distillation from it, measured on held-out data after the cut and after
// the recovery. The result is a quality-versus-size table.
//
// OUT/data/train.jsonl, heldout.jsonl   the split of --data, without --eval-data: every 10th
//                                       record held out (a stride keeps a generator's mix)
// OUT/round-K/                          round K's recovered model, a model directory every
//                                       command takes; the next round cuts it and learns from it
// OUT/round-K/pruned/                   the cut before recovery: the recovery's student
// OUT/round-K/train/                    the recovery's training run (metrics.jsonl, checkpoints)
// OUT/quality.json, quality.svg         the table, and loss (and the task's EPR) against size
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bespoke/model/spec.h"
#include "bespoke/model/transformer.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/one_shot.h"

namespace bespoke::pipeline {

using Json = nlohmann::ordered_json;

// One round's goal as given: a parameter budget (prune::parse_param_count) or a shape
// (prune::parse_target) whose left-out sizes keep those of the model the round cuts.
struct RoundTarget {
  std::string text;
  prune::Goal goal;
};

// --targets: items separated by ';', or by ',' when the text holds no '=' (then every item is
// a budget): "4B,2B,1.5B", "2B;layers=2,ffn=256". An item with '=' is a shape. Throws
// Error(kInput) naming the item that parses as neither, and for an empty list.
std::vector<RoundTarget> parse_round_targets(const std::string& text);

// Throws Error(kInput) in one line for a chain that does not shrink, checked as far as sizes
// are known before any cut: each budget below the model before it (the source's count, a
// shape's exact count, or the budget before) and above the embeddings, each shape one the model
// before it can be cut to by the method, and smaller than it. A shape after a budget is checked
// when its round runs.
void check_round_targets(const model::ModelSpec& source, const prune::MethodOptions& method,
                         const std::vector<RoundTarget>& targets);

// What a round's cut is given.
struct RoundInput {
  int round = 0;          // 1-based
  std::string model_dir;  // the model to cut: the source, or the previous round's
  RoundTarget target;
  std::string data;      // the training records (held-out ones excluded): calibration, or to learn a cut from
  std::string work_dir;  // OUT/round-K, for anything the cut writes
};

// A round's cut: any method that makes a smaller model of the input's.
using RoundPrune = std::function<model::Transformer(const RoundInput& input)>;

// The one-shot methods as a round's cut: the model loaded on `device`, calibration rows packed
// from the round's data.
RoundPrune one_shot_round(const prune::OneShotOptions& options, const prune::CalibrationOptions& calibration,
                          const std::string& device);

struct ProgressiveConfig {
  std::string source, data, eval_data, out;  // eval_data empty: held out from data
  std::vector<RoundTarget> targets;
  std::string method;          // the cut's name, for the table
  int64_t recover_tokens = 0;  // per round
  int64_t seq_len = 512, batch = 8;
  double lr = 1e-4;
  uint64_t seed = 0;
  std::string device = "cpu";
  int64_t task_items = 8;             // encoding-task items evaluated per model
  int64_t task_max_new_tokens = 512;  // per answer
  std::string prompt_template;        // the task prompt's wording the records were made with; empty: the built-in
};

// A recovery's optimizer steps: N tokens at batch x seq_len positions a step (padding counts,
// so rows shorter than seq_len train fewer), rounded up.
int64_t recovery_steps(int64_t tokens, int64_t batch, int64_t seq_len);

// Runs every round and returns quality.json's object, also written with quality.svg:
//   source, method, heldout {path, tokens}, task ("encoding" or null), recover_tokens, and rows,
//   the source's and one per round: {round, target, model, params (exact), share (of the
//   source's), loss_pruned (null for the source), loss (the model as written), task (the
//   encoding report's valid_json, n, epr, np, fr_pooled, sc, when the held-out records are the
//   encoding task's: raw_input and gold_output), recovery {teacher, student, steps, tokens,
//   first_loss, final_loss, run}}.
// The task is answered under the record's grammar (as the demo compares), so that a small model's
// answer parses and its content is what is scored. Throws Error(kInput) for a round whose cut is
// not smaller than the model it cut.
Json run_progressive(const ProgressiveConfig& config, const RoundPrune& prune);

// The table as aligned text, one line per row.
std::string quality_table(const Json& quality);

}  // namespace bespoke::pipeline
