#include "bespoke/pipeline/feasibility.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/model/family.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/method.h"
#include "bespoke/prune/one_shot.h"
#include "bespoke/prune/shape_search.h"
#include "bespoke/text/encoder.h"
#include "bespoke/train/data.h"
#include "bespoke/train/evaluate.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

[[noreturn]] void bad_plan(const std::string& why) {
  fail(ErrorKind::kUsage, "plan: " + why);
}

// ---- the architecture class ----

// The keys the spec reader sees: a multimodal config's text_config over its own.
json text_view(const json& config) {
  json c = config;
  if (config.contains("text_config") && config["text_config"].is_object())
    for (const auto& [k, v] : config["text_config"].items()) c[k] = v;
  return c;
}

bool is_moe(const json& c) {
  for (const char* key :
       {"num_experts", "num_local_experts", "n_routed_experts", "num_routed_experts", "moe_num_experts", "n_experts"})
    if (c.contains(key) && c[key].is_number() && c[key].get<double>() > 1) return true;
  return c.contains("enable_moe_block") && c["enable_moe_block"] == true;  // Gemma 4's MoE sizes
}

// Layers that carry a recurrent state instead of attention over the past (Gated DeltaNet in
// Qwen3-Next and Qwen 3.5, Mamba in Jamba and Nemotron-H), named by layer_types or by the keys
// that size them.
bool is_hybrid(const json& c) {
  static const std::set<std::string> recurrent = {"linear_attention", "mamba", "mamba2", "conv", "ssm", "recurrent"};
  if (c.contains("layer_types") && c["layer_types"].is_array())
    for (const json& t : c["layer_types"])
      if (t.is_string() && recurrent.count(t.get<std::string>())) return true;
  for (const char* key :
       {"linear_num_value_heads", "linear_num_key_heads", "linear_key_head_dim", "linear_conv_kernel_dim",
        "full_attention_interval", "linear_attn_config", "layers_block_type"})
    if (c.contains(key) && !c[key].is_null()) return true;
  return false;
}

bool is_registered(const json& c) {
  if (!c.contains("model_type") || !c["model_type"].is_string()) return false;
  for (const model::Family* f : model::families())
    for (const std::string& type : f->model_types)
      if (type == c["model_type"].get<std::string>()) return true;
  return false;
}

bool has_dense_keys(const json& c) {
  for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"})
    if (!c.contains(key) || !c[key].is_number()) return false;
  return true;
}

// ---- a candidate and its cut ----

struct Candidate {
  std::string name, dir, cls, reason;
  std::optional<model::ModelSpec> spec;
  bool weights = false;
};

Candidate read_candidate(const std::string& name, const std::string& dir) {
  Candidate c;
  c.name = name;
  c.dir = dir;
  const json config = read_json((fs::path(dir) / "config.json").string());
  c.cls = architecture_class(config);
  c.weights =
      fs::exists(fs::path(dir) / "model.safetensors") || fs::exists(fs::path(dir) / "model.safetensors.index.json");
  c.reason = class_reason(config);
  if (!c.reason.empty()) return c;
  try {
    c.spec = model::spec_from_hf_config(config);
  } catch (const Error& e) {
    c.reason = e.what();
  } catch (const json::exception& e) {
    c.reason = std::string("config.json: ") + e.what();
  }
  return c;
}

prune::Goal parse_goal(const std::string& text) {
  if (text.empty()) bad_plan("no target: give a shape (layers=20,ffn=5504) or a parameter budget (1.5B)");
  prune::Goal g;
  try {
    if (text.find('=') != std::string::npos)
      g.shape = prune::parse_target(text);
    else
      g.budget = prune::parse_param_count(text);
  } catch (const Error& e) {
    throw with_context(e, "plan target '" + text + "'");
  }
  return g;
}

struct Cut {
  prune::Target target;
  model::ModelSpec spec;
  std::string note;
};

