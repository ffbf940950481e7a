// bespoke importance MODEL_DIR --data FILE.jsonl [--samples N] [--seq-len L] [--batch B]
//   [--device D] [--dtype T] [--taylor] [--skip-loss] --out DIR
#include <iostream>
#include <memory>

#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/importance_io.h"
#include "bespoke/prune/importance_report.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "commands.h"
#include "common.h"

namespace bespoke::cli {

struct ImportanceCliOptions {
  std::string model, data, out;
  prune::CalibrationOptions calibration;
  prune::ImportanceOptions importance;
  bool taylor = false;
  RunOptions run;
};

namespace {

void run(const ImportanceCliOptions& o) {
  // Everything that can be refused is checked before the model is loaded.
  const model::LoadOptions load = load_options(o.run);
  const model::ModelSpec spec = model::read_hf_config(o.model);
  io::Checkpoint(o.model);  // a directory without weights fails here
  const text::Encoder encoder(o.model);
  const std::vector<text::Example> examples = train::read_examples(o.data, encoder);
  train::check_token_ids(examples, spec.input_vocab_size(), o.data);
  const std::vector<torch::Tensor> batches = prune::calibration_batches(examples, o.calibration, o.data);

  model::Transformer net = model::load_model(o.model, load);
  const prune::Importance imp = o.taylor ? prune::taylor_importance(net, batches, o.importance)
                                         : prune::activation_importance(net, batches, o.importance);
  prune::write_importance(o.out, imp, spec);
  prune::write_importance_html(o.out, imp, spec);
  std::cout << nlohmann::json{{"method", imp.method}, {"tokens", imp.tokens}, {"out", o.out}}.dump() << "\n";
}

}  // namespace

void add_importance(CLI::App& app) {
  auto opt = std::make_shared<ImportanceCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "importance", "Measure the importance of every layer, head, KV group, FFN neuron and hidden channel");
  cmd->add_option("MODEL_DIR", opt->model, "model directory")->required();
  cmd->add_option("--data", opt->data, "calibration JSONL (text, ids, chat or prompt/completion records)")->required();
  cmd->add_option("--samples", opt->calibration.samples, "rows of --seq-len tokens; 0: all the data fills")
      ->capture_default_str();
  cmd->add_option("--seq-len", opt->calibration.seq_len, "tokens per row")->capture_default_str();
  cmd->add_option("--batch", opt->calibration.batch, "rows per forward")->capture_default_str();
  cmd->add_flag("--taylor", opt->taylor, "first-order Taylor scores (a backward per batch) instead of Minitron's");
  cmd->add_flag("--skip-loss", opt->importance.skip_loss,
                "also the loss increase when each layer is skipped (n_layers + 1 more forwards per batch)");
  cmd->add_option("--out", opt->out, "directory for importance.safetensors, .json and .html")->required();
  add_run_options(cmd, opt->run);
  cmd->callback([opt] { run(*opt); });
}

}  // namespace bespoke::cli
