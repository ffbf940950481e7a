// bespoke demo [--config configs/demo.toml] [--out DIR] [--check]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "bespoke/pipeline/demo.h"
#include "bespoke/pipeline/run.h"
#include "commands.h"

namespace bespoke::cli {

void add_demo(CLI::App& app) {
  auto config = std::make_shared<std::string>("configs/demo.toml");
  auto o = std::make_shared<pipeline::RunOptions>();
  o->out = "demo-run";
  auto check = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "demo", "The plan in miniature: a parent pretrained here, cut to a 4x smaller student, recovered, gated, "
              "checked against lottery-ticket controls and exported to llama.cpp");
  cmd->add_option("--config", *config, "the demo's experiment file")->capture_default_str();
  cmd->add_option("--out", o->out, "run directory")->capture_default_str();
  cmd->add_flag("--check", *check, "exit 1 unless every check in the report holds");
  cmd->callback([config, o, check] {
    o->checks = pipeline::demo_checks;
    run_experiment_file(*config, *o);
    const pipeline::Json report = nlohmann::ordered_json::parse(std::ifstream(o->out + "/report.json"));
    const pipeline::Json& c = report["checks"];
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.2f", c["parent_over_student"].is_number() ? c["parent_over_student"].get<double>() : 0.0);
    std::cout << "demo      the parent has " << ratio << "x the student's parameters; gate " << c["gate_verdict"].dump()
              << "; " << c["a_vs_b"].get<std::string>() << "\n";
    std::string failed;
    if (!pipeline::demo_checks_hold(c, &failed)) {
      std::cerr << "bespoke: demo checks failed: " << failed << "\n";
      if (*check) throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace bespoke::cli