std::string shape_text(const prune::Target& t) {
  std::string out;
  const auto add = [&](const char* key, int64_t v) {
    if (v) out += (out.empty() ? "" : ",") + std::string(key) + "=" + std::to_string(v);
  };
  add("layers", t.layers);
  add("hidden", t.hidden);
  add("heads", t.heads);
  add("kv_heads", t.kv_heads);
  add("ffn", t.ffn);
  return out.empty() ? "(the source's shape)" : out;
}

// A cut's shape depends on its sizes alone, so any selection of them gives it: a seeded random
// one, which keeps what every depth cut keeps (target.h).
Cut cut_to(const model::ModelSpec& s, const prune::Target& t, const std::string& note) {
  prune::check_target(s, t);
  return {t, prune::selected_spec(s, prune::random_selection(s, t, 0)), note};
}

// Without weights no shape can be scored, so the search's own first choice: of the shapes within
// 2% of the largest under the budget, the most even cut (shape_search.h). The largest alone
// tends to gut one axis (6 of 32 heads) for a fraction of a percent more parameters.
Cut budget_cut(const model::ModelSpec& s, int64_t budget, prune::Method method) {
  const prune::LayerChoice layers = [&](int64_t n) { return prune::random_selection(s, prune::Target{n}, 0).layers; };
  const std::vector<prune::Shape> shapes =
      prune::candidate_shapes(s, budget, layers, method != prune::Method::kDepth, true, INT64_MAX);
  return cut_to(s, shapes.front().target,
                "the most even of " + std::to_string(shapes.size()) +
                    " shapes within 2% of the largest under the budget (unscored: config only)");
}

// ---- memory ----

// Elements one token leaves in one layer for the backward pass, per block (an estimate from the
// shapes, not a measurement): attention keeps its norm's input and output (2d), q and its output
// (2 q_dim) and k and v (2 kv_dim), and in eager attention (the CPU's) the softmax probabilities
// (n_heads x seq_len); the MLP keeps its norm's input and output (2d), gate and up (2 ffn), and
// act(gate) and the product (2 ffn). A layer reading another's keys and values keeps none of its own.
// A Gated DeltaNet keeps its norm's input and output (2d), the q, k, v projections before and after
// the conv (2 (2 Ck + Cv)), z, the heads' outputs before and after the gated norm (3 Cv), beta and
// g (2 nv), and per value head the chunked form's three 64 x 64 products, q and k repeated to it
// and U, W (nv (3 x 64 + 2 dk + 2 dv)).
double layer_elements(const model::LayerSpec& l, int64_t hidden, int64_t seq_len, bool eager) {
  double e = 0;
  if (l.kind == model::LayerKind::kLinearAttention) {
    const model::DeltaNetSpec& d = l.deltanet;
    const double nv = double(d.value_heads), cv = nv * double(d.value_dim);
    const double qkv = 2.0 * double(d.key_heads * d.key_dim) + cv;
    e += 2.0 * hidden + 2 * qkv + 3 * cv + 2 * nv + nv * (3 * 64 + 2.0 * double(d.key_dim + d.value_dim));
  }
  if (l.n_heads > 0) {
    const double q = double(l.n_heads * l.head_dim),
                 kv = l.kv_source < 0 ? double(l.n_kv_heads * l.head_dim) * (l.k_eq_v ? 0.5 : 1.0) : 0;
    e += 2.0 * hidden + 2 * q + 2 * kv + (eager ? double(l.n_heads) * double(seq_len) : 0);
  }
  if (l.ffn_dim > 0) e += 2.0 * hidden + 4.0 * double(l.ffn_dim);
  return e;
}

