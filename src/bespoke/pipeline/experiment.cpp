#include "bespoke/pipeline/experiment.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "bespoke/core/error.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/pipeline/progressive.h"
#include "bespoke/prune/method.h"
#include "bespoke/prune/shape_search.h"
#include "bespoke/prune/target.h"
#include "bespoke/task/encoding/grammar.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;

// One table of the file: values are taken by name, and whatever is left untaken when the table
// is closed is an unknown key, named with its path ("prune.traget").
class Table {
 public:
  Table(const toml::table* table, std::string path, std::string file)
      : table_(table), path_(std::move(path)), file_(std::move(file)) {}

  [[noreturn]] void fail_at(const std::string& key, const std::string& reason) const {
    fail(ErrorKind::kInput, file_ + ": " + name(key) + ": " + reason);
  }
  std::string name(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool has(const std::string& key) const { return table_ && table_->contains(key); }

  void get(const std::string& key, std::string& out) { out = take<std::string>(key, "a string").value_or(out); }
  void get(const std::string& key, bool& out) { out = take<bool>(key, "true or false").value_or(out); }
  void get(const std::string& key, int64_t& out, int64_t min = 0) {
    out = take<int64_t>(key, "an integer").value_or(out);
    if (out < min) fail_at(key, "must be at least " + std::to_string(min) + ", not " + std::to_string(out));
  }
  void get(const std::string& key, uint64_t& out) {
    int64_t v = static_cast<int64_t>(out);
    get(key, v);
    out = static_cast<uint64_t>(v);
  }
  // Integers are numbers too: `cost_cap = 150`.
  void get(const std::string& key, double& out, double min = 0) {
    if (!has(key)) return;
    seen_.insert(key);
    const toml::node& n = *table_->get(key);
    if (n.is_integer())
      out = static_cast<double>(*n.value<int64_t>());
    else if (n.is_floating_point())
      out = *n.value<double>();
    else
      fail_at(key, "must be a number");
    if (!(out >= min)) fail_at(key, "must be at least " + format(min));
  }
  // A path, taken from the experiment file's directory when relative.
  void path(const std::string& key, std::string& out, const std::string& dir) {
    get(key, out);
    if (!out.empty() && fs::path(out).is_relative() && has(key)) out = (fs::path(dir) / out).lexically_normal().string();
  }
  template <typename T>
  void list(const std::string& key, std::vector<T>& out, const char* what) {
    if (!has(key)) return;
    seen_.insert(key);
    const toml::array* a = table_->get(key)->as_array();
    if (!a) fail_at(key, std::string("must be an array of ") + what);
    out.clear();
    for (const toml::node& n : *a) {
      std::optional<T> v;
      if constexpr (std::is_same_v<T, double>)
        v = n.is_integer() ? std::optional<double>(static_cast<double>(*n.value<int64_t>())) : n.value<double>();
      else if constexpr (std::is_same_v<T, uint64_t>)
        v = n.is_integer() && *n.value<int64_t>() >= 0 ? std::optional<uint64_t>(*n.value<int64_t>()) : std::nullopt;
      else
        v = n.value<T>();
      if (!v) fail_at(key, std::string("must be an array of ") + what);
      out.push_back(*v);
    }
  }
  // The sub-table `key`, or an empty one.
  Table table(const std::string& key) {
    if (!has(key)) return Table(nullptr, name(key), file_);
    seen_.insert(key);
    const toml::table* t = table_->get(key)->as_table();
    if (!t) fail_at(key, "must be a table");
    return Table(t, name(key), file_);
  }
  // The array of tables `key` ([[key]]).
  std::vector<Table> tables(const std::string& key) {
    std::vector<Table> out;
    if (!has(key)) return out;
    seen_.insert(key);
    const toml::array* a = table_->get(key)->as_array();
    if (!a || !a->is_array_of_tables()) fail_at(key, "must be an array of tables ([[" + name(key) + "]])");
    for (size_t i = 0; i < a->size(); ++i)
      out.emplace_back(a->get(i)->as_table(), name(key) + "[" + std::to_string(i) + "]", file_);
    return out;
  }
  // The table's keys other than these are unknown, before any is read.
  void close_except(std::initializer_list<const char*> keys) {
    seen_.insert(keys.begin(), keys.end());
    close();
  }
  // Every key read: anything else is a mistake, most often a misspelling. Called before a
  // table's values are checked, so that a misspelt key is named as such.
  void close() const {
    if (!table_) return;
    for (const auto& [k, v] : *table_)
      if (!seen_.count(std::string(k.str()))) fail_at(std::string(k.str()), "unknown key");
  }

 private:
  template <typename T>
  std::optional<T> take(const std::string& key, const char* what) {
    if (!has(key)) return std::nullopt;
    seen_.insert(key);
    std::optional<T> v = table_->get(key)->value_exact<T>();
    if (!v) fail_at(key, std::string("must be ") + what);
    return v;
  }
  static std::string format(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  }

  const toml::table* table_;
  std::string path_, file_;
  std::set<std::string> seen_;
};

// Runs `check`, rethrowing its Error as one naming the key.
void at_key(const Table& t, const std::string& key, const std::function<void()>& check) {
  try {
    check();
  } catch (const Error& e) {
    t.fail_at(key, e.what());
  }
}

void read_run(Table t, RunSettings& r) {
  t.get("seed", r.seed);
  t.get("device", r.device);
  std::string dtype = r.bf16 ? "bf16" : "f32";
  t.get("dtype", dtype);
  t.get("gpus", r.gpus, 1);
  t.get("seq_len", r.seq_len, 8);
  t.get("batch", r.batch, 1);
  t.get("micro_batch", r.micro_batch);
  t.get("checkpoint_layers", r.checkpoint_layers);
  t.get("base", r.base);
  t.close();
  if (r.device != "cpu" && r.device.rfind("cuda", 0) != 0) t.fail_at("device", "must be cpu, cuda or cuda:N");
  if (dtype != "f32" && dtype != "bf16") t.fail_at("dtype", "must be f32 or bf16");
  r.bf16 = dtype == "bf16";
  if (r.micro_batch > 0 && r.batch % r.micro_batch != 0) t.fail_at("micro_batch", "must divide run.batch");
}

void read_budget(Table t, Budget& b) {
  t.get("price_per_gpu_hour", b.price_per_gpu_hour);
  t.get("cost_cap", b.cost_cap);
  t.get("flops_per_second", b.flops_per_second, 1);
  t.get("memory_gb", b.memory_gb);
  t.get("minutes", b.minutes);
  t.get("tokens", b.tokens);
  t.get("steps", b.steps);
  t.close();
  if (b.cost_cap > 0 && b.price_per_gpu_hour == 0)
    t.fail_at("cost_cap", "needs budget.price_per_gpu_hour to turn device-hours into money");
}

void read_scratch(Table t, Scratch& s, const std::string& dir) {
  t.path("tokenizer", s.tokenizer, dir);
  t.get("vocab", s.vocab, 256);
  t.get("digits", s.digits);
  t.get("hidden", s.hidden, 8);
  t.get("layers", s.layers, 1);
  t.get("heads", s.heads, 1);
  t.get("kv_heads", s.kv_heads, 1);
  t.get("ffn", s.ffn, 1);
  t.get("steps", s.steps, 1);
  t.get("lr", s.lr);
  t.get("warmup", s.warmup);
  t.close();
  if (s.digits != 0 && s.digits != 3) t.fail_at("digits", "must be 0 (the base's rule) or 3");
  if (s.hidden % s.heads != 0) t.fail_at("hidden", "must be a multiple of scratch.heads");
  if (s.heads % s.kv_heads != 0) t.fail_at("heads", "must be a multiple of scratch.kv_heads");
  if (s.tokenizer.empty()) t.fail_at("tokenizer", "is required for a candidate trained from scratch");
}

void read_data(Table t, DataSettings& d, const std::string& dir) {
  t.path("task", d.task, dir);
  t.path("eval", d.eval, dir);
  t.get("generate_train", d.generate_train);
  t.get("generate_eval", d.generate_eval);
  t.path("prompt_template", d.prompt_template, dir);
  std::vector<Table> domains = t.tables("domains");
  t.close();
  if (d.task.empty() == (d.generate_train == 0)) t.fail_at("task", "give data.task or data.generate_train, one of them");
  if (d.eval.empty() && d.generate_eval == 0) t.fail_at("eval", "give data.eval or data.generate_eval");
  for (Table& dt : domains) {
    Domain m;
    dt.get("name", m.name);
    dt.get("weight", m.weight);
    dt.get("task", m.task);
    dt.path("jsonl", m.jsonl, dir);
    dt.path("source_dir", m.source_dir, dir);
    dt.get("suffix", m.suffix);
    dt.get("max_records", m.max_records);
    dt.get("record_chars", m.record_chars, 64);
    dt.close();
    if (m.name.empty()) dt.fail_at("name", "is required");
    const int sources = int(m.task) + int(!m.jsonl.empty()) + int(!m.source_dir.empty());
    if (sources != 1) dt.fail_at("name", "a domain takes exactly one of task = true, jsonl, source_dir");
    if (!(m.weight > 0)) dt.fail_at("weight", "must be positive");
    for (const Domain& o : d.domains)
      if (o.name == m.name) dt.fail_at("name", "\"" + m.name + "\" is already a domain");
    d.domains.push_back(m);
  }
  bool has_task = d.domains.empty();
  for (const Domain& m : d.domains) has_task = has_task || m.task;
  if (!has_task) t.fail_at("domains", "one domain must be the task's (task = true)");
}

void read_prune(Table t, PruneSettings& p) {
  t.get("method", p.method);
  t.get("target", p.target);
  t.get("params", p.params);
  t.get("targets", p.targets);
  t.get("steps", p.steps);
  t.get("round_steps", p.round_steps, 1);
  t.get("freeze_weights", p.freeze_weights);
  t.get("mask_lr", p.mask_lr);
  t.get("lambda_lr", p.lambda_lr);
  t.close();
  if (p.method != "l0") at_key(t, "method", [&] { prune::method_names().parse(p.method); });
  if (int(!p.target.empty()) + int(!p.params.empty()) + int(!p.targets.empty()) != 1)
    t.fail_at("target", "give exactly one of prune.target, prune.params, prune.targets");
  if (!p.target.empty()) at_key(t, "target", [&] { prune::parse_target(p.target); });
  if (!p.params.empty()) at_key(t, "params", [&] { prune::parse_param_count(p.params); });
  if (!p.targets.empty()) at_key(t, "targets", [&] { parse_round_targets(p.targets); });
  if (p.method == "l0") {
    if (p.target.empty()) t.fail_at("target", "learned masks (l0) need a shape: prune.target");
    if (p.steps < 1) t.fail_at("steps", "learned masks (l0) need prune.steps >= 1");
  } else if (t.has("steps") || t.has("freeze_weights")) {
    t.fail_at(t.has("steps") ? "steps" : "freeze_weights", "applies to method \"l0\" only");
  }
}

void read_gate(Table t, GateSettings& g, const std::string& dir) {
  t.path("baseline_report", g.baseline_report, dir);
  t.path("baseline_model", g.baseline_model, dir);
  t.get("baseline_server", g.baseline_server);
  t.get("items", g.items, 1);
  t.get("max_new_tokens", g.max_new_tokens, 1);
  t.get("max_worse", g.max_worse);
  t.get("hard_targets", g.hard_targets);
  t.get("stop", g.stop);
  t.close();
  const int64_t shortest = static_cast<int64_t>(task::encoding::RecordGrammar().completion_length());
  if (g.max_new_tokens < shortest)
    t.fail_at("max_new_tokens", "must be at least " + std::to_string(shortest) +
                                    ", the tokens the shortest record under the grammar may take");
  if (int(!g.baseline_report.empty()) + int(!g.baseline_model.empty()) + int(!g.baseline_server.empty()) > 1)
    t.fail_at("baseline_report", "give at most one of baseline_report, baseline_model, baseline_server");
}

void read_lottery(Table t, LotterySettings& l) {
  t.get("enabled", l.enabled);
  t.get("steps", l.steps);
  t.list("lrs", l.lrs, "positive numbers");
  t.get("sweep_steps", l.sweep_steps);
  t.list("seeds", l.seeds, "non-negative integers");
  t.get("eval_points", l.eval_points, 2);
  t.get("max_multiple", l.max_multiple, 1);
  t.get("task_items", l.task_items);
  t.close();
  for (double lr : l.lrs)
    if (!(lr > 0)) t.fail_at("lrs", "must be positive");
  if (l.enabled && l.seeds.size() < 2) t.fail_at("seeds", "needs at least 2 seeds, to tell an arm from its noise");
}

void read_export(Table t, ExportSettings& e, const std::string& dir) {
  t.list("types", e.types, "strings");
  t.path("interop", e.interop, dir);
  t.close();
  for (const std::string& type : e.types)
    if (type != "f32" && type != "f16" && type != "bf16" && type != "q8_0" && type != "q4_0")
      t.fail_at("types", "\"" + type + "\" is none of f32, f16, bf16, q8_0, q4_0");
}

void require_path(const Table& t, const std::string& key, const std::string& path) {
  if (!path.empty() && !fs::exists(path)) t.fail_at(key, path + " does not exist");
}

// What can be checked against the files themselves: that they exist, and that each candidate
// with a config can be cut to the target.
void check_paths_and_targets(Table& root, const Experiment& e) {
  Table data = root.table("data"), gate = root.table("gate"), scratch = root.table("scratch");
  require_path(data, "task", e.data.task);
  require_path(data, "eval", e.data.eval);
  require_path(data, "prompt_template", e.data.prompt_template);
  for (size_t i = 0; i < e.data.domains.size(); ++i) {
    const Domain& d = e.data.domains[i];
    Table dt = data.tables("domains")[i];
    require_path(dt, "jsonl", d.jsonl);
    require_path(dt, "source_dir", d.source_dir);
  }
  require_path(gate, "baseline_report", e.gate.baseline_report);
  require_path(gate, "baseline_model", e.gate.baseline_model);
  require_path(scratch, "tokenizer", e.scratch.tokenizer);
  std::vector<Table> cts = root.tables("candidates");
  for (size_t i = 0; i < e.candidates.size(); ++i) {
    const Candidate& c = e.candidates[i];
    if (c.scratch) continue;
    const std::string config = c.model + "/config.json";
    if (!fs::exists(config)) cts[i].fail_at("model", config + " does not exist");
    if (e.prune.target.empty()) continue;
    // A class Bespoke does not read is Phase 0's to report, not a reason to refuse the file.
    model::ModelSpec spec;
    try {
      spec = model::read_hf_config(c.model);
    } catch (const Error&) {
      continue;
    }
    Table prune = root.table("prune");
    at_key(prune, "target", [&] { prune::check_target(spec, prune::parse_target(e.prune.target)); });
  }
}

}  // namespace

