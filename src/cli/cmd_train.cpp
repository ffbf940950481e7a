// bespoke train --model MODEL --data FILE.jsonl --out DIR --steps N [--seq-len L] [--batch B]
//               [--lr LR] [--seed S] [--teacher MODEL] [--resume] ...
// SIGINT/SIGTERM: the step in flight finishes, a checkpoint is written, exit 130.
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "bespoke/core/error.h"
#include "bespoke/text/chat_template.h"
#include "bespoke/train/distributed.h"
#include "bespoke/train/teacher_cache.h"
#include "bespoke/train/trainer.h"
#include "commands.h"

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

// `text` read whole as a number; nothing if any of it is not part of one.
std::optional<double> whole_number(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return value;
}

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t"), last = text.find_last_not_of(" \t");
  return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

// --domains: NAME=WEIGHT,... or NAME,... (spaces around the names are not part of them).
void parse_domains(const std::string& text, train::TrainConfig& cfg) {
  for (size_t begin = 0; begin <= text.size();) {
    const size_t end = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, end - begin);
    const size_t eq = item.find('=');
    const std::string name = trimmed(item.substr(0, eq));
    const std::optional<double> weight =
        eq == std::string::npos ? std::optional<double>() : whole_number(item.substr(eq + 1));
    if (name.empty() || (eq != std::string::npos && !weight))
      fail(ErrorKind::kUsage, "--domains: '" + item + "' is not NAME or NAME=WEIGHT");
    cfg.domains.push_back(name);
    if (weight) cfg.domain_weights.push_back(*weight);
    begin = end + 1;
  }
  if (!cfg.domain_weights.empty() && cfg.domain_weights.size() != cfg.domains.size())
    fail(ErrorKind::kUsage, "--domains: give a weight for every domain or for none");
}

}  // namespace

void add_train(CLI::App& app) {
  auto cfg = std::make_shared<train::TrainConfig>();
  CLI::App* cmd = app.add_subcommand("train", "Fine-tune or distil a model on JSONL data, with exact resume");
  cmd->add_option("--model", cfg->model, "model directory to start from")->required();
  cmd->add_option("--data", cfg->data, "JSONL: {\"messages\"}, {\"prompt\", \"completion\"} or {\"text\"} per line")
      ->required();
  cmd->add_option("--out", cfg->out, "run directory: checkpoints/, metrics.jsonl, final/")->required();
  cmd->add_option(
      "--chat-template", cfg->chat_template,
      "render chat records in this format instead of the model's template: " + text::chat_format_names().choices());
  cmd->add_option("--steps", cfg->steps, "optimizer steps in total")->required();
  cmd->add_option("--stop-at", cfg->stop_at, "checkpoint and stop at this step (resume later with --resume)");
  cmd->add_option("--seq-len", cfg->seq_len, "tokens per row (examples are padded or cut)")->capture_default_str();
  cmd->add_option("--batch", cfg->batch, "rows per optimizer step")->capture_default_str();
  cmd->add_option("--micro-batch", cfg->micro_batch, "rows per forward pass (gradient accumulation); 0: --batch");
  cmd->add_option("--bucket", cfg->bucket,
                  "batch rows of like length, sorted within windows of this many batches; 0: off");
  cmd->add_option("--lr", cfg->schedule.peak, "peak learning rate")->capture_default_str();
  cmd->add_option("--schedule", cfg->schedule.kind, "cosine, wsd or constant")->capture_default_str();
  cmd->add_option("--warmup", cfg->schedule.warmup, "linear warmup steps")->capture_default_str();
  cmd->add_option("--final-lr-ratio", cfg->schedule.final_ratio, "last rate / peak (cosine, wsd)")
      ->capture_default_str();
  cmd->add_option("--weight-decay", cfg->weight_decay, "AdamW decoupled weight decay (matrices only)")
      ->capture_default_str();
  cmd->add_option("--clip", cfg->clip, "global gradient-norm clip; 0: none")->capture_default_str();
  cmd->add_option("--seed", cfg->seed, "data order seed")->capture_default_str();
  cmd->add_option("--teacher", cfg->teacher, "teacher model directory: distil with forward KL");
  cmd->add_option("--teacher-topk", cfg->teacher_topk, "a file from `bespoke teacher-logits`: distil from it instead");
  cmd->add_option("--kd-weight", cfg->kd_weight, "with --teacher: loss = w KD + (1 - w) CE")->capture_default_str();
  cmd->add_option("--kd-tau", cfg->kd_tau, "distillation temperature")->capture_default_str();
  cmd->add_option("--save-every", cfg->save_every, "steps between checkpoints; 0: only at the end")
      ->capture_default_str();
  cmd->add_option("--freeze", cfg->freeze, "keep parameters whose name contains this fixed (repeatable)");
  cmd->add_flag("--resume", cfg->resume, "continue from the newest checkpoint in --out");
  cmd->add_option("--device", cfg->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--checkpoint-layers", cfg->checkpoint_layers, "recompute layer activations in backward (less memory)");
  auto dtype = std::make_shared<std::string>("f32");
  cmd->add_option("--dtype", *dtype, "f32, or bf16 (bf16 compute, fp32 master weights and optimizer)")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  auto lr_groups = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--lr-group", *lr_groups,
                  "PATTERN=MULTIPLE: parameters whose name contains PATTERN train at MULTIPLE x the rate (repeatable; "
                  "the first match wins)");
  auto domains = std::make_shared<std::string>();
  cmd->add_option("--domains", *domains, "mix by record domain: NAME=WEIGHT,... (or NAME,... for equal weights)");
  cmd->add_option("--domain-cap", cfg->domain_cap, "the largest share any domain may take")->capture_default_str();
  cmd->add_option("--mix-every", cfg->mix_every,
                  "dynamic batch loading: update the mix every N steps from --eval-data");
  cmd->add_option("--eval-data", cfg->eval_data, "held-out JSONL (with every domain, for --mix-every)");
  cmd->add_option("--eval-every", cfg->eval_every, "the loss on --eval-data every N steps and at the end; 0: never");
  cmd->add_option("--reference-losses", cfg->reference_losses,
                  "JSON {domain: loss}; default: the teacher's (or the starting model's) loss on --eval-data");
  auto nproc = std::make_shared<int>(1);
  cmd->add_option("--nproc", *nproc,
                  "data-parallel processes to launch on this machine (Gloo); or set RANK, WORLD_SIZE, "
                  "MASTER_ADDR, MASTER_PORT as torchrun does")
      ->check(CLI::Range(1, 256));
  cmd->callback([cfg, nproc, domains, dtype, lr_groups] {
    cfg->bf16 = *dtype == "bf16";
    for (const std::string& group : *lr_groups) {
      const size_t eq = group.rfind('=');
      const std::optional<double> multiple =
          eq == std::string::npos || eq == 0 ? std::nullopt : whole_number(group.substr(eq + 1));
      if (!multiple) fail(ErrorKind::kUsage, "--lr-group: '" + group + "' is not PATTERN=MULTIPLE");
      cfg->lr_groups.emplace_back(group.substr(0, eq), *multiple);
    }
    if (!domains->empty()) parse_domains(*domains, *cfg);
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
