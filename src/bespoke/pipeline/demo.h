// `bespoke demo`: the whole pipeline on a tiny model in a few minutes — encoding-task data,
// a tokenizer learned from it, a small LLaMA-style model trained on it, the faithfulness metrics before and after (with
// and without constrained decoding), GGUF export checked in llama.cpp, and a report. Each stage works in RUN/<stage>/
// with a manifest (stage.h); rerunning skips finished stages and an interrupted training resumes from its checkpoint.
#pragma once

#include <atomic>
#include <string>

#include "bespoke/pipeline/stage.h"

namespace bespoke::pipeline {

// The defaults are configs/demo.toml's values, so `bespoke demo` from the repository root runs
// the shipped experiment with or without --config.
struct DemoConfig {
  std::string out = "demo-run";
  std::string tokenizer = "tests/fixtures/hf/llama";        // tokenizer, chat template and base config.json
  std::string prompt_template = "configs/demo_prompt.txt";  // empty: the built-in prompt
  std::string interop = "tools/interop";                    // the llama.cpp harness (node + node-llama-cpp)
  uint64_t seed = 0;
  // data
  int64_t n_train = 2000, n_eval = 24;
  // the task tokenizer's vocabulary, learned from the training records on the base's rules
  int64_t vocab = 2048;
  int64_t digits = 3;  // numbers pre-tokenized in runs of up to 3 digits; 0: the base's rule
  // model
  int64_t hidden = 128, layers = 4, heads = 4, kv_heads = 2, ffn = 384;
  // training
  int64_t steps = 1100, seq_len = 1024, batch = 8;
  int64_t bucket = 16;  // length bucketing: batches per sorted window (0: off)
  double lr = 3e-3;
  int64_t warmup = 10;
  double minutes = 7;  // > 0: training stops at this budget (checkpointed, then finished there)
  // evaluation
  int64_t max_new_tokens = 700;
  bool stress = false;
  bool progress = false;  // progress lines for a terminal
};

// Runs the stages not yet done and returns report.json's object (also written to
// OUT/report.json, with OUT/report.html). Throws Error(kInput) when `stop` interrupts training:
// the checkpoint is kept and the same command resumes.
Json run_demo(const DemoConfig& config, const std::atomic<bool>& stop);

// What a demo run claims, checked on its report's own numbers: `loss_fell`; `grammar_sc` (the
// trained model under the grammar is schema-compliant on every record); `llama_cpp_agrees` (every
// exported file); `within_10_minutes`; and `trained_vs_untrained`, each metric of the trained model
// against the untrained one, both under the grammar: "better", "worse", "tie", "tie at best" or
// "not measured"; `trained_beats_untrained` when none is "worse" or a plain "tie".
Json demo_checks(const Json& report);

// The short table printed at the end.
std::string demo_summary(const Json& report);

}  // namespace bespoke::pipeline
