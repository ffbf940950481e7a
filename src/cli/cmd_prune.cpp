// bespoke prune MODEL_DIR --method minitron|taylor|depth|random --target SPEC | --params N
//   [--importance DIR | --data FILE.jsonl [--samples N] [--seq-len L] [--batch B] [--skip-loss]]
//   [--non-uniform] [--contiguous]
//   [--seed S] [--candidates K] [--device D] [--dry-run] --out DIR
// bespoke prune MODEL_DIR --method M --targets 4B,2B | "2B;layers=2,ffn=256" --recover-tokens N
//   --data FILE.jsonl [--eval-data FILE.jsonl] [--lr LR] [--task-items K] [--max-new-tokens T] ... --out DIR
// bespoke prune MODEL_DIR --method slicegpt --target hidden=N --data FILE.jsonl [--device D] --out DIR
// bespoke prune MODEL_DIR --method l0 --target SPEC --data FILE.jsonl --steps N [--freeze-weights]
//   [--teacher self|DIR] [--init-from DIR] [--mask-lr R] [--lambda-lr R] [--mask-warmup F]
//   [the training engine's flags] [--run-dir DIR] --out DIR
#include <iostream>
#include <memory>
#include <optional>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/progressive.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/importance_io.h"
#include "bespoke/prune/method.h"
#include "bespoke/prune/one_shot.h"
#include "bespoke/prune/slicegpt.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "commands.h"
#include "prune_l0.h"