// bytes = rows x seq_len x activation bytes x per-token elements, rows the micro-batch, where
// per-token elements are: all layers' (plus the final norm's 2d) in training; with
// checkpoint_layers, each layer's input (d per layer) plus the widest layer's, recomputed one at
// a time; forward only, the widest layer's working set. The head's logits are computed in chunks
// and left out.
int64_t activation_bytes(const PhasePlan& p, const model::ModelSpec& s, const DevicePlan& d) {
  const bool eager = d.device != "cuda";
  double all = 0, widest = 0;
  for (const model::LayerSpec& l : s.layers) {
    const double e = layer_elements(l, s.hidden_size, p.seq_len, eager);
    all += e;
    widest = std::max(widest, e);
  }
  const double head = 2.0 * double(s.hidden_size);
  const double per_token = !p.backward           ? widest + head
                           : p.checkpoint_layers ? double(s.n_layers() * s.hidden_size) + widest + head
                                                 : all + head;
  const int64_t rows = p.micro_batch > 0 ? p.micro_batch : p.batch;
  return std::llround(per_token * double(rows * p.seq_len) * (d.bf16 ? 2 : 4));
}

// What one device holds in the phase (every data-parallel rank holds a whole replica). A phase
// that trains weights keeps, per parameter, its gradient summed in fp32 on the master, plus in
// bf16 the bf16 gradient each backward leaves on the parameter first, and AdamW's two fp32
// moments, plus in bf16 the fp32 master the step updates (train/master_weights.h). Frozen
// weights keep none of these; the masks that train are too few to count.
Json phase_memory(const PhasePlan& p, const model::ModelSpec& trained, int64_t teacher_params, const DevicePlan& d) {
  const int64_t n = model::parameter_count(trained), width = d.bf16 ? 2 : 4;
  const bool trains = p.backward && !p.frozen_weights;
  const int64_t weights = n * width, gradients = trains ? n * (d.bf16 ? 6 : 4) : 0,
                optimizer = trains ? n * (d.bf16 ? 12 : 8) : 0, activations = activation_bytes(p, trained, d),
                teacher = p.teacher ? teacher_params * width : 0;
  const int64_t total = weights + gradients + optimizer + activations + teacher;
  return {{"weights", weights},
          {"gradients", gradients},
          {"optimizer", optimizer},
          {"activations", activations},
          {"teacher", teacher},
          {"total", total},
          {"fits", d.memory_gb > 0 ? Json(double(total) <= d.memory_gb * kGiB) : Json()}};
}

// FLOPs: 6 N per trained position (forward, backward), 2 N forward only, plus the teacher's
// forward, 2 N_teacher; spread over every device at its sustained rate.
double phase_hours(const PhasePlan& p, int64_t n, int64_t teacher_params, const DevicePlan& d) {
  const double tokens = double(p.tokens);
  const double flops =
      (p.backward ? 6.0 : 2.0) * double(n) * tokens + (p.teacher ? 2.0 * double(teacher_params) * tokens : 0);
  return flops / (d.flops_per_second * double(d.gpus)) / 3600.0;
}

// ---- the one-shot loss ----

struct Losses {
  Json source, cut;
};

// The mean next-token loss over the task records of the candidate and of its one-shot cut to
// `shape`, calibrated on the records' first rows. The calibration rows are among those
// measured: a ranking signal between candidates, not a held-out score (and only comparable
// between candidates that share a tokenizer).
Losses one_shot_losses(const Candidate& c, const prune::Target& shape, const FeasibilityConfig& config,
                       const prune::MethodOptions& how) {
  if (config.data.empty() || !c.weights) return {};
  model::Transformer net = model::load_model(c.dir, {torch::kFloat32, torch::Device(config.device.device)});
  const std::vector<text::Example> examples = train::read_examples(config.data, text::Encoder(c.dir));
  train::check_token_ids(examples, net->spec().input_vocab_size(), config.data);
  const prune::CalibrationOptions calibration{config.calibration_rows, config.seq_len, config.calibration_rows};
  const std::vector<torch::Tensor> batches = prune::calibration_batches(examples, calibration, config.data);
  const std::vector<text::Example> rows = train::split_documents(examples, config.seq_len);
  std::vector<int64_t> all(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) all[i] = int64_t(i);
  Losses out;
  out.source = train::mean_loss(net, rows, all, config.seq_len, config.calibration_rows);
  prune::OneShotOptions options;
  options.how = how;
  prune::Goal goal;
  goal.shape = shape;
  prune::OneShot cut = prune::prune_once(net, options, goal, batches);
  out.cut = train::mean_loss(cut.model, rows, all, config.seq_len, config.calibration_rows);
  return out;
}

