// bespoke run EXPERIMENT.toml --out RUN_DIR [--over-budget] [--plan]
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>

#include "bespoke/pipeline/experiment.h"
#include "bespoke/pipeline/run.h"
#include "commands.h"

namespace bespoke::cli {
namespace {

std::atomic<bool> run_stop{false};
void request_run_stop(int) {
  run_stop.store(true);
}

}  // namespace

void run_experiment_file(const std::string& path, pipeline::RunOptions options) {
  const pipeline::Experiment e = pipeline::read_experiment(path);
  options.progress = isatty(STDERR_FILENO);
  std::signal(SIGINT, request_run_stop);
  std::signal(SIGTERM, request_run_stop);
  const pipeline::Json report = pipeline::run_experiment(e, options, run_stop);
  if (options.plan_only) return;
  std::cout << pipeline::run_summary(report) << "report: " << options.out << "/report.html\n";
}

void add_run(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto o = std::make_shared<pipeline::RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "The whole plan from an experiment file: feasibility, fine-tune, importance, prune, gate, recover, "
             "lottery-ticket arms, GGUF export, report");
  cmd->add_option("EXPERIMENT", *path, "the experiment file (TOML; configs/demo.toml documents every key)")->required();
  cmd->add_option("--out", o->out, "run directory (stages, manifests, ledger, report.json, report.html)")->required();
  cmd->add_flag("--over-budget", o->over_budget, "run a plan whose estimated cost exceeds budget.cost_cap");
  cmd->add_flag("--plan", o->plan_only, "print Phase 0's table (from config.json alone) and stop");
  cmd->callback([path, o] { run_experiment_file(*path, *o); });
}

}  // namespace bespoke::cli
