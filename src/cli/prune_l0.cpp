#include "prune_l0.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "bespoke/core/error.h"
#include "bespoke/model/hf_export.h"

namespace bespoke::cli {
namespace {

std::atomic<bool> stop_requested{false};

void request_stop(int) {
  stop_requested.store(true);
}

}  // namespace

void add_l0_flags(CLI::App* cmd, L0Flags& f, const std::vector<std::string>& except) {
  const size_t before = cmd->get_options().size();
  train::TrainConfig& cfg = f.train.cfg;
  pipeline::L0Options& o = f.l0;
  cmd->add_option("--steps", cfg.steps, "l0: optimizer steps of mask learning")->capture_default_str();
  cmd->add_flag("--freeze-weights", o.freeze_weights,
                "l0: train only the masks and multipliers (the weights stay as they are, in their dtype)");
  cmd->add_option("--mask-lr", o.mask_lr, "l0: peak rate of the gates' log alpha")->capture_default_str();
  cmd->add_option("--lambda-lr", o.lambda_lr, "l0: peak rate of the Lagrange multipliers")->capture_default_str();
  cmd->add_option("--mask-warmup", o.warmup_fraction,
                  "l0: share of the steps over which the target moves from the source's size to its own")
      ->capture_default_str();
  cmd->add_option("--init-from", o.init_from, "l0: start the gates from this importance directory");
  cmd->add_option("--run-dir", f.run_dir,
                  "l0: the training run's directory (checkpoints, metrics.jsonl); default OUT-run");
  add_engine_flags(cmd, f.train, except);
  const std::vector<CLI::Option*> all = cmd->get_options();
  f.options.assign(all.begin() + before, all.end());
}

void refuse_l0_flags(const L0Flags& f, const std::string& method) {
  for (const CLI::Option* opt : f.options)
    if (opt->count() > 0)
      fail(ErrorKind::kInput, opt->get_name() + " trains masks: it is for --method l0, not " + method);
}

namespace {

// The options of one learning run: the flags', on `model` and `data`, into `run_dir`.
pipeline::L0Options l0_options(const L0Flags& f, const std::string& model, const prune::Target& target,
                               const std::string& data, int64_t seq_len, int64_t batch, uint64_t seed,
                               const std::string& run_dir) {
  pipeline::L0Options o = f.l0;
  o.train = f.train.cfg;
  o.train.model = model;
  o.train.data = data;
  o.train.out = run_dir;
  o.train.seq_len = seq_len;
  o.train.batch = batch;
  o.train.seed = seed;
  o.train.progress = ::isatty(STDERR_FILENO);
  o.target = target;
  o.seed = seed;
  return o;
}

// Learns, or exits 130 when interrupted (a checkpoint is in the run's directory).
pipeline::L0Result learn_or_exit(const pipeline::L0Options& o) {
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  pipeline::L0Result r = pipeline::learn_masks(o, stop_requested);
  if (r.run.interrupted) {
    std::cerr << "interrupted at step " << r.run.steps << ": rerun with --resume to continue from " << o.train.out
              << "\n";
    std::exit(130);
  }
  return r;
}

}  // namespace

pipeline::RoundPrune l0_round(const L0Flags& flags, int64_t seq_len, int64_t batch, uint64_t seed) {
  return [flags, seq_len, batch, seed](const pipeline::RoundInput& in) {
    if (!in.target.goal.shape)
      fail(ErrorKind::kInput, "--targets " + in.target.text + ": --method l0 learns masks at a shape, not a budget");
    pipeline::L0Result r = learn_or_exit(
        l0_options(flags, in.model_dir, *in.target.goal.shape, in.data, seq_len, batch, seed, in.work_dir + "/l0"));
    return pipeline::cut_learned(r.run.model, r.binarised);
  };
}

void run_l0(L0Flags& f, const std::string& model, const prune::Target& target, const std::string& data, int64_t seq_len,
            int64_t batch, uint64_t seed, const std::string& out) {
  finish_engine_flags(f.train);
  const pipeline::L0Options o =
      l0_options(f, model, target, data, seq_len, batch, seed, f.run_dir.empty() ? out + "-run" : f.run_dir);
  pipeline::L0Result r = learn_or_exit(o);
  model::Transformer small = pipeline::cut_learned(r.run.model, r.binarised);
  model::export_hf(small, model, out);
  std::cerr << "learned masks for " << r.run.steps << " steps (" << r.run.tokens << " tokens; run in " << o.train.out
            << "): wrote " << out << "\n";
}

}  // namespace bespoke::cli