// ---- rows ----

Json empty_row(const Candidate& c, const FeasibilityConfig& config) {
  return {
      {"rank", 0},
      {"name", c.name},
      {"dir", c.dir},
      {"class", c.cls},
      {"supported", false},
      {"reason", c.reason},
      {"family", c.spec ? Json(c.spec->family) : Json()},
      {"params", c.spec ? Json(model::parameter_count(*c.spec)) : Json()},
      {"weights", c.weights},
      {"target", {{"text", config.target}, {"shape", nullptr}, {"params", nullptr}, {"share", nullptr}, {"note", ""}}},
      {"memory", nullptr},
      {"fits", nullptr},
      {"hours", nullptr},
      {"cost", nullptr},
      {"total_hours", nullptr},
      {"total_cost", nullptr},
      {"within_cap", nullptr},
      {"one_shot_loss", nullptr},
      {"source_loss", nullptr}};
}

// Memory, hours and cost of every phase, on the candidate or the cut as the phase says.
void add_phases(Json& row, const model::ModelSpec& source, const model::ModelSpec& cut,
                const FeasibilityConfig& config) {
  const int64_t teacher = model::parameter_count(source);
  Json memory = Json::object(), hours = Json::object(), cost = Json::object();
  Json fits = config.device.memory_gb > 0 ? Json(true) : Json();
  double total_hours = 0, total_cost = 0;
  for (const PhasePlan& p : config.phases) {
    const model::ModelSpec& trained = p.on_target ? cut : source;
    memory[p.name] = phase_memory(p, trained, teacher, config.device);
    if (memory[p.name]["fits"] == false) fits = false;
    const double h = phase_hours(p, model::parameter_count(trained), teacher, config.device);
    hours[p.name] = h;
    cost[p.name] = h * double(config.device.gpus) * config.device.price_per_hour;
    total_hours += h;
    total_cost += cost[p.name].get<double>();
  }
  row["memory"] = memory;
  row["fits"] = fits;
  row["hours"] = hours;
  row["cost"] = cost;
  row["total_hours"] = total_hours;
  row["total_cost"] = total_cost;
  row["within_cap"] = config.cost_cap <= 0 || total_cost <= config.cost_cap;
}

Json candidate_row(const Candidate& c, const FeasibilityConfig& config, const prune::Goal& goal,
                   const prune::MethodOptions& how) {
  Json row = empty_row(c, config);
  if (!c.spec) return row;
  const model::ModelSpec& s = *c.spec;
  std::optional<Cut> cut;
  try {
    if (goal.shape) prune::check_method(s, how, goal.shape);
    cut = goal.shape ? cut_to(s, *goal.shape, "") : budget_cut(s, goal.budget, how.method);
  } catch (const Error& e) {
    row["reason"] = std::string("target: ") + e.what();
    return row;
  }
  const int64_t params = model::parameter_count(cut->spec);
  if (params >= model::parameter_count(s)) {  // as a progressive run refuses it: targets must shrink
    row["reason"] = "target: " + config.target + " keeps all " + std::to_string(params) + " parameters: nothing to cut";
    return row;
  }
  row["supported"] = true;
  row["target"] = {{"text", config.target},
                   {"shape", shape_text(cut->target)},
                   {"params", params},
                   {"share", double(params) / double(model::parameter_count(s))},
                   {"note", cut->note}};
  add_phases(row, s, cut->spec, config);
  const Losses losses = one_shot_losses(c, cut->target, config, how);
  row["one_shot_loss"] = losses.cut;
  row["source_loss"] = losses.source;
  return row;
}

