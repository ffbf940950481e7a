// bespoke train --model MODEL --data FILE.jsonl --out DIR --steps N [--seq-len L] [--batch B]
//               [--lr LR] [--seed S] [--teacher MODEL] [--resume] ...
// SIGINT/SIGTERM: the step in flight finishes, a checkpoint is written, exit 130.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <unistd.h>

#include "bespoke/core/error.h"
#include "bespoke/train/distributed.h"
#include "bespoke/train/trainer.h"
#include "commands.h"

namespace bespoke::cli {
namespace {

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested.store(true); }

// This process's command line without `--nproc N`: what each worker runs.
std::vector<std::string> worker_command() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  std::vector<std::string> out = {"/proc/self/exe"};
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--nproc") ++i;
    else if (args[i].rfind("--nproc=", 0) != 0) out.push_back(args[i]);
  }
  return out;
}

}  // namespace

void add_train(CLI::App& app) {
  auto cfg = std::make_shared<train::TrainConfig>();
  CLI::App* cmd = app.add_subcommand("train", "Fine-tune or distil a model on JSONL data, with exact resume");
  cmd->add_option("--model", cfg->model, "model directory to start from")->required();
  cmd->add_option("--data", cfg->data, "JSONL: {\"messages\"}, {\"prompt\", \"completion\"} or {\"text\"} per line")->required();
  cmd->add_option("--out", cfg->out, "run directory: checkpoints/, metrics.jsonl, final/")->required();
  cmd->add_option("--steps", cfg->steps, "optimizer steps in total")->required();
  cmd->add_option("--stop-at", cfg->stop_at, "checkpoint and stop at this step (resume later with --resume)");
  cmd->add_option("--seq-len", cfg->seq_len, "tokens per row (examples are padded or cut)")->capture_default_str();
  cmd->add_option("--batch", cfg->batch, "rows per optimizer step")->capture_default_str();
  cmd->add_option("--micro-batch", cfg->micro_batch, "rows per forward pass (gradient accumulation); 0: --batch");
  cmd->add_option("--lr", cfg->schedule.peak, "peak learning rate")->capture_default_str();
  cmd->add_option("--schedule", cfg->schedule.kind, "cosine, wsd or constant")->capture_default_str();
  cmd->add_option("--warmup", cfg->schedule.warmup, "linear warmup steps")->capture_default_str();
  cmd->add_option("--final-lr-ratio", cfg->schedule.final_ratio, "last rate / peak (cosine, wsd)")->capture_default_str();
  cmd->add_option("--weight-decay", cfg->weight_decay, "AdamW decoupled weight decay (matrices only)")->capture_default_str();
  cmd->add_option("--clip", cfg->clip, "global gradient-norm clip; 0: none")->capture_default_str();
  cmd->add_option("--seed", cfg->seed, "data order seed")->capture_default_str();
  cmd->add_option("--teacher", cfg->teacher, "teacher model directory: distil with forward KL");
  cmd->add_option("--kd-weight", cfg->kd_weight, "with --teacher: loss = w KD + (1 - w) CE")->capture_default_str();
  cmd->add_option("--kd-tau", cfg->kd_tau, "distillation temperature")->capture_default_str();
  cmd->add_option("--save-every", cfg->save_every, "steps between checkpoints; 0: only at the end")->capture_default_str();
  cmd->add_option("--freeze", cfg->freeze, "keep parameters whose name contains this fixed (repeatable)");
  cmd->add_flag("--resume", cfg->resume, "continue from the newest checkpoint in --out");
  auto nproc = std::make_shared<int>(1);
  cmd->add_option("--nproc", *nproc, "data-parallel processes to launch on this machine (Gloo); or set RANK, WORLD_SIZE, "
                                      "MASTER_ADDR, MASTER_PORT as torchrun does")
      ->check(CLI::Range(1, 256));
  cmd->callback([cfg, nproc] {
    if (*nproc > 1) {
      if (std::getenv("WORLD_SIZE")) fail(ErrorKind::kUsage, "--nproc launches the workers itself; do not also set WORLD_SIZE");
      std::exit(train::launch_local(*nproc, worker_command()));
    }
    cfg->progress = ::isatty(STDERR_FILENO);
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    const train::TrainResult r = train::train(*cfg, stop_requested);
    if (const char* rank = std::getenv("RANK"); rank && std::string(rank) != "0") {
      if (r.interrupted) std::exit(130);
      return;  // rank 0 reports
    }
    std::cerr << (r.interrupted ? "interrupted at step " : "finished at step ") << r.steps << ": loss " << r.first_loss
              << " -> " << r.final_loss << ", " << r.tokens << " trained tokens; checkpoint in " << cfg->out << "/checkpoints\n";
    if (r.interrupted) std::exit(130);
  });
}

}  // namespace bespoke::cli
