#include "bespoke/pipeline/lottery.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bespoke/core/error.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/json_fields.h"
#include "bespoke/pipeline/stage.h"
#include "bespoke/prune/extract.h"
#include "bespoke/task/encoding/evaluate.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;
namespace enc = task::encoding;

const char* const kArms[] = {"A", "B", "C", "D"};

void log(const std::string& line) {
  std::cerr << "[lottery] " << line << "\n";
}

// The file's JSON, or null when it is missing or unreadable (a discarded value would compare
// unequal to everything, itself included, and equal to nothing: never use one in a comparison).
Json read_json(const fs::path& path) {
  std::ifstream in(path);
  Json j = Json::parse(in, nullptr, false);
  return j.is_discarded() ? Json(nullptr) : j;
}

std::string description(const std::string& arm) {
  if (arm == "A") return "inherited weights (the method's cut)";
  if (arm == "B") return "fresh random init of the same shape";
  if (arm == "C") return "inherited weights shuffled within each matrix";
  return "random units of the source, with their inherited weights";
}

std::string rate_name(double lr) {
  char s[32];
  std::snprintf(s, sizeof s, "%g", lr);
  return s;
}

// `points` steps log-spaced from the first to `steps` (fewer where they round together), the
// last step always among them.
std::vector<int64_t> log_steps(int64_t steps, int64_t points) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < points; ++i) {
    const double f = points == 1 ? 1.0 : static_cast<double>(i) / static_cast<double>(points - 1);
    const int64_t s = std::llround(std::pow(static_cast<double>(steps), f));
    if (out.empty() || s > out.back()) out.push_back(s);
  }
  if (out.back() != steps) out.push_back(steps);
  return out;
}

// [[tokens, eval_loss], ...] of a run's metrics.jsonl.
Json eval_curve(const fs::path& metrics) {
  Json curve = Json::array();
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("eval_loss")) curve.push_back({j["tokens"], j["eval_loss"]});
  }
  return curve;
}

// What the arms share: a run whose settings differ from these is stale.
Json shared_key(const LotteryConfig& c) {
  const train::TrainConfig& t = c.train;
  return {{"data", content_hash(c.data)},
          {"eval_data", content_hash(c.eval_data)},
          {"teacher", t.teacher.empty() ? std::string() : content_hash(t.teacher)},
          {"kd_weight", t.kd_weight},
          {"kd_tau", t.kd_tau},
          {"seq_len", t.seq_len},
          {"batch", t.batch},
          {"schedule", {t.schedule.kind, t.schedule.final_ratio, t.schedule.warmup, t.steps}},
          {"optimizer", {t.weight_decay, t.beta1, t.beta2, t.eps, t.clip}},
          {"domains", t.domains},
          {"domain_weights", t.domain_weights},
          {"mix_every", t.mix_every},
          {"bf16", t.bf16}};
}

struct RunSpec {
  std::string name;   // relative to OUT
  std::string start;  // the model directory it trains from
  Json start_key;     // what that model is
  double lr = 0;
  uint64_t seed = 0;
  int64_t steps = 0, points = 0;
  bool final_model = false;  // keep final/ and score the task on it
};