namespace bespoke::cli {

struct PruneOptions {
  std::string model, method, target, params, data, importance, out, device = "cpu";
  prune::CalibrationOptions calibration;
  prune::MethodOptions how;
  int64_t candidates = 6;
  bool skip_loss = false, dry_run = false;
  // progressive
  std::string targets, eval_data, prompt_template;
  int64_t recover_tokens = 0, task_items = 8, max_new_tokens = 512;
  double lr = 1e-4;
  L0Flags l0;  // --method l0's
};

namespace {

[[noreturn]] void bad(const std::string& why) {
  fail(ErrorKind::kInput, why);
}

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

// The rows of --data, packed as calibration rows of --seq-len.
std::vector<torch::Tensor> calibration(const PruneOptions& o, const model::ModelSpec& source) {
  const text::Encoder encoder(o.model);
  const std::vector<text::Example> examples = train::read_examples(o.data, encoder);
  train::check_token_ids(examples, source.input_vocab_size(), o.data);
  return prune::calibration_batches(examples, o.calibration, o.data);
}

// Every check that needs no weights loaded: the method's options, the target or budget, the
// weights' presence, an importance file's model and method, and the calibration data. Returns
// the calibration batches (none without --data), and the importance read from --importance.
std::vector<torch::Tensor> check_inputs(const PruneOptions& o, const model::ModelSpec& source,
                                        std::optional<prune::Target>& target, std::optional<prune::Importance>& imp) {
  if (o.target.empty() == o.params.empty()) bad("give one of --target SPEC or --params N");
  if (!o.params.empty() && o.dry_run) bad("--dry-run needs --target: a --params search measures losses");
  if (o.how.non_uniform && o.dry_run)
    bad("--dry-run with --non-uniform: importance sets the per-layer counts, within the count --dry-run prints "
        "without it");
  const bool ranks = prune::needs_importance(o.how.method);
  if (!o.params.empty() && o.data.empty() && !o.dry_run)
    bad("--params ranks shapes by calibration loss: give --data FILE.jsonl");
  if (ranks && o.data.empty() && o.importance.empty() && !o.dry_run)
    bad("--method " + o.method + " ranks units by importance: give --importance DIR or --data FILE.jsonl");
  if (!o.importance.empty() && !ranks) bad("--importance: --method " + o.method + " ranks nothing by importance");
  if (!o.importance.empty() && o.skip_loss)
    bad("--skip-loss is measured with --data; the importance file holds its own");
  if (!o.dry_run && o.out.empty()) bad("--out is required unless --dry-run");
  if (o.candidates < 1) bad("--candidates must be at least 1");
  if (!o.target.empty()) target = prune::parse_target(o.target);
  prune::check_method(source, o.how, target);
  if (!o.params.empty()) {
    const int64_t budget = prune::parse_param_count(o.params), floor = prune::embedding_params(source);
    if (budget < floor)
      bad("--params " + o.params + " is below the " + std::to_string(floor) +
          " parameters of the embeddings and output head alone");
  }
  io::Checkpoint weights(o.model);  // a directory without weights is refused here
  if (!o.importance.empty() && !o.dry_run) {
    imp = prune::read_importance(o.importance, source);
    if (o.how.method != prune::Method::kDepth && imp->method != o.method)
      bad("--importance " + o.importance + " holds " + imp->method + " scores, not " + o.method + " ones");
  }
  if (o.data.empty() || o.dry_run) return {};
  return calibration(o, source);
}

// --method l0: masks learned at the target on --data, then the cut.
void run_learned(PruneOptions& o) {
  if (o.target.empty()) bad("--method l0 learns masks at a shape: give --target SPEC");
  if (o.data.empty()) bad("--method l0 learns on data: give --data FILE.jsonl");
  if (o.out.empty()) bad("--out is required");
  if (!o.importance.empty()) bad("--method l0 starts its gates from importance with --init-from DIR");
  if (o.how.non_uniform || o.how.contiguous || o.dry_run || o.skip_loss)
    bad("--non-uniform, --contiguous, --skip-loss and --dry-run are for the one-shot methods");
  const model::ModelSpec source = model::read_hf_config(o.model);
  const prune::Target target = prune::parse_target(o.target);
  prune::check_target(source, target);
  io::Checkpoint weights(o.model);  // a directory without weights is refused here
  train::TrainConfig& cfg = o.l0.train.cfg;
  cfg.device = o.device;
  cfg.schedule.peak = o.lr;
  cfg.eval_data = o.eval_data;
  run_l0(o.l0, o.model, target, o.data, o.calibration.seq_len, o.calibration.batch, o.how.seed, o.out);
}

// --method slicegpt: the residual stream rotated by its principal directions on --data and cut
// to --target hidden=N (prune/slicegpt.h).
void run_sliced(PruneOptions& o) {
  refuse_l0_flags(o.l0, o.method);
  const auto only_hidden = [](const prune::Target& t) {
    return t.hidden && !t.layers && !t.heads && !t.kv_heads && !t.ffn && !t.attn_blocks && !t.mlp_blocks;
  };
  if (o.target.empty() || !only_hidden(prune::parse_target(o.target)))
    bad("--method slicegpt cuts the hidden size alone: give --target hidden=N");
  if (o.data.empty()) bad("--method slicegpt rotates by the calibration activations: give --data FILE.jsonl");
  if (o.out.empty()) bad("--out is required");
  if (!o.importance.empty() || o.how.non_uniform || o.how.contiguous || o.skip_loss || o.dry_run)
    bad("--importance, --non-uniform, --contiguous, --skip-loss and --dry-run are for the other methods");
  const model::ModelSpec source = model::read_hf_config(o.model);
  const prune::Target target = prune::parse_target(o.target);
  prune::check_target(source, target);
  prune::check_rotatable(source);
  io::Checkpoint weights(o.model);  // a directory without weights is refused here
  const std::vector<torch::Tensor> batches = calibration(o, source);
  model::Transformer net = model::load_model(o.model, {torch::kFloat32, torch::Device(o.device)});
  prune::SliceResult cut = prune::slice_gpt(net, batches, target.hidden);
  nlohmann::json line = plan(source, cut.model->spec());
  line["dropped_energy"] = cut.dropped_energy;
  line["untied"] = cut.untied;
  std::cout << line.dump() << "\n";
  model::export_hf(cut.model, o.model, o.out);
}

void run(PruneOptions o) {
  if (o.method == "l0") return run_learned(o);
  if (o.method == "slicegpt") return run_sliced(o);
  refuse_l0_flags(o.l0, o.method);
  o.how.method = prune::method_names().parse(o.method);
  const model::ModelSpec source = model::read_hf_config(o.model);
  std::optional<prune::Target> target;
  std::optional<prune::Importance> imp;
  const std::vector<torch::Tensor> batches = check_inputs(o, source, target, imp);
  if (o.dry_run) {  // sizes fix the count where layers are alike, whichever units stay
    std::cout << plan(source, prune::selected_spec(source, prune::random_selection(source, *target, 0))).dump() << "\n";
    return;
  }
  model::Transformer net = model::load_model(o.model, {torch::kFloat32, torch::Device(o.device)});
  const prune::Goal goal = {target, target ? 0 : prune::parse_param_count(o.params)};
  prune::OneShot cut =
      prune::prune_once(net, {o.how, {o.skip_loss}, o.candidates}, goal, batches, imp ? &*imp : nullptr);
  if (!cut.shapes.empty()) std::cout << prune::shape_table(cut.shapes, model::parameter_count(source));
  std::cout << plan(source, prune::selected_spec(source, cut.selection)).dump() << "\n";
  model::export_hf(cut.model, o.model, o.out);
}

// Every check of a progressive run that needs no weights loaded; returns its rounds' targets.
std::vector<pipeline::RoundTarget> check_progressive(const PruneOptions& o, const model::ModelSpec& source) {
  if (!o.target.empty() || !o.params.empty())
    bad("--targets gives every round's target: not with --target or --params");
  if (o.recover_tokens < 1) bad("--targets recovers each round by distillation: give --recover-tokens N (per round)");
  if (o.data.empty()) bad("--targets calibrates and recovers on --data FILE.jsonl: give it");
  if (!o.importance.empty())
    bad("--importance scores the source alone: --targets measures each round's model on --data");
  if (o.dry_run) bad("--dry-run prints one cut's sizes: not with --targets");
  if (o.out.empty()) bad("--out is required");
  if (o.candidates < 1) bad("--candidates must be at least 1");
  if (o.task_items < 1 || o.max_new_tokens < 1) bad("--task-items and --max-new-tokens must be at least 1");
  const std::vector<pipeline::RoundTarget> targets = pipeline::parse_round_targets(o.targets);
  prune::check_method(source, o.how, std::nullopt);
  pipeline::check_round_targets(source, o.how, targets);
  io::Checkpoint weights(o.model);  // a directory without weights is refused here
  return targets;
}

void run_rounds(PruneOptions o) {
  const bool learned = o.method == "l0";  // the checks below then take the random method's rules
  if (!learned) {
    refuse_l0_flags(o.l0, o.method);
    o.how.method = prune::method_names().parse(o.method);
  }
  pipeline::ProgressiveConfig c;
  c.targets = check_progressive(o, model::read_hf_config(o.model));
  c.source = o.model, c.data = o.data, c.eval_data = o.eval_data, c.out = o.out, c.method = o.method;
  c.recover_tokens = o.recover_tokens, c.seq_len = o.calibration.seq_len, c.batch = o.calibration.batch;
  c.lr = o.lr, c.seed = o.how.seed, c.device = o.device;
  c.task_items = o.task_items, c.task_max_new_tokens = o.max_new_tokens, c.prompt_template = o.prompt_template;
  pipeline::RoundPrune cut;
  if (learned) {
    TrainFlags& engine = o.l0.train;
    finish_engine_flags(engine);
    engine.cfg.device = o.device;
    engine.cfg.schedule.peak = o.lr;
    cut = l0_round(o.l0, o.calibration.seq_len, o.calibration.batch, o.how.seed);
  } else {
    cut = pipeline::one_shot_round({o.how, {o.skip_loss}, o.candidates}, o.calibration, o.device);
  }
  const pipeline::Json quality = pipeline::run_progressive(c, cut);
  std::cout << pipeline::quality_table(quality);
}

}  // namespace

void add_prune(CLI::App& app) {
  auto opt = std::make_shared<PruneOptions>();
  CLI::App* cmd = app.add_subcommand("prune", "Cut a model to a target shape and write it as a model directory");
  cmd->add_option("MODEL_DIR", opt->model, "Hugging Face model directory")->required();
  cmd->add_option("--method", opt->method,
                  "how units are chosen: " + prune::method_names().choices() + ", l0, slicegpt")
      ->required();
  cmd->add_option("--target", opt->target, "sizes, e.g. layers=20,heads=16,kv_heads=4,ffn=5504");
  cmd->add_option("--params", opt->params, "a parameter budget (1.5B, 800M, 123456789): search uniform shapes");
  cmd->add_option("--importance", opt->importance, "an importance directory (bespoke importance) to rank by");
  cmd->add_option("--data", opt->data, "calibration JSONL for importance and the shape search's losses");
  cmd->add_flag("--skip-loss", opt->skip_loss,
                "depth: rank layers by the loss increase when skipped (a forward per layer)");
  cmd->add_option("--samples", opt->calibration.samples, "calibration rows (0: all the data fills)");
  cmd->add_option("--seq-len", opt->calibration.seq_len, "tokens per calibration row")->capture_default_str();
  cmd->add_option("--batch", opt->calibration.batch, "calibration rows per forward")->capture_default_str();
  cmd->add_flag("--non-uniform", opt->how.non_uniform, "per-layer head and FFN counts under the target's budget");
  cmd->add_flag("--contiguous", opt->how.contiguous, "drop one block of consecutive layers");
  cmd->add_option("--seed", opt->how.seed, "seed of the random method");
  cmd->add_option("--candidates", opt->candidates, "shapes the search scores")->capture_default_str();
  cmd->add_flag("--dry-run", opt->dry_run, "print the cut's sizes and stop");
  cmd->add_option("--device", opt->device, "where the model runs: cpu, cuda, cuda:N")->capture_default_str();
  cmd->add_option("--out", opt->out, "output model directory (with --targets: the run's directory)");
  cmd->add_option("--targets", opt->targets,
                  "progressive rounds, each cut from the one before: budgets 4B,2B,1.5B, or ';' between items "
                  "when shapes are among them (\"2B;layers=2,ffn=256\")");
  // Options of progressive runs alone: refused without --targets.
  const std::vector<CLI::Option*> progressive = {
      cmd->add_option("--recover-tokens", opt->recover_tokens,
                      "with --targets: tokens of distillation from the round before, per round"),
      cmd->add_option("--eval-data", opt->eval_data,
                      "with --targets: held-out JSONL (default: every 10th --data record); l0: as train's"),
      cmd->add_option("--lr", opt->lr, "with --targets: the recovery's peak learning rate; l0: the weights'")
          ->capture_default_str(),
      cmd->add_option("--task-items", opt->task_items, "with --targets: encoding-task items evaluated per model")
          ->capture_default_str(),
      cmd->add_option("--max-new-tokens", opt->max_new_tokens, "with --targets: per encoding-task answer")
          ->capture_default_str(),
      cmd->add_option("--prompt-template", opt->prompt_template,
                      "with --targets: the encoding records' prompt wording (default: the built-in)")};
  // --device, --lr and --eval-data are prune's own: mask learning takes them from there.
  add_l0_flags(cmd, opt->l0, {"--device", "--lr", "--eval-data"});
  cmd->callback([opt, progressive] {
    if (!opt->targets.empty()) return run_rounds(*opt);
    const bool learned = opt->method == "l0";
    for (const CLI::Option* p : progressive)
      if (p->count() > 0 && !(learned && (p->get_name() == "--lr" || p->get_name() == "--eval-data")))
        bad(p->get_name() + " is an option of progressive runs: give --targets");
    run(*opt);
  });
}

}  // namespace bespoke::cli
