// Phase 0 of an experiment: before any weights are downloaded, what each candidate source
// model is (its architecture class, whether Bespoke can prune it), its exact parameter count
// and that of the target cut from it, the memory each later phase needs on the planned
// device, the device-hours and money each phase costs, and, where weights and task data are
// at hand, the loss of a one-shot cut. The candidates come back ranked.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bespoke::pipeline {

using Json = nlohmann::ordered_json;

// One later phase's work, for the memory and time estimates.
struct PhasePlan {
  std::string name;             // "finetune", "importance", "prune", "recover", "lottery"
  int64_t tokens = 0;           // positions processed by this phase, all its steps and runs together
  bool backward = true;         // training (forward, backward, optimizer step) or forward only
  bool on_target = false;       // the model is the cut (recovery, lottery arms), else the candidate
  bool teacher = false;         // distillation from a resident teacher of the candidate's size
  bool frozen_weights = false;  // only masks train: no weight gradients, no optimizer state, no master copy
  int64_t batch = 8, micro_batch = 0, seq_len = 512;  // rows per step, per forward (0: batch), tokens per row
  bool checkpoint_layers = false;                     // recompute each layer's activations in the backward pass
};

struct DevicePlan {
  std::string device = "cpu";      // cpu (eager attention), cuda (fused attention, no score matrix kept)
  int64_t gpus = 1;                // data parallel: every device holds a whole replica
  double memory_gb = 0;            // per device, in GiB (2^30 bytes); 0: not checked
  double flops_per_second = 3e11;  // sustained, per device
  double price_per_hour = 0;       // per device-hour
  bool bf16 = false;               // weights in bf16 (fp32 masters for training), else fp32
};

struct FeasibilityConfig {
  std::vector<std::pair<std::string, std::string>> candidates;  // name, directory (config.json at least)
  std::string target;  // a shape (prune::parse_target) or a budget ("1.5B"); exactly one
  std::vector<PhasePlan> phases;
  DevicePlan device;
  double cost_cap = 0;  // 0: none
  std::string data;     // task JSONL for the one-shot loss where weights exist; "" : none
  int64_t calibration_rows = 8, seq_len = 512;
  std::string method = "minitron";  // the one-shot method for that loss (prune::method_names())
};

// Every candidate's row, ranked: {rank, name, dir, class, supported, reason, family, params,
//   weights (the directory holds safetensors), target {text, shape, params, share, note},
//   memory {phase: {weights, gradients, optimizer, activations, teacher, total, fits}}, fits,
//   hours {phase: h}, cost {phase: money}, total_hours, total_cost, within_cap, one_shot_loss,
//   source_loss}, as {"candidates": [...], "target": ..., "cost_cap": ..., "device": {...},
//   "phases": [...]}.
// A budget's shape is the shape search's first from config alone (nothing can be scored without
// weights): the most even of those within 2% of the largest under the budget; a target that
// keeps every parameter is a reason, not a row.
// Bytes are int64; hours and money doubles. `fits` is null where memory_gb is 0 (not checked);
// a row that Bespoke cannot cut (reason says why) has null counts, memory, hours and cost. The
// ranking: supported first, then fitting in memory in every phase, then within the cost cap,
// then lower one-shot loss (rows without one after those with one), then lower total cost.
// Throws Error(kUsage) for a plan that makes no sense (no candidates, no target, a phase of no
// positive batch or sequence, two phases of one name), Error(kInput) for a target that parses
// as neither a shape nor a budget or a config.json that cannot be read.
Json feasibility(const FeasibilityConfig& config);

// The ranked table as aligned text (what `bespoke run --plan` prints and the report shows).
std::string feasibility_table(const Json& feasibility);

// The class read from a config.json object (a multimodal one through its text_config):
// "hybrid" (linear-attention layers: layer_types holding "linear_attention", or Gated DeltaNet
// keys), "moe" (more than one expert), "dense" (an attention-and-MLP stack: a family Bespoke
// reads, or the keys of one), or "unknown".
std::string architecture_class(const nlohmann::json& config);

// Why Bespoke cannot prune a config of this class, as one phrase ("MoE: not prunable yet", a
// hybrid of another family than Qwen 3.5's, an unknown config); "" where it can (dense, and Gated
// DeltaNet hybrids).
std::string class_reason(const nlohmann::json& config);

}  // namespace bespoke::pipeline
