// bespoke inspect MODEL_DIR [--json]
#include <iostream>
#include <memory>

#include "bespoke/io/hf_config.h"
#include "bespoke/model/describe.h"
#include "commands.h"

namespace bespoke::cli {

struct InspectOptions {
  std::string model;
  bool json = false;
};

void add_inspect(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a model's architecture and parameter count");
  cmd->add_option("MODEL_DIR", opt->model, "Hugging Face model directory")->required();
  cmd->add_flag("--json", opt->json, "print a JSON object instead of a table");
  cmd->callback([opt] {
    const model::ModelSpec spec = io::read_hf_config(opt->model);
    if (opt->json) std::cout << model::describe_json(spec).dump(2) << "\n";
    else std::cout << model::describe_table(spec);
  });
}

}  // namespace bespoke::cli
