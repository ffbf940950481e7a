#include "bespoke/pipeline/run.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/budget.h"
#include "bespoke/pipeline/domains.h"
#include "bespoke/pipeline/gguf_check.h"
#include "bespoke/pipeline/l0.h"
#include "bespoke/pipeline/lottery.h"
#include "bespoke/pipeline/progressive.h"
#include "bespoke/pipeline/report_html.h"
#include "bespoke/pipeline/scratch.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/importance_io.h"
#include "bespoke/prune/importance_report.h"
#include "bespoke/prune/one_shot.h"
#include "bespoke/prune/shape_search.h"
#include "bespoke/task/encoding/dataset.h"
#include "bespoke/task/encoding/evaluate.h"
#include "bespoke/task/encoding/gate.h"
#include "bespoke/task/encoding/respond.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "bespoke/train/evaluate.h"
#include "bespoke/train/trainer.h"
#include "bespoke/pipeline/stage.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;
namespace enc = task::encoding;

void log(const std::string& line) {
  std::cerr << "[run] " << line << "\n";
}

int64_t tokens_per_step(const Experiment& e) {
  return e.run.batch * e.run.seq_len;
}

int64_t lottery_steps(const Experiment& e) {
  return e.lottery.steps > 0 ? e.lottery.steps : e.recover.steps;
}

model::LoadOptions load_options(const Experiment& e) {
  return {torch::kFloat32, torch::Device(e.run.device)};
}

// The engine's settings every training stage shares.
train::TrainConfig base_train(const Experiment& e, const RunOptions& o) {
  train::TrainConfig t;
  t.seq_len = e.run.seq_len;
  t.batch = e.run.batch;
  t.micro_batch = e.run.micro_batch;
  t.seed = e.run.seed;
  t.device = e.run.device;
  t.bf16 = e.run.bf16;
  t.checkpoint_layers = e.run.checkpoint_layers;
  t.progress = o.progress;
  t.keep = 1;
  return t;
}

// Settings whose change reruns a training stage: what it learns from and how.
Json train_key(const train::TrainConfig& t) {
  return {{"steps", t.steps},         {"seq_len", t.seq_len},     {"batch", t.batch},
          {"micro_batch", t.micro_batch}, {"lr", t.schedule.peak}, {"warmup", t.schedule.warmup},
          {"seed", t.seed},           {"teacher", !t.teacher.empty()}, {"kd_weight", t.kd_weight},
          {"domains", t.domains},     {"weights", t.domain_weights},  {"mix_every", t.mix_every},
          {"bf16", t.bf16}};
}

Json read_curve(const fs::path& metrics, const char* key) {
  Json curve = Json::array();
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("step") && j.contains(key) && j[key].is_number())
      curve.push_back({j["step"], j[key]});
  }
  return curve;
}

// Trains in `dir` (resuming its checkpoint) within what the ledger leaves; at the deadline or a
// signal the checkpoint is kept and the run stops with what to do next.
Json train_in_stage(train::TrainConfig t, const std::string& dir, const std::string& stage, const Ledger& ledger,
                    const std::atomic<bool>& stop) {
  t.out = dir;
  t.resume = !train::latest_checkpoint(dir).empty();
  if (t.resume) log(stage + ": resuming training from " + train::latest_checkpoint(dir));
  train::TrainResult r;
  bool expired = false;
  {
    Deadline deadline(ledger.seconds_left(), stop);
    r = train::train(t, deadline.stop());
    expired = deadline.expired();
  }
  if (r.interrupted)
    fail(ErrorKind::kInput, "stage " + stage + " stopped at step " + std::to_string(r.steps) + " (checkpointed): " +
                                (expired ? "the budget is spent; raise [budget] cost_cap or minutes and run the same "
                                           "command again to resume"
                                         : "interrupted; run the same command again to resume"));
  return {{"outputs", {{"final", dir + "/final"}}},
          {"metrics",
           {{"first_step", r.first_step},
            {"steps", r.steps},
            {"tokens", r.tokens},
            {"first_loss", r.first_loss},
            {"final_loss", r.final_loss},
            {"curve", read_curve(fs::path(dir) / "metrics.jsonl", "loss")},
            {"eval_curve", read_curve(fs::path(dir) / "metrics.jsonl", "eval_loss")}}}};
}