Experiment parse_experiment(const std::string& text, const std::string& dir, const std::string& name) {
  toml::table doc;
  try {
    doc = toml::parse(text, name);
  } catch (const toml::parse_error& err) {
    const auto& where = err.source().begin;
    fail(ErrorKind::kInput, name + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
                                std::string(err.description()));
  }
  Experiment e;
  e.path = name;
  Table root(&doc, "", name);
  root.close_except({"run", "budget", "candidates", "scratch", "data", "finetune", "importance", "prune", "recover",
                     "gate", "lottery", "export"});
  read_run(root.table("run"), e.run);
  read_budget(root.table("budget"), e.budget);
  std::vector<Table> cts = root.tables("candidates");
  if (cts.empty()) root.fail_at("candidates", "at least one [[candidates]] table is required");
  bool any_scratch = false;
  for (Table& ct : cts) {
    Candidate c;
    ct.get("name", c.name);
    ct.path("model", c.model, dir);
    ct.get("scratch", c.scratch);
    ct.close();
    if (c.name.empty()) ct.fail_at("name", "is required");
    if (c.scratch == !c.model.empty()) ct.fail_at("model", "give model (a directory) or scratch = true, one of them");
    for (const Candidate& o : e.candidates)
      if (o.name == c.name) ct.fail_at("name", "\"" + c.name + "\" is already a candidate");
    any_scratch = any_scratch || c.scratch;
    e.candidates.push_back(c);
  }
  if (!e.run.base.empty()) {
    bool found = false;
    for (const Candidate& c : e.candidates) found = found || c.name == e.run.base;
    if (!found) root.table("run").fail_at("base", "\"" + e.run.base + "\" is no candidate's name");
  }
  if (any_scratch)
    read_scratch(root.table("scratch"), e.scratch, dir);
  else if (root.has("scratch"))
    root.fail_at("scratch", "applies only to a candidate with scratch = true");
  read_data(root.table("data"), e.data, dir);
  {
    Table t = root.table("finetune");
    t.get("steps", e.finetune.steps);
    t.get("lr", e.finetune.lr);
    t.get("warmup", e.finetune.warmup);
    t.close();
  }
  {
    Table t = root.table("importance");
    t.get("samples", e.importance.samples, 1);
    t.close();
  }
  if (!root.has("prune")) root.fail_at("prune", "a [prune] table with the target is required");
  read_prune(root.table("prune"), e.prune);
  {
    Table t = root.table("recover");
    t.get("steps", e.recover.steps, 1);
    t.get("lr", e.recover.lr);
    t.get("warmup", e.recover.warmup);
    t.get("kd_weight", e.recover.kd_weight);
    t.get("mix_every", e.recover.mix_every);
    t.get("save_every", e.recover.save_every);
    t.close();
    if (e.recover.kd_weight > 1) t.fail_at("kd_weight", "must be between 0 and 1");
    if (e.recover.mix_every > 0 && e.data.domains.size() < 2)
      t.fail_at("mix_every", "dynamic batch loading needs two domains or more in [[data.domains]]");
  }
  read_gate(root.table("gate"), e.gate, dir);
  read_lottery(root.table("lottery"), e.lottery);
  read_export(root.table("export"), e.exporting, dir);

  check_paths_and_targets(root, e);
  return e;
}

Experiment read_experiment(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kInput, path + ": cannot read the experiment file");
  std::stringstream text;
  text << in.rdbuf();
  const std::string dir = fs::path(path).parent_path().string();
  return parse_experiment(text.str(), dir.empty() ? "." : dir, path);
}

}  // namespace bespoke::pipeline
