// bespoke generate MODEL_DIR --ids IDS.safetensors --max-new N
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bespoke/model/generate.h"
#include "commands.h"
#include "common.h"

namespace bespoke::cli {

struct GenerateOptions {
  std::string model, ids, tensor = "input_ids";
  int64_t max_new = 16;
  RunOptions run;
};

void add_generate(CLI::App& app) {
  auto opt = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Greedy decoding; prints row 0's new ids as JSON");
  cmd->add_option("MODEL_DIR", opt->model, "model directory")->required();
  cmd->add_option("--ids", opt->ids, "safetensors file holding an int64 [batch, seq] prompt")->required();
  cmd->add_option("--tensor", opt->tensor, "name of the ids tensor")->capture_default_str();
  cmd->add_option("--max-new", opt->max_new, "tokens to generate")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_run_options(cmd, opt->run);
  cmd->callback([opt] {
    const model::LoadOptions load = load_options(opt->run);
    model::Transformer net = model::load_model(opt->model, load);
    const torch::Tensor ids = read_ids(opt->ids, opt->tensor, net->spec().input_vocab_size());
    torch::Tensor out = model::generate_greedy(net, ids.to(load.device), opt->max_new).to(torch::kCPU);
    const torch::Tensor row = out[0].contiguous();
    std::vector<int64_t> tokens(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
    std::cout << nlohmann::json(tokens).dump() << "\n";
  });
}

}  // namespace bespoke::cli