double heldout_loss(const std::string& model_dir, const std::string& data, const Experiment& e) {
  model::Transformer net = model::load_model(model_dir, load_options(e));
  const std::vector<text::Example> examples = train::read_examples(data, text::Encoder(model_dir));
  std::vector<int64_t> rows(examples.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  return train::mean_loss(net, examples, rows, e.run.seq_len, e.run.batch);
}

std::vector<torch::Tensor> calibration(const std::string& model_dir, const std::string& data, const Experiment& e) {
  const std::vector<text::Example> examples = train::read_examples(data, text::Encoder(model_dir));
  return prune::calibration_batches(examples, {e.importance.samples, e.run.seq_len, e.run.batch}, data);
}

Json importance_stage(const Experiment& e, const std::string& base, const std::string& task, const std::string& dir) {
  model::Transformer net = model::load_model(base, load_options(e));
  const std::vector<torch::Tensor> batches = calibration(base, task, e);
  const prune::Importance imp = e.prune.method == "taylor" ? prune::taylor_importance(net, batches)
                                                           : prune::activation_importance(net, batches);
  prune::write_importance(dir, imp, net->spec());
  prune::write_importance_html(dir, imp, net->spec());
  return {{"outputs", {{"importance", dir}, {"html", dir + "/importance.html"}}}, {"metrics", {{"tokens", imp.tokens}}}};
}

// The quality-versus-size table of a single cut: the base and the cut, by held-out task loss
// (the cut's recovered loss is added by the recovery stage's report).
Json single_cut_quality(const Experiment& e, const std::string& base, const std::string& pruned,
                        const std::string& eval) {
  const auto params = [](const std::string& dir) { return model::parameter_count(model::read_hf_config(dir)); };
  const double base_params = static_cast<double>(params(base));
  return {{"method", e.prune.method},
          {"rows",
           {{{"round", 0}, {"target", nullptr}, {"model", base}, {"params", params(base)}, {"share", 1.0},
             {"loss_pruned", nullptr}, {"loss", heldout_loss(base, eval, e)}},
            {{"round", 1},
             {"target", e.prune.target.empty() ? e.prune.params : e.prune.target},
             {"model", pruned},
             {"params", params(pruned)},
             {"share", static_cast<double>(params(pruned)) / base_params},
             {"loss_pruned", heldout_loss(pruned, eval, e)},
             {"loss", nullptr}}}}};
}

Json prune_stage(const Experiment& e, const RunOptions& o, const std::string& base, const Json& data,
                 const std::string& importance, const std::string& dir, const Ledger& ledger,
                 const std::atomic<bool>& stop) {
  const std::string task = data["outputs"]["task"], eval = data["outputs"]["eval"];
  const std::string out = dir + "/pruned";
  if (!e.prune.targets.empty()) {
    ProgressiveConfig p;
    p.source = base;
    p.data = task;
    p.eval_data = eval;
    p.out = dir + "/progressive";
    p.targets = parse_round_targets(e.prune.targets);
    p.method = e.prune.method;
    p.recover_tokens = e.prune.round_steps * tokens_per_step(e);
    p.seq_len = e.run.seq_len;
    p.batch = e.run.batch;
    p.lr = e.recover.lr;
    p.seed = e.run.seed;
    p.device = e.run.device;
    p.task_items = 0;
    p.prompt_template = e.data.prompt_template;
    prune::OneShotOptions how;
    how.how.method = prune::method_names().parse(e.prune.method);
    how.how.seed = e.run.seed;
    const Json quality =
        run_progressive(p, one_shot_round(how, {e.importance.samples, e.run.seq_len, e.run.batch}, e.run.device));
    const std::string last = quality["rows"].back()["model"];
    copy_model_files(last, out);
    fs::copy_file(fs::path(last) / "model.safetensors", fs::path(out) / "model.safetensors",
                  fs::copy_options::overwrite_existing);
    return {{"outputs", {{"pruned", out}}}, {"metrics", {{"quality", quality}}}};
  }
  if (e.prune.method == "l0") {
    L0Options l0;
    l0.train = base_train(e, o);
    l0.train.model = base;
    l0.train.data = task;
    l0.train.steps = e.prune.steps;
    l0.train.schedule.peak = e.recover.lr;
    l0.train.schedule.warmup = e.recover.warmup;
    l0.train.teacher = "self";
    l0.train.out = dir + "/run";
    l0.train.save_every = std::max<int64_t>(e.prune.steps / 5, 1);
    l0.train.resume = !train::latest_checkpoint(l0.train.out).empty();
    l0.target = prune::parse_target(e.prune.target);
    l0.freeze_weights = e.prune.freeze_weights;
    l0.mask_lr = e.prune.mask_lr;
    l0.lambda_lr = e.prune.lambda_lr;
    l0.init_from = importance;
    l0.seed = e.run.seed;
    L0Result r;
    bool expired = false;
    {
      Deadline deadline(ledger.seconds_left(), stop);
      r = learn_masks(l0, deadline.stop());
      expired = deadline.expired();
    }
    if (r.run.interrupted)
      fail(ErrorKind::kInput, std::string("stage prune stopped (checkpointed): ") +
                                  (expired ? "the budget is spent; raise the cap and run again to resume"
                                           : "interrupted; run the same command again to resume"));
    model::Transformer small = cut_learned(r.run.model, r.binarised);
    model::export_hf(small, base, out);
  } else {
    model::Transformer net = model::load_model(base, load_options(e));
    prune::OneShotOptions how;
    how.how.method = prune::method_names().parse(e.prune.method);
    how.how.seed = e.run.seed;
    prune::Goal goal;
    if (!e.prune.target.empty())
      goal.shape = prune::parse_target(e.prune.target);
    else
      goal.budget = prune::parse_param_count(e.prune.params);
    const prune::Importance imp = prune::read_importance(importance, net->spec());
    const std::vector<torch::Tensor> batches = goal.shape ? std::vector<torch::Tensor>{} : calibration(base, task, e);
    prune::OneShot cut = prune::prune_once(net, how, goal, batches, &imp);
    if (!cut.shapes.empty()) log("shape search:\n" + prune::shape_table(cut.shapes, model::parameter_count(net->spec())));
    model::export_hf(cut.model, base, out);
  }
  return {{"outputs", {{"pruned", out}}}, {"metrics", {{"quality", single_cut_quality(e, base, out, eval)}}}};
}

// The gate's baseline report: given, or measured on the same items as the candidate.
Json baseline_report(const Experiment& e, const std::vector<enc::Item>& items, const enc::EvalOptions& options,
                     const std::string& finetuned) {
  if (!e.gate.baseline_report.empty()) return read_json(e.gate.baseline_report);
  if (!e.gate.baseline_server.empty()) {
    enc::ServerOptions server;
    server.url = e.gate.baseline_server;
    server.max_tokens = e.gate.max_new_tokens;
    return enc::evaluate(items, enc::server_responder(server), options);
  }
  const std::string model = e.gate.baseline_model.empty() ? finetuned : e.gate.baseline_model;
  return enc::evaluate(items, enc::local_responder({model, e.gate.max_new_tokens, true, load_options(e)}), options);
}

Json gate_stage(const Experiment& e, const std::string& candidate, const std::string& finetuned,
                const std::string& eval, const std::string& dir) {
  std::vector<enc::Item> items = enc::load_items(eval);
  if (static_cast<int64_t>(items.size()) > e.gate.items) items.resize(e.gate.items);
  enc::EvalOptions options;
  if (!e.data.prompt_template.empty()) options.prompt = enc::PromptTemplate::from_file(e.data.prompt_template);
  options.stress = false;
  log("gate: the pruned model on " + std::to_string(items.size()) + " items, under the grammar");
  const Json cand =
      enc::evaluate(items, enc::local_responder({candidate, e.gate.max_new_tokens, true, load_options(e)}), options);
  log("gate: the baseline");
  const Json base = baseline_report(e, items, options, finetuned);
  write_json(fs::path(dir) / "candidate.json", cand);
  write_json(fs::path(dir) / "baseline.json", base);
  const enc::GateResult g = enc::gate(cand, base, {static_cast<int>(e.gate.max_worse), e.gate.hard_targets});
  const bool go = g.go;
  Json rows = Json::array();
  for (const enc::GateRow& r : g.rows)
    rows.push_back({{"metric", r.metric},
                    {"candidate", r.candidate ? Json(*r.candidate) : Json()},
                    {"baseline", r.baseline ? Json(*r.baseline) : Json()},
                    {"higher_is_better", r.higher_is_better},
                    {"worse", r.worse}});
  return {{"outputs", {{"candidate", dir + "/candidate.json"}, {"baseline", dir + "/baseline.json"}}},
          {"metrics",
           {{"verdict", go ? "go" : "no-go"},
            {"worse", g.worse},
            {"max_worse", e.gate.max_worse},
            {"hard_targets", e.gate.hard_targets},
            {"hard_failures", g.hard_failures},
            {"table", rows},
            {"text", enc::gate_table(g)},
            {"baseline_from", !e.gate.baseline_report.empty()   ? "report " + e.gate.baseline_report
                              : !e.gate.baseline_server.empty() ? "server " + e.gate.baseline_server
                              : !e.gate.baseline_model.empty()  ? "model " + e.gate.baseline_model
                                                                : std::string("the fine-tuned base")}}}};
}

Json lottery_stage(const Experiment& e, const RunOptions& o, const std::string& finetuned, const std::string& pruned,
                   const Json& data, const std::string& dir, const Ledger& ledger, const std::atomic<bool>& stop) {
  LotteryConfig l;
  l.source = finetuned;
  l.pruned = pruned;
  l.data = data["outputs"]["train"];
  l.eval_data = data["outputs"]["eval"];
  l.train = base_train(e, o);
  l.train.teacher = finetuned;
  l.train.kd_weight = e.recover.kd_weight;
  l.train.steps = lottery_steps(e);
  l.train.schedule.warmup = e.recover.warmup;
  l.train.save_every = std::max<int64_t>(l.train.steps / 4, 1);
  if (!e.data.domains.empty()) {
    l.train.domains = domain_names(e.data);
    l.train.domain_weights = domain_weights(e.data);
  }
  l.lrs = e.lottery.lrs.empty() ? std::vector<double>{e.recover.lr} : e.lottery.lrs;
  l.sweep_steps = e.lottery.sweep_steps;
  l.seeds = e.lottery.seeds;
  l.eval_points = e.lottery.eval_points;
  l.max_multiple = e.lottery.max_multiple;
  l.task_items = e.lottery.task_items;
  l.max_new_tokens = e.gate.max_new_tokens;
  l.prompt_template = e.data.prompt_template;
  l.out = dir;
  Json result;
  Deadline deadline(ledger.seconds_left(), stop);
  try {
    result = run_lottery(l, deadline.stop());
  } catch (const Error&) {
    if (deadline.expired())
      fail(ErrorKind::kInput, "stage lottery stopped (checkpointed): the budget is spent; raise [budget] cost_cap or "
                              "minutes and run the same command again to resume");
    throw;
  }
  return {{"outputs", {{"lottery", dir + "/lottery.json"}}}, {"metrics", result}};
}

Json export_stage(const Experiment& e, const std::string& base, const std::string& pruned, const std::string& eval,
                  const std::string& dir) {
  GgufCheck c;
  c.types = e.exporting.types;
  c.interop = e.exporting.interop;
  c.prompt_data = eval;
  c.model = base;
  c.prefix = dir + "/base";
  log("export: the base");
  const Json base_files = check_gguf(c);
  c.model = pruned;
  c.prefix = dir + "/pruned";
  log("export: the pruned model");
  const Json pruned_files = check_gguf(c);
  // The decode speed-up of the pruned file over the base's, per type, in llama.cpp.
  Json speedup = Json::object();
  for (size_t i = 0; i < base_files["files"].size(); ++i) {
    const Json &b = base_files["files"][i], &p = pruned_files["files"][i];
    if (b.contains("tokens_per_s") && p.contains("tokens_per_s"))
      speedup[b["type"].get<std::string>()] = p["tokens_per_s"].get<double>() / b["tokens_per_s"].get<double>();
  }
  Json gguf = Json::array();
  for (const Json& f : pruned_files["files"]) gguf.push_back(f["path"]);
  return {{"outputs", {{"gguf", gguf}}},
          {"metrics",
           {{"gguf", gguf},
            {"llama_cpp_ok", base_files["llama_cpp_ok"].get<bool>() && pruned_files["llama_cpp_ok"].get<bool>()},
            {"base", base_files},
            {"pruned", pruned_files},
            {"speedup", speedup}}}};
}

// The candidate the plan continues with: the configured one, else the best-ranked one Bespoke
// can prune.
const Json& chosen(const Json& feasibility, const std::string& base) {
  for (const Json& c : feasibility["candidates"])
    if (base.empty() ? c["supported"].get<bool>() : c["name"] == base) return c;
  fail(ErrorKind::kUnsupported, base.empty() ? "no candidate can be pruned by Bespoke: see the Phase 0 table"
                                             : "run.base: " + base + " is not in the Phase 0 table");
}

// Refuses, before any work, a plan whose caps it exceeds.
void check_plan(const Experiment& e, const Json& plan, const RunOptions& o) {
  const Json& c = chosen(plan, e.run.base);
  if (!c["supported"].get<bool>())
    fail(ErrorKind::kUnsupported, e.path + ": run.base: " + c["name"].get<std::string>() +
                                      " cannot be pruned by Bespoke: " + c.value("reason", std::string("?")));
  int64_t tokens = 0, steps = 0;
  for (const PhasePlan& p : plan_config(e, "").phases)
    if (p.backward) {
      tokens += p.tokens;
      steps += p.tokens / tokens_per_step(e);
    }
  if (e.budget.tokens > 0 && tokens > e.budget.tokens)
    fail(ErrorKind::kInput, e.path + ": budget.tokens: the plan trains " + std::to_string(tokens) +
                                " tokens, more than " + std::to_string(e.budget.tokens));
  if (e.budget.steps > 0 && steps > e.budget.steps)
    fail(ErrorKind::kInput, e.path + ": budget.steps: the plan trains " + std::to_string(steps) +
                                " steps, more than " + std::to_string(e.budget.steps));
  const double cost = c["total_cost"].get<double>();
  if (e.budget.cost_cap > 0 && cost > e.budget.cost_cap && !o.over_budget) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s: budget.cost_cap: the plan's estimate for %s is %.2f (%.2f device-hours at %.2f), over the cap "
                  "of %.2f; shorten the plan or pass --over-budget",
                  e.path.c_str(), c["name"].get<std::string>().c_str(), cost, c["total_hours"].get<double>(),
                  e.budget.price_per_gpu_hour, e.budget.cost_cap);
    fail(ErrorKind::kInput, line);
  }
}

