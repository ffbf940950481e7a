// The training loop: distillation or plain fine-tuning of a model directory on JSONL data,
// with checkpoints that resume bit-exactly on CPU.
//
// OUT/checkpoints/step-N/   model.safetensors (the trained weights, canonical names, fp32;
//                           frozen ones are the model directory's), optimizer.pt,
//                           state.json (step, data position, tokens, first loss),
//                           rng.safetensors (the global generators' states)
// OUT/metrics.jsonl         one line per step
// OUT/final/                a model directory every other command accepts
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bespoke/model/transformer.h"
#include "bespoke/train/data.h"
#include "bespoke/train/schedule.h"

namespace bespoke::train {

struct TrainConfig {
  std::string model, data, out;
  std::string chat_template;  // a format name to render chat records with instead of the model's template
  std::string teacher;        // a model directory, or "self" (below); empty: plain cross-entropy
  std::string teacher_topk;   // or a file of its top-K log-probabilities (teacher_cache.h)
  double kd_weight = 1.0;     // with a teacher: loss = w * KD + (1 - w) * CE
  double kd_tau = 1.0;
  int64_t steps = 100;  // optimizer steps in total (a resumed run continues up to it)
  int64_t stop_at = 0;  // > 0: checkpoint and stop at this step, as if interrupted
  int64_t seq_len = 512;
  int64_t batch = 8;        // rows per optimizer step, over all micro-batches
  int64_t micro_batch = 0;  // rows per forward pass; 0: the whole batch
  int64_t bucket = 0;       // > 0: length bucketing over windows of this many batches (sampler.h)
  Schedule schedule;
  double weight_decay = 0.0;  // decoupled (AdamW), matrices only: norms and biases never decay
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double clip = 1.0;  // global gradient-norm clip; 0: none
  uint64_t seed = 0;
  int64_t save_every = 0;           // steps between checkpoints; 0: only at the end
  int64_t keep = 2;                 // checkpoints kept
  int64_t chunk = 1024;             // positions per head application in the loss
  std::vector<std::string> freeze;  // parameters whose name contains any of these stay fixed
  // Per-group rates: a parameter whose name contains a group's string trains at that multiple of
  // the scheduled rate (the first group that matches; the rest at 1x).
  std::vector<std::pair<std::string, double>> lr_groups;
  // Domain mixing: with `domains`, each row's domain is drawn by weight (the records' "domain"
  // fields must all be listed). With `mix_every` > 0 the weights follow dynamic batch loading:
  // every that many steps, each domain's loss on `eval_data` against its reference loss (from
  // `reference_losses`, a JSON object domain -> loss, else the teacher's or, without one, the
  // starting model's loss) moves the weights.
  std::vector<std::string> domains;
  std::vector<double> domain_weights;  // empty: equal
  double domain_cap = 1.0;
  int64_t mix_every = 0;
  std::string eval_data, reference_losses;
  int64_t eval_every = 0;          // > 0: every that many steps and at the last, the loss on eval_data
  std::vector<int64_t> eval_at;    // and at these steps (a curve's points; the last step included)
  std::string device = "cpu";      // cpu, cuda, cuda:N
  bool bf16 = false;               // bf16 weights and activations, fp32 master weights and optimizer
  bool checkpoint_layers = false;  // recompute each layer's activations in the backward pass
  bool resume = false;
  bool write_final = true;  // OUT/final at the end
  bool progress = false;    // a progress line on stderr, redrawn in place (for a terminal)
  int64_t log_every = 0;    // > 0 without `progress`: a plain stderr line every that many steps
};

struct TrainResult {
  int64_t first_step = 0;  // 0, or where a resumed run started
  int64_t steps = 0;       // the step count reached
  int64_t tokens = 0;      // trained target tokens, all runs together
  double first_loss = 0, final_loss = 0;
  bool interrupted = false;           // stopped by `stop`: a checkpoint was saved, unless before the first step
  model::Transformer model{nullptr};  // the trained model as it ended, on its device and dtype
};

// Tensors trained beside the model's parameters: a spoke's adapters, a pruning mask's logits and
// its Lagrange multipliers. They are fp32 leaves the caller made (on the CPU); train() moves them
// onto its device in place (set_data), so the handles a LossTerm holds stay the ones trained.
// Each group is one optimizer group of its own, at `lr_multiple` x the scheduled rate, and the
// global clip measures them with the model's gradients. Checkpoints keep them in
// extra.safetensors as "<group>/<tensor>" (their Adam state in optimizer.pt, after the model's),
// and a resume loads them back.
struct ParamGroup {
  std::string name;
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  double lr_multiple = 1.0;
  double weight_decay = 0.0;  // decoupled, as --weight-decay
};

// A term added to each micro-batch's loss before the backward pass, weighted like the rest of the
// loss by the micro-batch's share of the step's trained targets (a term of the weights alone adds
// exactly its own gradient to the step's). `batch` is the micro-batch on the CPU; `step` counts
// the steps done before this one. Its weighted sum over the step is logged in metrics.jsonl as
// "terms": {name: value}; "loss" includes it.
struct LossTerm {
  std::string name;
  std::function<torch::Tensor(model::Transformer& model, const Batch& batch, int64_t step)> loss;
};

// Called before each forward of the model: a micro-batch of step `step` (kTrain), or a
// measurement of held-out or domain losses (kMeasure). Learned masks are drawn here.
enum class Pass { kTrain, kMeasure };
using BeforeForward = std::function<void(model::Transformer& model, Pass pass, int64_t step)>;

// What a caller adds to training from outside.
struct Extensions {
  std::vector<ParamGroup> groups;
  std::vector<LossTerm> terms;
  BeforeForward before_forward;  // may be empty
  // More fields for each step's line in metrics.jsonl, after the step; may be empty.
  std::function<nlohmann::json()> metrics;
};

// teacher = "self": the model itself without its masks (model/unit_masks.h) is the teacher.
// When every weight is frozen that is the same weights with the masks lifted for the teacher's
// forward (no second copy); otherwise the model directory is loaded once more, and the teacher
// is the starting model.

// Runs until config.steps, config.stop_at, or until `stop` becomes true (checked before the first
// step, and after every step, once its checkpoint is written). Throws Error for bad input.
TrainResult train(const TrainConfig& config, const std::atomic<bool>& stop, const Extensions& extensions = {});

// The newest OUT/checkpoints/step-N directory, or "" if none.
std::string latest_checkpoint(const std::string& out);

}  // namespace bespoke::train