// ---- the plan ----

void check_plan(const FeasibilityConfig& c) {
  if (c.candidates.empty()) bad_plan("no candidates");
  std::set<std::string> names;
  for (const PhasePlan& p : c.phases) {
    const std::string at = "phase '" + p.name + "': ";
    if (p.name.empty()) bad_plan("a phase without a name");
    if (!names.insert(p.name).second) bad_plan(at + "named twice");
    if (p.tokens < 0) bad_plan(at + "tokens must not be negative");
    if (p.batch <= 0 || p.seq_len <= 0) bad_plan(at + "batch and seq_len must be positive");
    if (p.micro_batch < 0 || p.micro_batch > p.batch) bad_plan(at + "micro_batch must be in [0, batch]");
  }
  const DevicePlan& d = c.device;
  if (d.device != "cpu" && d.device != "cuda") bad_plan("device '" + d.device + "' (cpu or cuda)");
  if (d.gpus < 1 || d.flops_per_second <= 0 || d.memory_gb < 0 || d.price_per_hour < 0)
    bad_plan("the device needs gpus >= 1, flops_per_second > 0, memory_gb and price_per_hour >= 0");
  if (c.cost_cap < 0) bad_plan("cost_cap must not be negative");
  if (c.calibration_rows <= 0 || c.seq_len <= 0) bad_plan("calibration_rows and seq_len must be positive");
}

Json plan_json(const FeasibilityConfig& c) {
  const DevicePlan& d = c.device;
  Json phases = Json::array();
  for (const PhasePlan& p : c.phases)
    phases.push_back({{"name", p.name},
                      {"tokens", p.tokens},
                      {"backward", p.backward},
                      {"on_target", p.on_target},
                      {"teacher", p.teacher},
                      {"frozen_weights", p.frozen_weights},
                      {"batch", p.batch},
                      {"micro_batch", p.micro_batch},
                      {"seq_len", p.seq_len},
                      {"checkpoint_layers", p.checkpoint_layers}});
  return {{"candidates", Json::array()},
          {"target", c.target},
          {"cost_cap", c.cost_cap},
          {"device",
           {{"device", d.device},
            {"gpus", d.gpus},
            {"memory_gb", d.memory_gb},
            {"flops_per_second", d.flops_per_second},
            {"price_per_hour", d.price_per_hour},
            {"bf16", d.bf16}}},
          {"phases", phases}};
}

// The ranking's order: supported, fits, within the cap, a lower one-shot loss (rows with one
// first), a lower total cost.
bool ranks_before(const Json& a, const Json& b) {
  const auto flag = [](const Json& r, const char* key) { return r[key] != false; };  // null: not checked
  if (a["supported"] != b["supported"]) return a["supported"] == true;
  if (flag(a, "fits") != flag(b, "fits")) return flag(a, "fits");
  if (flag(a, "within_cap") != flag(b, "within_cap")) return flag(a, "within_cap");
  const bool la = a["one_shot_loss"].is_number(), lb = b["one_shot_loss"].is_number();
  if (la != lb) return la;
  if (la && a["one_shot_loss"] != b["one_shot_loss"])
    return a["one_shot_loss"].get<double>() < b["one_shot_loss"].get<double>();
  const auto cost = [](const Json& r) {
    return r["total_cost"].is_number() ? r["total_cost"].get<double>() : INFINITY;
  };
  return cost(a) < cost(b);
}

std::string number(const Json& v, const char* format, double scale = 1) {
  if (!v.is_number()) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, format, v.get<double>() * scale);
  return buf;
}