Json stage_row(const Json& manifest) {
  return {{"name", manifest["stage"]},
          {"status", manifest.value("skipped", false) ? "skipped (done before)" : "done"},
          {"seconds", manifest["seconds"]}};
}

}  // namespace

FeasibilityConfig plan_config(const Experiment& e, const std::string& plan_dir) {
  FeasibilityConfig f;
  for (const Candidate& c : e.candidates) {
    std::string dir = c.model;
    if (c.scratch) {
      dir = (fs::path(plan_dir) / c.name).string();
      if (!plan_dir.empty()) {
        fs::create_directories(dir);
        const nlohmann::json base = read_json(e.scratch.tokenizer + "/config.json");
        write_json(dir + "/config.json", scratch_config(e.scratch, base, e.run.seq_len));
      }
    }
    f.candidates.emplace_back(c.name, dir);
  }
  f.target = !e.prune.target.empty() ? e.prune.target : !e.prune.params.empty() ? e.prune.params : "";
  if (f.target.empty()) f.target = parse_round_targets(e.prune.targets).back().text;
  const int64_t tps = tokens_per_step(e);
  const auto phase = [&](const std::string& name, int64_t tokens, bool backward, bool on_target, bool teacher) {
    PhasePlan p;
    p.name = name;
    p.tokens = tokens;
    p.backward = backward;
    p.on_target = on_target;
    p.teacher = teacher;
    p.batch = e.run.batch;
    p.micro_batch = e.run.micro_batch;
    p.seq_len = e.run.seq_len;
    p.checkpoint_layers = e.run.checkpoint_layers;
    return p;
  };
  bool scratch = false;
  for (const Candidate& c : e.candidates) scratch = scratch || c.scratch;
  if (scratch) f.phases.push_back(phase("pretrain", e.scratch.steps * tps, true, false, false));
  if (e.finetune.steps > 0) f.phases.push_back(phase("finetune", e.finetune.steps * tps, true, false, false));
  f.phases.push_back(phase("importance", e.importance.samples * e.run.seq_len, e.prune.method == "taylor", false, false));
  if (e.prune.method == "l0") {
    PhasePlan p = phase("prune", e.prune.steps * tps, true, false, !e.prune.freeze_weights);
    p.frozen_weights = e.prune.freeze_weights;
    f.phases.push_back(p);
  } else if (!e.prune.targets.empty()) {
    const int64_t rounds = static_cast<int64_t>(parse_round_targets(e.prune.targets).size());
    f.phases.push_back(phase("prune", rounds * e.prune.round_steps * tps, true, true, true));
  }
  f.phases.push_back(phase("recover", e.recover.steps * tps, true, true, true));
  if (e.lottery.enabled) {
    // Four arms at every seed, the sweep's runs, and B's extension to k times A's tokens (one seed).
    const int64_t seeds = static_cast<int64_t>(e.lottery.seeds.size());
    const int64_t lrs = std::max<int64_t>(1, static_cast<int64_t>(e.lottery.lrs.size()));
    const int64_t steps = lottery_steps(e);
    const int64_t sweep = lrs > 1 ? 4 * lrs * (e.lottery.sweep_steps > 0 ? e.lottery.sweep_steps : steps / 4) : 0;
    // B's extension is a run of its own, with its own schedule over k times the steps.
    const double extension = e.lottery.max_multiple > 1 ? e.lottery.max_multiple * static_cast<double>(steps) : 0;
    f.phases.push_back(phase(
        "lottery", (4 * seeds * steps + sweep + static_cast<int64_t>(extension)) * tps, true, true, true));
  }
  f.device.device = e.run.device.rfind("cuda", 0) == 0 ? "cuda" : "cpu";
  f.device.gpus = e.run.gpus;
  f.device.memory_gb = e.budget.memory_gb;
  f.device.flops_per_second = e.budget.flops_per_second;
  f.device.price_per_hour = e.budget.price_per_gpu_hour;
  f.device.bf16 = e.run.bf16;
  f.cost_cap = e.budget.cost_cap;
  f.calibration_rows = std::min<int64_t>(e.importance.samples, 8);
  f.seq_len = e.run.seq_len;
  f.method = e.prune.method == "l0" ? "minitron" : e.prune.method;
  return f;
}

