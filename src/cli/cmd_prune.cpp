// bespoke prune MODEL_DIR --method random --target SPEC [--seed N] [--dry-run] --out DIR
#include <iostream>
#include <memory>

#include "bespoke/core/error.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/target.h"
#include "commands.h"

namespace bespoke::cli {

struct PruneOptions {
  std::string model, method, target, out;
  uint64_t seed = 0;
  bool dry_run = false;
};

namespace {

// The cut's sizes before any work: parameters (embeddings included), their share of the
// source's, and the KV cache's bytes per token at F16.
nlohmann::json plan(const model::ModelSpec& source, const model::ModelSpec& cut) {
  int64_t kv_bytes = 0;
  for (const model::LayerSpec& l : cut.layers)
    if (l.kv_source < 0) kv_bytes += 2 * l.n_kv_heads * l.head_dim * 2;
  const int64_t params = model::parameter_count(cut);
  return {{"params", params},
          {"source_params", model::parameter_count(source)},
          {"share", double(params) / double(model::parameter_count(source))},
          {"kv_cache_bytes_per_token_f16", kv_bytes},
          {"layers", cut.n_layers()}};
}

void run(const PruneOptions& o) {
  if (o.method != "random") fail(ErrorKind::kUnsupported, "--method " + o.method + ": only random is built yet");
  const model::ModelSpec source = model::read_hf_config(o.model);
  const prune::Selection selection = prune::random_selection(source, prune::parse_target(o.target), o.seed);
  const model::ModelSpec cut = prune::selected_spec(source, selection);
  std::cout << plan(source, cut).dump() << "\n";
  if (o.dry_run) return;
  if (o.out.empty()) fail(ErrorKind::kInput, "--out is required unless --dry-run");
  model::Transformer net = model::load_model(o.model);
  model::Transformer small = prune::extract(net, selection);
  model::export_hf(small, o.model, o.out);
}

}  // namespace

void add_prune(CLI::App& app) {
  auto opt = std::make_shared<PruneOptions>();
  CLI::App* cmd = app.add_subcommand("prune", "Cut a model to a target shape and write it as a model directory");
  cmd->add_option("MODEL_DIR", opt->model, "Hugging Face model directory")->required();
  cmd->add_option("--method", opt->method, "how units are chosen: random (seeded, the control)")->required();
  cmd->add_option("--target", opt->target, "sizes, e.g. layers=20,heads=16,kv_heads=4,ffn=5504")->required();
  cmd->add_option("--seed", opt->seed, "seed of the random method");
  cmd->add_flag("--dry-run", opt->dry_run, "print the cut's sizes and stop");
  cmd->add_option("--out", opt->out, "output model directory");
  cmd->callback([opt] { run(*opt); });
}

}  // namespace bespoke::cli