// Trains one run to its result (read back if it finished with these settings; resumed from its
// checkpoint if it was interrupted; started afresh if it was made with other settings).
Json train_run(const LotteryConfig& c, const Json& shared, const RunSpec& r, const std::atomic<bool>& stop) {
  const fs::path dir = fs::path(c.out) / r.name;
  const Json key = {{"shared", shared},         {"start", r.start_key}, {"lr", r.lr},
                    {"seed", r.seed},           {"steps", r.steps},     {"points", r.points},
                    {"task_items", r.final_model ? c.task_items : 0}, {"max_new_tokens", c.max_new_tokens}};
  if (read_json(dir / "settings.json") != key) fs::remove_all(dir);
  if (fs::exists(dir / "result.json")) return read_json(dir / "result.json");
  fs::create_directories(dir);
  write_json(dir / "settings.json", key);

  train::TrainConfig t = c.train;
  t.model = r.start;
  t.data = c.data;
  t.out = dir.string();
  t.seed = r.seed;
  t.steps = r.steps;
  t.stop_at = 0;
  t.schedule.peak = r.lr;
  t.schedule.warmup = c.train.schedule.warmup * r.steps / std::max<int64_t>(c.train.steps, 1);
  t.eval_data = c.eval_data;
  t.eval_every = 0;
  t.eval_at = log_steps(r.steps, r.points);
  t.resume = !train::latest_checkpoint(t.out).empty();
  t.write_final = r.final_model;
  t.log_every = std::max<int64_t>(r.steps / 4, 1);
  log(r.name + ": " + std::to_string(r.steps) + " steps at lr " + rate_name(r.lr) + (t.resume ? " (resumed)" : ""));
  Json result;
  try {
    const train::TrainResult trained = train::train(t, stop);
    if (trained.interrupted)
      fail(ErrorKind::kInput, "lottery: " + r.name + " stopped (checkpointed); run the same command again to resume");
    const Json curve = eval_curve(dir / "metrics.jsonl");
    result = {{"seed", r.seed},   {"run", r.name},     {"lr", r.lr},    {"steps", trained.steps},
              {"tokens", trained.tokens}, {"curve", curve}, {"final_eval_loss", curve.back()[1]}, {"task", nullptr}};
  } catch (const Error& e) {
    // A rate that diverges is a result of the sweep, not a failure of it; anything else is.
    if (stop || std::string(e.what()).find("stopped before updating") == std::string::npos) throw;
    result = {{"seed", r.seed}, {"run", r.name}, {"lr", r.lr}, {"final_eval_loss", nullptr}, {"diverged", e.what()}};
  }
  if (r.final_model && c.task_items > 0 && result["final_eval_loss"].is_number()) {
    result["task"] = enc::model_headline((dir / "final").string(), c.eval_data, c.task_items, c.max_new_tokens,
                                         c.prompt_template, {torch::kFloat32, torch::Device(c.train.device)});
  }
  write_json(dir / "result.json", result);
  fs::remove_all(dir / "checkpoints");
  return result;
}

