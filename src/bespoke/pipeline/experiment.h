// An experiment file (`bespoke run EXPERIMENT.toml`): the whole plan, from candidate bases to a
// deployable GGUF, as one TOML document. Every key is documented in configs/demo.toml; relative
// paths are taken from the file's directory. The tables:
//   [run]          seed, device, dtype, gpus, seq_len, batch, micro_batch, checkpoint_layers, base
//   [budget]       price_per_gpu_hour, cost_cap, flops_per_second, memory_gb, minutes, tokens, steps
//   [[candidates]] name, model (a directory; config.json alone is enough for Phase 0), or
//                  scratch = true: the parent is trained here from [scratch]
//   [scratch]      tokenizer, vocab, digits, hidden, layers, heads, kv_heads, ffn, steps, lr, warmup
//   [data]         task, eval (JSONL), or generate_train / generate_eval (encoding-task records);
//                  prompt_template; [[data.domains]] name, weight, and jsonl, or source_dir + suffix
//                  + max_records (text records cut from a directory's files), or task = true
//   [finetune]     steps, lr, warmup
//   [importance]   samples
//   [prune]        method, target | params | targets, steps, round_steps, freeze_weights, mask_lr,
//                  lambda_lr
//   [recover]      steps, lr, warmup, kd_weight, mix_every, save_every
//   [gate]         baseline_report | baseline_model | baseline_server, items, max_new_tokens,
//                  max_worse, hard_targets, stop
//   [lottery]      enabled, steps, lrs, sweep_steps, seeds, eval_points, max_multiple, task_items
//   [export]       types, interop
// Parsing checks everything that can be checked before work starts and throws Error(kInput) in
// one line naming the key (`prune.target`) and the reason: unknown keys, wrong types, values out
// of range, missing paths, targets a candidate cannot be cut to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bespoke::pipeline {

struct RunSettings {
  uint64_t seed = 0;
  std::string device = "cpu";  // cpu, cuda, cuda:N
  bool bf16 = false;           // dtype = "bf16": bf16 weights, fp32 masters
  int64_t gpus = 1;
  int64_t seq_len = 512, batch = 8, micro_batch = 0;
  bool checkpoint_layers = false;
  std::string base;  // the candidate the plan continues with; empty: Phase 0's first
};

struct Budget {
  double price_per_gpu_hour = 0;    // money per device-hour (a CPU run counts the machine as one)
  double cost_cap = 0;              // 0: none
  double flops_per_second = 3e11;   // sustained per device, for the estimates
  double memory_gb = 0;             // per device; 0: not checked
  double minutes = 0;               // wall-clock cap of the whole run; 0: none
  int64_t tokens = 0, steps = 0;    // caps on the plan's training tokens and steps; 0: none
};

struct Candidate {
  std::string name;
  std::string model;     // a model directory; empty with scratch
  bool scratch = false;  // trained here from [scratch]
};

// The demo's parent: a tokenizer learned from the data on `tokenizer`'s rules, a LLaMA-style
// model of these sizes initialised at random and pretrained on every domain.
struct Scratch {
  std::string tokenizer;  // a model directory: tokenizer rules, chat template, config
  int64_t vocab = 2048, digits = 3;
  int64_t hidden = 128, layers = 4, heads = 4, kv_heads = 2, ffn = 384;
  int64_t steps = 300;
  double lr = 3e-3;
  int64_t warmup = 10;
};

struct Domain {
  std::string name;
  double weight = 1;
  bool task = false;        // the task's own records
  std::string jsonl;        // or records from a file
  std::string source_dir;   // or text records cut from the files under a directory
  std::string suffix;       // of those files (".py")
  int64_t max_records = 0;  // 0: all
  int64_t record_chars = 2000;
};

struct DataSettings {
  std::string task, eval;                   // JSONL files, or
  int64_t generate_train = 0, generate_eval = 0;  // encoding-task records made here
  std::string prompt_template;              // the encoding prompt's wording; empty: the built-in
  std::vector<Domain> domains;              // empty: the task alone
};

struct Finetune {
  int64_t steps = 0;  // 0: no fine-tune (the base is the ceiling)
  double lr = 1e-4;
  int64_t warmup = 10;
};

struct ImportanceSettings {
  int64_t samples = 64;  // calibration rows
};

struct PruneSettings {
  std::string method = "minitron";          // minitron, taylor, depth, random, l0
  std::string target, params, targets;      // exactly one
  int64_t steps = 0;                        // l0
  int64_t round_steps = 50;                 // targets: each round's recovery
  bool freeze_weights = false;
  double mask_lr = 1.0, lambda_lr = 1.0;
};

struct Recover {
  int64_t steps = 100;
  double lr = 1e-3;
  int64_t warmup = 10;
  double kd_weight = 1.0;
  int64_t mix_every = 0;  // dynamic batch loading over the domains; 0: fixed weights
  int64_t save_every = 0;  // 0: steps / 5
};

struct GateSettings {
  std::string baseline_report, baseline_model, baseline_server;  // at most one; none: the fine-tuned base
  int64_t items = 24, max_new_tokens = 512;
  int64_t max_worse = 2;  // no-go when worse than the baseline on more metrics than this
  bool hard_targets = true;  // also no-go when a hard target is missed (EPR >= 0.90, FR <= 0.05, ...)
  bool stop = true;          // a no-go stops the run before export
};

struct LotterySettings {
  bool enabled = true;
  int64_t steps = 0;  // 0: recover.steps
  std::vector<double> lrs;  // empty: recover.lr alone
  int64_t sweep_steps = 0;
  std::vector<uint64_t> seeds = {0, 1};
  int64_t eval_points = 8;
  double max_multiple = 4;
  int64_t task_items = 0;
};

struct ExportSettings {
  std::vector<std::string> types = {"f16", "q8_0"};
  std::string interop = "tools/interop";  // the llama.cpp harness
};

struct Experiment {
  std::string path;  // the file read
  RunSettings run;
  Budget budget;
  std::vector<Candidate> candidates;
  Scratch scratch;
  DataSettings data;
  Finetune finetune;
  ImportanceSettings importance;
  PruneSettings prune;
  Recover recover;
  GateSettings gate;
  LotterySettings lottery;
  ExportSettings exporting;
};

// Reads and checks `path`. Throws Error(kInput) naming the key and the reason.
Experiment read_experiment(const std::string& path);

// The same from TOML text; relative paths are taken from `dir`.
Experiment parse_experiment(const std::string& text, const std::string& dir, const std::string& name);

}  // namespace bespoke::pipeline
