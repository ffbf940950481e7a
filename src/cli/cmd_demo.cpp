// bespoke demo [--config configs/demo.toml] [--out DIR] [--minutes N]
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>

#include "bespoke/pipeline/demo.h"
#include "commands.h"

namespace bespoke::cli {
namespace {

std::atomic<bool> demo_stop{false};
void request_demo_stop(int) {
  demo_stop.store(true);
}

}  // namespace

void add_demo(CLI::App& app) {
  auto c = std::make_shared<pipeline::DemoConfig>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "The whole pipeline on a tiny model: data, training, evaluation, GGUF export checked in llama.cpp, report");
  cmd->add_option("--out", c->out, "run directory (stages, manifests, report.json, report.html)")
      ->capture_default_str();
  cmd->add_option("--minutes", c->minutes, "training time budget; 0: the configured steps")->capture_default_str();
  cmd->add_option("--tokenizer", c->tokenizer, "model directory whose tokenizer rules, chat template and config to use")
      ->capture_default_str();
  cmd->add_option("--vocab", c->vocab, "the task tokenizer's vocabulary, learned from the training records")
      ->check(CLI::Range(int64_t{512}, int64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--digits", c->digits,
                  "numbers pre-tokenized in runs of up to 3 digits; 0: the base tokenizer's rule")
      ->check(CLI::IsMember({0, 3}))
      ->capture_default_str();
  cmd->add_option("--prompt-template", c->prompt_template,
                  "the prompt's wording (see README); \"\" for the built-in one");
  cmd->add_option("--interop", c->interop, "the llama.cpp harness directory")->capture_default_str();
  cmd->add_option("--seed", c->seed)->capture_default_str();
  cmd->add_option("--n-train", c->n_train, "training records")->capture_default_str();
  cmd->add_option("--n-eval", c->n_eval, "evaluation items")->capture_default_str();
  cmd->add_option("--hidden", c->hidden)->capture_default_str();
  cmd->add_option("--layers", c->layers)->capture_default_str();
  cmd->add_option("--heads", c->heads)->capture_default_str();
  cmd->add_option("--kv-heads", c->kv_heads)->capture_default_str();
  cmd->add_option("--ffn", c->ffn)->capture_default_str();
  cmd->add_option("--steps", c->steps)->capture_default_str();
  cmd->add_option("--seq-len", c->seq_len)->capture_default_str();
  cmd->add_option("--batch", c->batch)->capture_default_str();
  cmd->add_option("--bucket", c->bucket, "batches per length-sorted window; 0: no bucketing")->capture_default_str();
  cmd->add_option("--lr", c->lr)->capture_default_str();
  cmd->add_option("--warmup", c->warmup)->capture_default_str();
  cmd->add_option("--max-new-tokens", c->max_new_tokens, "per evaluation answer")->capture_default_str();
  cmd->add_flag("--stress", c->stress, "also run the seven stress cases");
  auto check = std::make_shared<bool>(false);
  cmd->add_flag("--check", *check, "exit 1 unless every check in the report holds");
  cmd->callback([c, check] {
    c->progress = isatty(STDERR_FILENO);
    std::signal(SIGINT, request_demo_stop);
    std::signal(SIGTERM, request_demo_stop);
    const pipeline::Json report = pipeline::run_demo(*c, demo_stop);
    std::cout << pipeline::demo_summary(report);
    std::string failed;
    for (const auto& [name, holds] : report["checks"].items())
      if (holds.is_boolean() && !holds.get<bool>()) failed += (failed.empty() ? "" : ", ") + name;
    if (*check && !failed.empty()) {
      std::cerr << "bespoke: demo checks failed: " << failed << "\n";
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace bespoke::cli