// The model directory an arm starts from at `seed`: the cut itself for A, else OUT/<arm>/init-<seed>/.
std::pair<std::string, Json> start_of(const LotteryConfig& c, const Json& inputs, const std::string& arm,
                                      uint64_t seed) {
  if (arm == "A") return {c.pruned, inputs["pruned"]};
  const Json key = {{"arm", arm}, {"seed", seed}, {"inputs", inputs}};
  const fs::path dir = fs::path(c.out) / arm / ("init-" + std::to_string(seed));
  if (read_json(dir / "settings.json") != key) {
    fs::remove_all(dir);
    const fs::path tmp = dir.string() + ".tmp";
    fs::remove_all(tmp);
    model::Transformer net = arm_start(c, arm, seed);
    model::export_hf(net, c.pruned, tmp.string());
    write_json(tmp / "settings.json", key);
    fs::rename(tmp, dir);
  }
  return {dir.string(), key};
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// The runs' curves averaged point by point (they share their evaluation steps).
Json mean_curve(const std::vector<Json>& runs) {
  size_t points = runs.front()["curve"].size();
  for (const Json& r : runs) points = std::min(points, r["curve"].size());
  Json curve = Json::array();
  for (size_t i = 0; i < points; ++i) {
    std::vector<double> tokens, losses;
    for (const Json& r : runs) {
      tokens.push_back(r["curve"][i][0].get<double>());
      losses.push_back(r["curve"][i][1].get<double>());
    }
    curve.push_back({std::llround(mean(tokens)), mean(losses)});
  }
  return curve;
}

// Each numeric field of the runs' task metrics averaged, or null when none was scored.
Json mean_task(const std::vector<Json>& runs) {
  if (!runs.front()["task"].is_object()) return nullptr;
  Json task = Json::object();
  for (const auto& [name, value] : runs.front()["task"].items()) {
    std::vector<double> values;
    for (const Json& r : runs)
      if (const std::optional<double> x = number(field(r["task"], name.c_str()))) values.push_back(*x);
    task[name] = values.empty() ? Json(nullptr) : Json(mean(values));
  }
  return task;
}

// The sweep for `arm` at the first seed: its best rate, and each rate's loss. A single rate is no sweep.
double sweep(const LotteryConfig& c, const Json& shared, const Json& inputs, const std::string& arm,
             const std::atomic<bool>& stop, Json& a) {
  a["sweep"] = Json::array();
  if (c.lrs.size() == 1) {
    a["sweep_note"] = "one rate given: no sweep, every arm trains at " + rate_name(c.lrs.front());
    return c.lrs.front();
  }
  const int64_t steps = c.sweep_steps > 0 ? c.sweep_steps : std::max<int64_t>(c.train.steps / 4, 1);
  const auto [start, start_key] = start_of(c, inputs, arm, c.seeds.front());
  std::optional<double> best_lr, best_loss;
  std::string diverged;
  for (double lr : c.lrs) {
    const Json r = train_run(c, shared, {arm + "/sweep/lr-" + rate_name(lr), start, start_key, lr, c.seeds.front(), steps, 2},
                             stop);
    a["sweep"].push_back({{"lr", lr}, {"eval_loss", r["final_eval_loss"]}});
    const std::optional<double> loss = number(r["final_eval_loss"]);
    if (!loss) diverged = r.value("diverged", std::string());
    if (loss && (!best_loss || *loss < *best_loss)) best_lr = lr, best_loss = loss;
  }
  if (!best_lr)
    fail(ErrorKind::kInput, "lottery: arm " + arm + ": every rate of the sweep diverged (" + diverged + "); give lower lrs");
  const auto [lo, hi] = std::minmax_element(c.lrs.begin(), c.lrs.end());
  std::string note = "best of " + std::to_string(c.lrs.size()) + " rates at " + std::to_string(steps) + " steps each";
  if (*best_lr == *lo || *best_lr == *hi)
    note += "; it is the sweep's " + std::string(*best_lr == *lo ? "lowest" : "highest") +
            ", so the arm's best rate may lie beyond it";
  a["sweep_note"] = note;
  return *best_lr;
}

// Why A did not beat B, from where their curves start and end.
std::string why_not(const Json& a, const Json& b) {
  const double a0 = a["curve"].front()[1], b0 = b["curve"].front()[1];
  char s[320];
  if (a0 < b0)
    std::snprintf(s, sizeof s,
                  "A did not beat B: A started lower (%.4f against %.4f at the first point) but B caught up within the "
                  "budget, so at these tokens the inherited weights carry no lasting advantage",
                  a0, b0);
  else
    std::snprintf(s, sizeof s,
                  "A did not beat B: the cut started no better than a fresh init (%.4f against %.4f at the first "
                  "point), so the cut kept too little of what its source knew",
                  a0, b0);
  return s;
}

void check(const LotteryConfig& c) {
  const auto bad = [](const std::string& why) { fail(ErrorKind::kUsage, "lottery: " + why); };
  if (c.out.empty()) bad("no output directory");
  if (c.eval_data.empty()) bad("the curves need held-out data");
  if (c.seeds.empty()) bad("no seeds");
  if (c.lrs.empty()) bad("no learning rates");
  for (double lr : c.lrs)
    if (!(lr > 0)) bad("learning rates must be positive");
  if (c.eval_points < 2) bad("eval_points must be at least 2");
  if (!(c.max_multiple >= 1)) bad("max_multiple must be at least 1");
  if (c.train.steps < 1) bad("steps must be positive");
}

}  // namespace

