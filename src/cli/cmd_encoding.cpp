// bespoke data encoding --n N --seed S --out FILE.jsonl [--prompt-template F] [--force]
// bespoke eval encoding --data GOLD.jsonl (--model M | --server URL | --predictions P) --out REPORT.json
// bespoke gate --candidate A.json --baseline B.json
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/task/encoding/evaluate.h"
#include "bespoke/task/encoding/gate.h"
#include "bespoke/task/encoding/generator.h"
#include "bespoke/task/encoding/report.h"
#include "commands.h"
#include "common.h"

namespace bespoke::cli {
namespace {

namespace enc = task::encoding;

void refuse_overwrite(const std::string& path, bool force) {
  if (std::filesystem::exists(path) && !force) fail(ErrorKind::kUsage, path + " exists; pass --force to overwrite it");
}

enc::PromptTemplate prompt_template(const std::string& path) {
  return path.empty() ? enc::PromptTemplate::builtin() : enc::PromptTemplate::from_file(path);
}

enc::Json read_report(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kInput, path + ": cannot open");
  const enc::Json j = enc::Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(ErrorKind::kInput, path + ": not JSON");
  return j;
}

std::string percent(const enc::Json& v) {
  if (!v.is_number()) return "n/a";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v.get<double>());
  return buf;
}

// The few lines a person reads after an evaluation.
void print_summary(const enc::Json& r) {
  const enc::Json& m = r["metrics"];
  std::cout << "valid JSON  " << r["valid_json"] << "/" << r["n"] << "\n"
            << "EPR         " << percent(m["epr"]) << "  (target >= 90%)\n"
            << "FR          " << percent(m["fr"]) << "  (target <= 5%)  pooled " << percent(m["fr_pooled"]) << " of "
            << m["entities_out"] << " entities written\n"
            << "TED         " << m["ted_failures"] << " failures  (target 0)\n"
            << "NP          " << percent(m["np"]) << "  dense " << percent(m["np_dense"]) << "  (target > 95%)\n"
            << "SC          " << m["sc_pass"] << "/" << r["valid_json"] << "  (target 100%)\n"
            << "MIH         " << m["mih_pass"] << "/" << m["mih_total"] << "\n"
            << "CCS         " << m["ccs_pass"] << "/" << m["ccs_pairs"] << " pairs below 0.7\n";
  if (r["stress"].is_object())
    std::cout << "stress      " << r["stress"]["passed"] << "/" << r["stress"]["total"] << "\n";
  std::cout << "verdict     " << (r["verdict"]["pass"].get<bool>() ? "PASS" : "ISSUES FOUND") << "\n";
}

struct DataOptions {
  int64_t n = 1000;
  uint64_t seed = 0;
  std::string out, prompt_template;
  bool force = false;
};

void add_data(CLI::App& app) {
  auto opt = std::make_shared<DataOptions>();
  CLI::App* data = app.add_subcommand("data", "Make task data");
  data->require_subcommand(1);
  CLI::App* cmd =
      data->add_subcommand("encoding", "Synthetic encoding-task records with gold encodings, as chat JSONL");
  cmd->add_option("--n", opt->n, "records")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", opt->seed, "the same seed gives the same file")->capture_default_str();
  cmd->add_option("--out", opt->out, "JSONL file to write")->required();
  cmd->add_option("--prompt-template", opt->prompt_template, "the prompt's wording (see README)");
  cmd->add_flag("--force", opt->force, "overwrite an existing output");
  cmd->callback([opt] {
    refuse_overwrite(opt->out, opt->force);
    const auto records = enc::generate_encoding_records({opt->n, opt->seed}, prompt_template(opt->prompt_template));
    write_file_atomic(opt->out, [&](std::ostream& out) {
      for (const enc::Json& r : records) out << r.dump() << "\n";
    });
    std::cout << "wrote " << records.size() << " records to " << opt->out << "\n";
  });
}

struct EvalCliOptions {
  std::string data, model, server, predictions, out, prompt_template;
  std::string server_model = "bespoke", api_key;
  double temperature = 0;
  int64_t max_new_tokens = 2048;
  bool constrained = false, no_stress = false, force = false;
  RunOptions run;
};