Json run_experiment(const Experiment& e, const RunOptions& o, const std::atomic<bool>& stop) {
  const std::string run = o.out;
  fs::create_directories(run);
  Ledger ledger(run, {e.budget.price_per_gpu_hour, e.run.gpus, e.budget.cost_cap, e.budget.minutes});

  // Phase 0 from config.json alone: the caps are checked before anything runs.
  const Json plan = feasibility(plan_config(e, run + "/plan"));
  fs::create_directories(fs::path(run) / "plan");
  write_json(fs::path(run) / "plan" / "feasibility.json", plan);
  std::cerr << feasibility_table(plan);
  if (o.plan_only) return {{"feasibility", plan}};
  check_plan(e, plan, o);

  Json stages = Json::array();
  const auto stage = [&](const std::string& name, const Json& config, const std::vector<std::string>& inputs,
                         const StageBody& body) {
    if (const std::string why = ledger.exhausted(); !why.empty())
      fail(ErrorKind::kInput, "stopped before stage " + name + ": " + why +
                                  "; raise [budget] and run the same command again to continue");
    log("stage " + name);
    const auto started = std::chrono::steady_clock::now();
    const auto spent = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    Json manifest;
    try {
      manifest = run_stage(run, name, config, inputs, body);
    } catch (...) {
      ledger.add(name, spent());
      throw;
    }
    if (manifest["skipped"].get<bool>())
      log("stage " + name + ": done before, skipped");
    else
      ledger.add(name, spent());
    stages.push_back(stage_row(manifest));
    return manifest;
  };
  std::vector<std::string> prompt_input;
  if (!e.data.prompt_template.empty()) prompt_input.push_back(e.data.prompt_template);

  Json data_config = {{"seed", e.run.seed}, {"generate_train", e.data.generate_train},
                      {"generate_eval", e.data.generate_eval}, {"domains", Json::array()}};
  std::vector<std::string> data_inputs = prompt_input;
  for (const std::string& p : {e.data.task, e.data.eval})
    if (!p.empty()) data_inputs.push_back(p);
  for (const Domain& d : e.data.domains) {
    data_config["domains"].push_back({{"name", d.name}, {"task", d.task}, {"jsonl", d.jsonl}, {"source_dir", d.source_dir},
                                      {"suffix", d.suffix}, {"max_records", d.max_records},
                                      {"record_chars", d.record_chars}});
    if (!d.jsonl.empty()) data_inputs.push_back(d.jsonl);
  }
  const Json data = stage("data", data_config, data_inputs,
                          [&](const std::string& dir) { return write_run_data(e.data, e.run.seed, dir); });
  const std::string task = data["outputs"]["task"], eval = data["outputs"]["eval"];

  FeasibilityConfig fc = plan_config(e, run + "/plan");
  fc.data = task;
  std::vector<std::string> feas_inputs = {task};
  for (const auto& [name, dir] : fc.candidates) feas_inputs.push_back(dir + "/config.json");
  const Json feas = stage("feasibility", {{"target", fc.target}, {"method", fc.method}}, feas_inputs,
                          [&](const std::string& dir) {
                            const Json f = feasibility(fc);
                            write_json(fs::path(dir) / "feasibility.json", f);
                            return Json{{"outputs", {{"feasibility", dir + "/feasibility.json"}}}, {"metrics", f}};
                          });
  const Json& pick = chosen(feas["metrics"], e.run.base);
  const std::string base_name = pick["name"];
  log("base: " + base_name);

  // The base: a directory given, or the parent trained here.
  std::string base;
  Json parent = nullptr;
  for (const Candidate& c : e.candidates)
    if (c.name == base_name) base = c.model;
  if (base.empty()) {
    const Json tok = stage("tokenizer", {{"vocab", e.scratch.vocab}, {"digits", e.scratch.digits}},
                           {e.scratch.tokenizer, data["outputs"]["train"]}, [&](const std::string& dir) {
                             return learn_tokenizer(e.scratch, data["outputs"]["train"], dir);
                           });
    const std::string tokenizer = tok["outputs"]["tokenizer"];
    const Json init = stage("parent",
                            {{"hidden", e.scratch.hidden}, {"layers", e.scratch.layers}, {"heads", e.scratch.heads},
                             {"kv_heads", e.scratch.kv_heads}, {"ffn", e.scratch.ffn}, {"seed", e.run.seed}},
                            {tokenizer}, [&](const std::string& dir) {
                              return init_scratch_model(e.scratch, e.run.seq_len, e.run.seed, tokenizer, dir);
                            });
    train::TrainConfig t = base_train(e, o);
    t.model = init["outputs"]["model"];
    t.data = data["outputs"]["train"];
    t.eval_data = data["outputs"]["heldout"];
    t.steps = e.scratch.steps;
    t.eval_every = std::max<int64_t>(t.steps / 10, 1);
    t.schedule.peak = e.scratch.lr;
    t.schedule.warmup = e.scratch.warmup;
    t.save_every = std::max<int64_t>(t.steps / 4, 1);
    if (!e.data.domains.empty()) {
      t.domains = domain_names(e.data);
      t.domain_weights = domain_weights(e.data);
    }
    const Json pre = stage("pretrain", train_key(t), {t.model, t.data, t.eval_data},
                           [&](const std::string& dir) { return train_in_stage(t, dir, "pretrain", ledger, stop); });
    base = pre["outputs"]["final"];
    parent = {{"tokenizer", tok["metrics"]}, {"parameters", init["metrics"]["parameters"]}, {"pretrain", pre["metrics"]}};
  }

  // Phase 1: the task's ceiling, then what each unit does on it.
  std::string finetuned = base;
  Json finetune = nullptr;
  if (e.finetune.steps > 0) {
    train::TrainConfig t = base_train(e, o);
    t.model = base;
    t.data = task;
    t.eval_data = eval;
    t.steps = e.finetune.steps;
    t.eval_every = std::max<int64_t>(t.steps / 10, 1);
    t.schedule.peak = e.finetune.lr;
    t.schedule.warmup = e.finetune.warmup;
    t.save_every = std::max<int64_t>(t.steps / 4, 1);
    const Json ft = stage("finetune", train_key(t), {base, task, eval},
                          [&](const std::string& dir) { return train_in_stage(t, dir, "finetune", ledger, stop); });
    finetuned = ft["outputs"]["final"];
    finetune = ft["metrics"];
  }
  const Json imp = stage("importance", {{"samples", e.importance.samples}, {"seq_len", e.run.seq_len},
                                        {"taylor", e.prune.method == "taylor"}},
                         {finetuned, task}, [&](const std::string& dir) { return importance_stage(e, finetuned, task, dir); });
  const std::string importance = imp["outputs"]["importance"];

  // Phase 2: the cut.
  const Json pruned_stage =
      stage("prune",
            {{"method", e.prune.method}, {"target", e.prune.target}, {"params", e.prune.params},
             {"targets", e.prune.targets}, {"steps", e.prune.steps}, {"round_steps", e.prune.round_steps},
             {"freeze_weights", e.prune.freeze_weights}, {"mask_lr", e.prune.mask_lr},
             {"lambda_lr", e.prune.lambda_lr}, {"seed", e.run.seed}},
            {finetuned, task, eval, importance}, [&](const std::string& dir) {
              return prune_stage(e, o, finetuned, data, importance, dir, ledger, stop);
            });
  const std::string pruned = pruned_stage["outputs"]["pruned"];

  // Phase 3: recovery by distillation from the fine-tuned base, over the domains.
  train::TrainConfig rt = base_train(e, o);
  rt.model = pruned;
  rt.teacher = finetuned;
  rt.kd_weight = e.recover.kd_weight;
  rt.data = data["outputs"]["train"];
  rt.eval_data = data["outputs"]["heldout"];
  rt.steps = e.recover.steps;
  rt.eval_every = std::max<int64_t>(rt.steps / 10, 1);
  rt.schedule.peak = e.recover.lr;
  rt.schedule.warmup = e.recover.warmup;
  rt.save_every = e.recover.save_every > 0 ? e.recover.save_every : std::max<int64_t>(rt.steps / 5, 1);
  if (!e.data.domains.empty()) {
    rt.domains = domain_names(e.data);
    rt.domain_weights = domain_weights(e.data);
    rt.mix_every = e.recover.mix_every;
  }
  Json recover_key = train_key(rt);
  recover_key["save_every"] = rt.save_every;
  const Json rec = stage("recover", recover_key, {pruned, finetuned, rt.data, rt.eval_data},
                         [&](const std::string& dir) {
                           Json r = train_in_stage(rt, dir, "recover", ledger, stop);
                           r["metrics"]["eval_loss_task"] = heldout_loss(dir + "/final", eval, e);
                           return r;
                         });
  const std::string recovered = rec["outputs"]["final"];
  Json quality = pruned_stage["metrics"]["quality"];
  if (e.prune.targets.empty()) quality["rows"][1]["loss"] = rec["metrics"]["eval_loss_task"];

  Json report = {{"title", "Bespoke run: " + fs::path(e.path).filename().string()},
                 {"experiment", e.path},
                 {"plan", plan},
                 {"feasibility", feas["metrics"]},
                 {"base", base_name},
                 {"parent", parent},
                 {"finetune", finetune},
                 {"importance", {{"dir", importance}, {"html", imp["outputs"]["html"]}}},
                 {"prune", {{"method", e.prune.method}, {"model", pruned}, {"quality", quality}}},
                 {"recover", rec["metrics"]},
                 {"gate", nullptr},
                 {"lottery", nullptr},
                 {"export", nullptr}};
  const auto finish = [&] {
    report["stages"] = stages;
    report["ledger"] = ledger.json();
    double seconds = 0;
    for (const Json& row : stages) seconds += row["seconds"].get<double>();
    report["minutes"] = seconds / 60;
    if (o.checks) report["checks"] = o.checks(report);
    write_json(fs::path(run) / "report.json", report);
    write_file_atomic((fs::path(run) / "report.html").string(),
                      [&](std::ostream& out) { out << render_report_html(report); });
  };

  const Json gate = stage("gate",
                          {{"items", e.gate.items}, {"max_new_tokens", e.gate.max_new_tokens},
                           {"max_worse", e.gate.max_worse}, {"hard_targets", e.gate.hard_targets},
                           {"baseline_model", e.gate.baseline_model}, {"baseline_server", e.gate.baseline_server}},
                          [&] {
                            std::vector<std::string> in = {recovered, finetuned, eval};
                            if (!e.gate.baseline_report.empty()) in.push_back(e.gate.baseline_report);
                            if (!e.gate.baseline_model.empty()) in.push_back(e.gate.baseline_model);
                            return in;
                          }(),
                          [&](const std::string& dir) { return gate_stage(e, recovered, finetuned, eval, dir); });
  report["gate"] = gate["metrics"];
  if (gate["metrics"]["verdict"] == "no-go" && e.gate.stop) {
    finish();
    fail(ErrorKind::kInput, "gate: no-go (worse on " + std::to_string(gate["metrics"]["worse"].get<int64_t>()) +
                                " metrics):\n" + gate["metrics"]["text"].get<std::string>() +
                                "the run stops before export; report in " + run + "/report.html");
  }

  if (e.lottery.enabled) {
    const Json lot = stage("lottery",
                           {{"steps", lottery_steps(e)}, {"lrs", e.lottery.lrs}, {"sweep_steps", e.lottery.sweep_steps},
                            {"seeds", e.lottery.seeds}, {"eval_points", e.lottery.eval_points},
                            {"max_multiple", e.lottery.max_multiple}, {"task_items", e.lottery.task_items},
                            {"recover", train_key(rt)}},
                           {finetuned, pruned, data["outputs"]["train"], eval}, [&](const std::string& dir) {
                             return lottery_stage(e, o, finetuned, pruned, data, dir, ledger, stop);
                           });
    report["lottery"] = lot["metrics"];
  }

  // Phase 5.
  const Json ex = stage("export", {{"types", e.exporting.types}}, {finetuned, recovered, eval},
                        [&](const std::string& dir) { return export_stage(e, finetuned, recovered, eval, dir); });
  report["export"] = ex["metrics"];
  finish();
  return report;
}