std::optional<double> tokens_to_reach(const Json& curve, double loss) {
  for (size_t i = 0; i < curve.size(); ++i) {
    const double t = curve[i][0].get<double>(), l = curve[i][1].get<double>();
    if (l > loss) continue;
    if (i == 0) return t;
    const double t0 = curve[i - 1][0].get<double>(), l0 = curve[i - 1][1].get<double>();
    return t0 + (t - t0) * (l0 - loss) / (l0 - l);
  }
  return std::nullopt;
}

torch::Tensor shuffle_within(const torch::Tensor& tensor, uint64_t seed) {
  const at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const torch::Tensor order = torch::randperm(tensor.numel(), gen, torch::kLong).to(tensor.device());
  return tensor.reshape(-1).index_select(0, order).reshape(tensor.sizes());
}

std::optional<prune::Target> uniform_target(const model::ModelSpec& cut) {
  const model::LayerSpec& first = cut.layers.front();
  for (const model::LayerSpec& l : cut.layers)
    if (l.n_heads != first.n_heads || l.n_kv_heads != first.n_kv_heads || l.ffn_dim != first.ffn_dim)
      return std::nullopt;
  if (first.n_heads == 0 || first.ffn_dim == 0) return std::nullopt;
  prune::Target t;
  t.layers = cut.n_layers();
  t.hidden = cut.hidden_size;
  t.heads = first.n_heads;
  t.kv_heads = first.n_kv_heads;
  t.ffn = first.ffn_dim;
  return t;
}

model::Transformer arm_start(const LotteryConfig& c, const std::string& arm, uint64_t seed) {
  torch::NoGradGuard no_grad;
  if (arm == "D") {
    const std::optional<prune::Target> target = uniform_target(model::read_hf_config(c.pruned));
    if (!target) fail(ErrorKind::kUnsupported, "arm D: the cut's layers differ in shape, so no uniform target to draw at");
    model::Transformer source = model::load_model(c.source);
    prune::check_target(source->spec(), *target);
    return prune::extract(source, prune::random_selection(source->spec(), *target, seed));
  }
  model::Transformer net = model::load_model(c.pruned);
  if (arm == "B") {
    torch::manual_seed(seed);
    model::init_random(net);
  } else if (arm == "C") {
    uint64_t i = 0;
    for (auto& p : net->named_parameters())
      if (p.value().dim() >= 2) p.value().copy_(shuffle_within(p.value(), seed * 1000003 + i++));
  } else if (arm != "A") {
    fail(ErrorKind::kUsage, "lottery: no arm " + arm);
  }
  return net;
}