void add_eval(CLI::App& app) {
  auto opt = std::make_shared<EvalCliOptions>();
  CLI::App* eval = app.add_subcommand("eval", "Evaluate a model on a task");
  eval->require_subcommand(1);
  CLI::App* cmd = eval->add_subcommand("encoding", "mnemonic's faithfulness metrics and stress test -> REPORT.json");
  cmd->add_option("--data", opt->data, "items: the generator's JSONL or mnemonic's probe layout")->required();
  CLI::Option* model = cmd->add_option("--model", opt->model, "a model directory or GGUF, run in-process");
  CLI::Option* server =
      cmd->add_option("--server", opt->server, "an OpenAI-compatible API base, e.g. http://localhost:8899/v1");
  CLI::Option* preds =
      cmd->add_option("--predictions", opt->predictions, "JSONL of {id, output}: score without a model");
  model->excludes(server)->excludes(preds);
  server->excludes(preds);
  cmd->add_option("--out", opt->out, "REPORT.json to write")->required();
  cmd->add_option("--prompt-template", opt->prompt_template, "the prompt's wording (see README)");
  cmd->add_flag("--constrained", opt->constrained, "decode through the record's JSON grammar (--model)");
  cmd->add_option("--max-new-tokens", opt->max_new_tokens, "per answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--server-model", opt->server_model, "the model name sent to --server")->capture_default_str();
  cmd->add_option("--temperature", opt->temperature, "sent to --server (0: left out, the server's default)");
  cmd->add_option("--api-key", opt->api_key, "bearer token for --server");
  cmd->add_flag("--no-stress", opt->no_stress, "skip the seven stress cases");
  cmd->add_flag("--force", opt->force, "overwrite an existing output");
  add_run_options(cmd, opt->run);
  cmd->callback([opt] {
    if (opt->model.empty() && opt->server.empty() && opt->predictions.empty())
      fail(ErrorKind::kUsage, "give one of --model, --server or --predictions");
    if (opt->constrained && opt->model.empty()) fail(ErrorKind::kUsage, "--constrained needs --model");
    refuse_overwrite(opt->out, opt->force);
    const std::vector<enc::Item> items = enc::load_items(opt->data);
    enc::Json report;
    if (!opt->predictions.empty()) {
      report = enc::evaluate_predictions(items, enc::load_predictions(opt->predictions));
    } else {
      enc::Respond respond;
      if (!opt->model.empty()) {
        respond = enc::local_responder({opt->model, opt->max_new_tokens, opt->constrained, load_options(opt->run)});
      } else {
        enc::ServerOptions s;
        s.url = opt->server;
        s.model = opt->server_model;
        s.max_tokens = opt->max_new_tokens;
        s.temperature = opt->temperature;
        s.api_key = opt->api_key;
        respond = enc::server_responder(s);
      }
      enc::EvalOptions eval;
      eval.prompt = prompt_template(opt->prompt_template);
      eval.stress = !opt->no_stress;
      eval.progress = [](size_t done, size_t total) { std::cerr << "answered " << done << "/" << total << "\n"; };
      report = enc::evaluate(items, respond, eval);
    }
    write_file_atomic(opt->out, [&](std::ostream& out) { out << report.dump(2) << "\n"; });
    print_summary(report);
  });
}

}  // namespace

void add_encoding(CLI::App& app) {
  add_data(app);
  add_eval(app);
}

void add_gate(CLI::App& app) {
  auto candidate = std::make_shared<std::string>(), baseline = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("gate", "Go/no-go: exit 0 if the candidate may replace the baseline, 1 if not");
  cmd->add_option("--candidate", *candidate, "REPORT.json of the candidate model")->required();
  cmd->add_option("--baseline", *baseline, "REPORT.json of the current model")->required();
  cmd->callback([candidate, baseline] {
    const enc::GateResult r = enc::gate(read_report(*candidate), read_report(*baseline));
    std::cout << enc::gate_table(r);
    if (!r.go) throw CLI::RuntimeError(1);
  });
}

}  // namespace bespoke::cli
