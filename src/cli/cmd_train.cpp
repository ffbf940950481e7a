// bespoke train --model MODEL --data FILE.jsonl --out DIR --steps N [--seq-len L] [--batch B]
//               [--lr LR] [--seed S] [--teacher MODEL] [--resume] ...
// SIGINT/SIGTERM: the step in flight finishes, a checkpoint is written, exit 130.
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "bespoke/core/error.h"
#include "bespoke/train/distributed.h"
#include "bespoke/train/teacher_cache.h"
#include "bespoke/train/trainer.h"
#include "commands.h"
#include "train_flags.h"

namespace bespoke::cli {
namespace {

std::atomic<bool> stop_requested{false};

void request_stop(int) {
  stop_requested.store(true);
}

// This process's command line without `--nproc N`: what each worker runs.
std::vector<std::string> worker_command() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  std::vector<std::string> out = {"/proc/self/exe"};
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--nproc")
      ++i;
    else if (args[i].rfind("--nproc=", 0) != 0)
      out.push_back(args[i]);
  }
  return out;
}

}  // namespace

void add_train(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  train::TrainConfig* cfg = &flags->cfg;
  CLI::App* cmd = app.add_subcommand("train", "Fine-tune or distil a model on JSONL data, with exact resume");
  cmd->add_option("--model", cfg->model, "model directory to start from")->required();
  cmd->add_option("--data", cfg->data, "JSONL: {\"messages\"}, {\"prompt\", \"completion\"} or {\"text\"} per line")
      ->required();
  cmd->add_option("--out", cfg->out, "run directory: checkpoints/, metrics.jsonl, final/")->required();
  cmd->add_option("--steps", cfg->steps, "optimizer steps in total")->required();
  cmd->add_option("--seq-len", cfg->seq_len, "tokens per row (examples are padded or cut)")->capture_default_str();
  cmd->add_option("--batch", cfg->batch, "rows per optimizer step")->capture_default_str();
  cmd->add_option("--seed", cfg->seed, "data order seed")->capture_default_str();
  add_engine_flags(cmd, *flags);
  auto nproc = std::make_shared<int>(1);
  cmd->add_option("--nproc", *nproc,
                  "data-parallel processes to launch on this machine (Gloo); or set RANK, WORLD_SIZE, "
                  "MASTER_ADDR, MASTER_PORT as torchrun does")
      ->check(CLI::Range(1, 256));
  cmd->callback([flags, cfg, nproc] {
    finish_engine_flags(*flags);
    if (*nproc > 1) {
      if (std::getenv("WORLD_SIZE"))
        fail(ErrorKind::kUsage, "--nproc launches the workers itself; do not also set WORLD_SIZE");
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
    if (r.interrupted && r.steps == r.first_step) {
      std::cerr << "interrupted before step " << r.steps + 1 << ": nothing new to save\n";
      std::exit(130);
    }
    std::cerr << (r.interrupted ? "interrupted at step " : "finished at step ") << r.steps << ": loss " << r.first_loss
              << " -> " << r.final_loss << ", " << r.tokens << " trained tokens; checkpoint in " << cfg->out
              << "/checkpoints\n";
    if (r.interrupted) std::exit(130);
  });
}

void add_teacher_logits(CLI::App& app) {
  struct Options {
    std::string teacher, data, out, device = "cpu", chat_template;
    int64_t seq_len = 512, top_k = 64, batch = 8;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd =
      app.add_subcommand("teacher-logits", "Precompute a teacher's top-K log-probabilities for `train --teacher-topk`");
  cmd->add_option("--teacher", opt->teacher, "teacher model directory")->required();
  cmd->add_option("--data", opt->data, "the JSONL the student will train on")->required();
  cmd->add_option("--out", opt->out, "output file (.safetensors)")->required();
  cmd->add_option("--seq-len", opt->seq_len,
                  "positions per example: the training --seq-len (longer documents are split into windows of it)")
      ->capture_default_str();
  cmd->add_option("--top-k", opt->top_k, "tokens kept per position")->capture_default_str();
  cmd->add_option("--batch", opt->batch, "examples per teacher forward")->capture_default_str();
  cmd->add_option("--device", opt->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--chat-template", opt->chat_template, "as train's --chat-template");
  cmd->callback([opt] {
    train::write_teacher_topk(opt->teacher, opt->data, opt->out, opt->seq_len, opt->top_k, opt->batch, opt->device,
                              opt->chat_template);
    std::cerr << "wrote " << opt->out << "\n";
  });
}

}  // namespace bespoke::cli