Json run_lottery(const LotteryConfig& c, const std::atomic<bool>& stop) {
  check(c);
  fs::create_directories(c.out);
  const model::ModelSpec cut = model::read_hf_config(c.pruned);
  const Json shared = shared_key(c);
  const Json inputs = {{"pruned", content_hash(c.pruned)}, {"source", content_hash(c.source)}};
  Json arms = Json::object();
  Json notes = Json::array();
  for (const std::string arm : kArms) {
    Json a = {{"description", description(arm)}, {"skipped", nullptr}};
    if (arm == "D" && !uniform_target(cut)) {
      a["skipped"] = "the cut's layers differ in shape: random units have no uniform target to be drawn at";
      arms[arm] = a;
      continue;
    }
    const double lr = sweep(c, shared, inputs, arm, stop, a);
    std::vector<Json> runs;
    for (uint64_t seed : c.seeds) {
      const auto [start, start_key] = start_of(c, inputs, arm, seed);
      Json r = train_run(c, shared,
                         {arm + "/seed-" + std::to_string(seed), start, start_key, lr, seed, c.train.steps, c.eval_points, true},
                         stop);
      if (!r["final_eval_loss"].is_number())
        fail(ErrorKind::kInput, "lottery: arm " + arm + " diverged at lr " + rate_name(lr) + ": " + r.value("diverged", ""));
      runs.push_back(r);
    }
    std::vector<double> finals;
    int64_t tokens = 0;
    for (const Json& r : runs) {
      finals.push_back(r["final_eval_loss"].get<double>());
      tokens += r["tokens"].get<int64_t>();
    }
    a["lr"] = lr;
    a["seeds"] = runs;
    a["final_eval_loss"] = mean(finals);
    a["final_eval_loss_sd"] = sample_sd(finals);
    a["tokens"] = tokens / static_cast<int64_t>(runs.size());
    a["curve"] = mean_curve(runs);
    a["task"] = mean_task(runs);
    arms[arm] = a;
  }

  // B trained on, for the tokens it needs to reach A's loss.
  const Json& A = arms["A"];
  const Json& B = arms["B"];
  std::vector<Json> extended;
  if (c.max_multiple > 1) {
    const int64_t steps = static_cast<int64_t>(std::ceil(c.max_multiple * static_cast<double>(c.train.steps)));
    const int64_t points =
        c.eval_points + static_cast<int64_t>(std::ceil((c.eval_points - 1) * std::log(c.max_multiple) /
                                                       std::log(std::max<double>(c.train.steps, 2))));
    const size_t n = std::min<size_t>(c.seeds.size(), static_cast<size_t>(std::max<int64_t>(c.extension_seeds, 1)));
    for (size_t i = 0; i < n; ++i) {
      const auto [start, start_key] = start_of(c, inputs, "B", c.seeds[i]);
      const Json r = train_run(
          c, shared, {"B/extend/seed-" + std::to_string(c.seeds[i]), start, start_key, B["lr"].get<double>(), c.seeds[i], steps, points},
          stop);
      if (r["final_eval_loss"].is_number()) extended.push_back(r);
    }
  }
  const Json b_curve = extended.empty() ? B["curve"] : mean_curve(extended);
  const double a_tokens = A["tokens"].get<double>();
  const std::optional<double> reach = tokens_to_reach(b_curve, A["final_eval_loss"].get<double>());
  char text[64];
  if (reach)
    std::snprintf(text, sizeof text, "%.2f\u00d7", *reach / a_tokens);
  else
    std::snprintf(text, sizeof text, "more than %g\u00d7", extended.empty() ? 1.0 : c.max_multiple);
  const Json multiplier = {{"value", reach ? Json(*reach / a_tokens) : Json(nullptr)},
                           {"k", c.max_multiple},
                           {"text", text},
                           {"b_curve", b_curve}};

  const double a_minus_b = B["final_eval_loss"].get<double>() - A["final_eval_loss"].get<double>();
  if (a_minus_b <= 0) notes.push_back(why_not(A, B));
  if (arms["D"]["final_eval_loss"].is_number()) {
    char s[200];
    const double d = arms["D"]["final_eval_loss"].get<double>() - A["final_eval_loss"].get<double>();
    std::snprintf(s, sizeof s, "random units with inherited weights (D) end %.4f %s than the method's units (A)",
                  std::abs(d), d > 0 ? "higher" : "lower");
    notes.push_back(s);
  }
  const model::LayerSpec& l = cut.layers.front();
  const Json result = {{"arms", arms},
                       {"token_multiplier", multiplier},
                       {"a_beats_b", a_minus_b > 0},
                       {"a_minus_b", a_minus_b},
                       {"shape",
                        {{"layers", cut.n_layers()},
                         {"hidden", cut.hidden_size},
                         {"heads", l.n_heads},
                         {"kv_heads", l.n_kv_heads},
                         {"ffn", l.ffn_dim},
                         {"params", model::parameter_count(cut)}}},
                       {"notes", notes}};
  write_json(fs::path(c.out) / "lottery.json", result);
  return result;
}

}  // namespace bespoke::pipeline