std::string run_summary(const Json& r) {
  std::string out;
  char line[512];
  const auto num = [](const Json& v, double fallback = std::nan("")) { return v.is_number() ? v.get<double>() : fallback; };
  if (r.contains("feasibility")) out += feasibility_table(r["feasibility"]);
  if (r["parent"].is_object()) {
    const Json& p = r["parent"]["pretrain"];
    std::snprintf(line, sizeof line, "parent    %lld parameters, pretrained %lld steps: loss %.3f -> %.3f\n",
                  static_cast<long long>(r["parent"]["parameters"].get<int64_t>()),
                  static_cast<long long>(p.value("steps", 0)), num(p["first_loss"]), num(p["final_loss"]));
    out += line;
  }
  if (r["finetune"].is_object()) {
    const Json& f = r["finetune"];
    std::snprintf(line, sizeof line, "finetune  %lld steps: loss %.3f -> %.3f\n",
                  static_cast<long long>(f.value("steps", 0)), num(f["first_loss"]), num(f["final_loss"]));
    out += line;
  }
  for (const Json& row : r["prune"]["quality"]["rows"]) {
    std::snprintf(line, sizeof line, "quality   %-28s %12lld params (%5.1f%%)  ",
                  row["target"].is_string() ? row["target"].get<std::string>().c_str() : "base",
                  static_cast<long long>(row["params"].get<int64_t>()), 100 * num(row["share"]));
    out += line;
    if (row["loss_pruned"].is_number())
      std::snprintf(line, sizeof line, "held-out loss %.3f after the cut, %.3f after its recovery\n", num(row["loss_pruned"]),
                    num(row["loss"]));
    else
      std::snprintf(line, sizeof line, "held-out loss %.3f\n", num(row["loss"]));
    out += line;
  }
  if (r["gate"].is_object()) {
    std::snprintf(line, sizeof line, "gate      %s: worse on %lld of 7 metrics (allowed %lld) against %s\n",
                  r["gate"]["verdict"].get<std::string>().c_str(),
                  static_cast<long long>(r["gate"]["worse"].get<int64_t>()),
                  static_cast<long long>(r["gate"]["max_worse"].get<int64_t>()),
                  r["gate"]["baseline_from"].get<std::string>().c_str());
    out += line;
    std::istringstream table(r["gate"].value("text", std::string()));
    for (std::string row; std::getline(table, row);) out += "gate        " + row + "\n";
  }
  if (r["lottery"].is_object()) {
    for (const auto& [arm, a] : r["lottery"]["arms"].items()) {
      if (!a["skipped"].is_null()) {
        out += "lottery   " + arm + " skipped: " + a["skipped"].get<std::string>() + "\n";
        continue;
      }
      std::snprintf(line, sizeof line, "lottery   %s  eval loss %.4f +- %.4f at lr %.2g  (%s)\n", arm.c_str(),
                    num(a["final_eval_loss"]), num(a["final_eval_loss_sd"], 0), num(a["lr"]),
                    a.value("description", std::string()).c_str());
      out += line;
    }
    out += "lottery   B needs " + r["lottery"]["token_multiplier"].value("text", std::string("?")) +
           " A's tokens to reach A's loss\n";
  }
  if (r["export"].is_object())
    for (const char* which : {"base", "pruned"})
      for (const Json& f : r["export"][which]["files"]) {
        std::snprintf(line, sizeof line, "export    %-6s %-5s %8.2f MB  llama.cpp %s  %7.1f tok/s\n", which,
                      f["type"].get<std::string>().c_str(), f["bytes"].get<double>() / 1e6,
                      f["llama_cpp_ok"].get<bool>() ? "ok" : "FAILED", num(f["tokens_per_s"]));
        out += line;
      }
  if (r["export"].is_object() && r["export"]["speedup"].is_object()) {
    out += "speed-up  the pruned GGUF over the base's, decoding in llama.cpp:";
    for (const auto& [type, x] : r["export"]["speedup"].items()) {
      std::snprintf(line, sizeof line, " %s %.2fx", type.c_str(), num(x));
      out += line;
    }
    out += "\n";
  }
  if (r.contains("ledger")) {
    std::snprintf(line, sizeof line, "total     %.1f minutes, %.4f device-hours, cost %.2f\n", num(r["minutes"]),
                  num(r["ledger"]["device_hours"]), num(r["ledger"]["cost"]));
    out += line;
  }
  return out;
}

}  // namespace bespoke::pipeline
