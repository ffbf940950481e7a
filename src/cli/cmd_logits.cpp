// bespoke logits MODEL_DIR --ids IDS.safetensors [--tensor input_ids] --out OUT.safetensors
#include <memory>

#include "bespoke/io/safetensors.h"
#include "commands.h"
#include "common.h"

namespace bespoke::cli {

struct LogitsOptions {
  std::string model, ids, tensor = "input_ids", out;
  RunOptions run;
};

void add_logits(CLI::App& app) {
  auto opt = std::make_shared<LogitsOptions>();
  CLI::App* cmd = app.add_subcommand("logits", "Write the model's logits for a batch of token ids");
  cmd->add_option("MODEL_DIR", opt->model, "model directory")->required();
  cmd->add_option("--ids", opt->ids, "safetensors file holding an int64 [batch, seq] tensor")->required();
  cmd->add_option("--tensor", opt->tensor, "name of the ids tensor")->capture_default_str();
  cmd->add_option("--out", opt->out, "output safetensors file (F32 tensor 'logits')")->required();
  add_run_options(cmd, opt->run);
  cmd->callback([opt] {
    const model::LoadOptions load = load_options(opt->run);
    model::Transformer net = model::load_model(opt->model, load);
    const torch::Tensor ids = read_ids(opt->ids, opt->tensor, net->spec().input_vocab_size());
    torch::NoGradGuard no_grad;
    torch::Tensor logits = net->forward(ids.to(load.device)).logits.to(torch::kCPU, torch::kFloat32);
    io::write_safetensors(opt->out, {{"logits", logits}});
  });
}

}  // namespace bespoke::cli