std::string peak_gib(const Json& memory) {
  if (!memory.is_object() || memory.empty()) return "-";
  int64_t peak = 0;
  for (const auto& [name, m] : memory.items()) peak = std::max(peak, m["total"].get<int64_t>());
  return number(Json(double(peak)), "%.1f", 1.0 / kGiB);
}

std::string yes_no(const Json& v) {
  return v.is_boolean() ? (v.get<bool>() ? "yes" : "no") : "-";
}

}  // namespace

std::string architecture_class(const nlohmann::json& config) {
  if (!config.is_object()) return "unknown";
  const json c = text_view(config);
  if (is_hybrid(c)) return "hybrid";
  if (is_moe(c)) return "moe";
  if (is_registered(c) || has_dense_keys(c)) return "dense";
  return "unknown";
}

std::string class_reason(const nlohmann::json& config) {
  const std::string cls = architecture_class(config);
  const json c = cls == "unknown" ? json::object() : text_view(config);
  if (is_moe(c)) return "MoE: not prunable yet (mixture of experts)";
  if (cls == "hybrid" && !is_registered(c))
    return "hybrid linear attention of a family Bespoke does not read (it prunes Qwen 3.5's Gated DeltaNet hybrids "
           "and dense transformers)";
  if (cls != "unknown") return "";
  return "not a decoder-only transformer config Bespoke recognises (no hidden_size, num_hidden_layers, "
         "num_attention_heads and intermediate_size)";
}

Json feasibility(const FeasibilityConfig& config) {
  check_plan(config);
  const prune::Goal goal = parse_goal(config.target);
  prune::MethodOptions how;
  how.method = prune::method_names().parse(config.method);
  std::vector<Json> rows;
  for (const auto& [name, dir] : config.candidates) {
    try {
      rows.push_back(candidate_row(read_candidate(name, dir), config, goal, how));
    } catch (const Error& e) {
      throw with_context(e, "candidate " + name);
    }
  }
  std::stable_sort(rows.begin(), rows.end(), ranks_before);
  Json out = plan_json(config);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i]["rank"] = int64_t(i + 1);
    out["candidates"].push_back(rows[i]);
  }
  return out;
}

std::string feasibility_table(const Json& f) {
  size_t width = 4;
  for (const Json& r : f["candidates"]) width = std::max(width, r["name"].get<std::string>().size());
  char line[256];
  std::snprintf(line, sizeof line, "%4s  %-*s  %-7s  %-3s  %14s  %14s  %6s  %8s  %4s  %9s  %10s  %3s  %7s  ", "rank",
                int(width), "name", "class", "ok", "params", "target params", "share", "peak GiB", "fits", "hours",
                "cost", "cap", "loss");
  std::string out = std::string(line) + "shape / reason\n";
  for (const Json& r : f["candidates"]) {
    const Json& t = r["target"];
    const std::string note =
        r["supported"] == true
            ? t["shape"].get<std::string>() +
                  (t["note"].get<std::string>().empty() ? "" : " (" + t["note"].get<std::string>() + ")")
            : r["reason"].get<std::string>();
    std::snprintf(line, sizeof line, "%4lld  %-*s  %-7s  %-3s  %14s  %14s  %6s  %8s  %4s  %9s  %10s  %3s  %7s  ",
                  (long long)r["rank"].get<int64_t>(), int(width), r["name"].get<std::string>().c_str(),
                  r["class"].get<std::string>().c_str(), yes_no(r["supported"]).c_str(),
                  number(r["params"], "%.0f").c_str(), number(t["params"], "%.0f").c_str(),
                  number(t["share"], "%.1f%%", 100).c_str(), peak_gib(r["memory"]).c_str(), yes_no(r["fits"]).c_str(),
                  number(r["total_hours"], "%.2f").c_str(), number(r["total_cost"], "%.2f").c_str(),
                  yes_no(r["within_cap"]).c_str(), number(r["one_shot_loss"], "%.4f").c_str());
    out += line + note + "\n";
  }
  return out;
}

}  // namespace bespoke::pipeline
