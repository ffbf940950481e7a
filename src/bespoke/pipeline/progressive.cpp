#include "bespoke/pipeline/progressive.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/quality_chart.h"
#include "bespoke/task/encoding/evaluate.h"
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
  std::cerr << "[progressive] " << line << "\n";
}

[[noreturn]] void bad(const std::string& why) {
  fail(ErrorKind::kInput, why);
}

// The non-blank lines of a JSONL file.
std::vector<std::string> records_of(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kIo, path + ": cannot open");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  return lines;
}

struct Split {
  std::string train, heldout;
};

// --data as it is with --eval-data; else every 10th record held out into OUT/data/.
Split split_data(const ProgressiveConfig& c) {
  if (!c.eval_data.empty()) return {c.data, c.eval_data};
  const std::vector<std::string> lines = records_of(c.data);
  if (lines.size() < 10)
    bad(c.data + ": " + std::to_string(lines.size()) +
        " records; give --eval-data, or at least 10 records to hold every 10th out");
  const fs::path dir = fs::path(c.out) / "data";
  fs::create_directories(dir);
  const Split split = {(dir / "train.jsonl").string(), (dir / "heldout.jsonl").string()};
  const auto write = [&](const std::string& path, bool held) {
    write_file_atomic(path, [&](std::ostream& out) {
      for (size_t i = 0; i < lines.size(); ++i)
        if ((i % 10 == 9) == held) out << lines[i] << "\n";
    });
  };
  write(split.train, false);
  write(split.heldout, true);
  return split;
}

// The held-out examples as the trainer cuts them (documents longer than a row in windows of it).
struct HeldOut {
  std::string path;
  std::vector<text::Example> examples;
  std::vector<int64_t> rows;
  int64_t tokens = 0;
  bool encoding_task = false;  // the records carry raw_input and gold_output
};

HeldOut read_heldout(const ProgressiveConfig& c, const std::string& path) {
  HeldOut h;
  h.path = path;
  h.examples = train::split_documents(train::read_examples(path, text::Encoder(c.source)), c.seq_len);
  train::check_token_ids(h.examples, model::read_hf_config(c.source).input_vocab_size(), path);
  for (size_t i = 0; i < h.examples.size(); ++i) h.rows.push_back(int64_t(i));
  h.tokens = train::trained_targets(h.examples, h.rows, c.seq_len);
  if (h.tokens == 0) bad(path + ": the held-out records train no token within --seq-len");
  const Json first = Json::parse(records_of(path).front(), nullptr, false);
  h.encoding_task = first.is_object() && first.contains("raw_input") && first.contains("gold_output");
  return h;
}

double heldout_loss(model::Transformer& net, const HeldOut& h, const ProgressiveConfig& c) {
  return train::mean_loss(net, h.examples, h.rows, c.seq_len, c.batch);
}

// The encoding report's headline numbers for the model in `dir`, on the first task_items items.
Json task_metrics(const std::string& dir, const HeldOut& h, const ProgressiveConfig& c) {
  return enc::model_headline(dir, h.path, c.task_items, c.task_max_new_tokens, c.prompt_template,
                             {torch::kFloat32, torch::Device(c.device)});
}

// Distils the cut in `student` from `teacher` for the configured tokens; the trained model ends
// up in `round_dir` itself.
Json recover(const ProgressiveConfig& c, const std::string& student, const std::string& teacher,
             const std::string& data, const fs::path& round_dir) {
  train::TrainConfig t;
  t.model = student;
  t.teacher = teacher;
  t.kd_weight = 1.0;  // the teacher's distribution alone: what the cut lost is what it knew
  t.data = data;
  t.out = (round_dir / "train").string();
  t.steps = recovery_steps(c.recover_tokens, c.batch, c.seq_len);
  t.seq_len = c.seq_len;
  t.batch = c.batch;
  t.schedule.peak = c.lr;
  t.schedule.warmup = t.steps / 10;
  t.seed = c.seed;
  t.device = c.device;
  t.keep = 1;
  t.log_every = std::max<int64_t>(t.steps / 10, 1);
  const std::atomic<bool> never{false};
  const train::TrainResult r = train::train(t, never);
  const fs::path final_dir = fs::path(t.out) / "final";
  for (const auto& e : fs::directory_iterator(final_dir)) fs::rename(e.path(), round_dir / e.path().filename());
  fs::remove(final_dir);
  return {{"teacher", teacher},
          {"student", student},
          {"steps", r.steps},
          {"tokens", r.tokens},
          {"first_loss", r.first_loss},
          {"final_loss", r.final_loss},
          {"run", t.out},
          {"lr", c.lr},
          {"seed", c.seed}};
}

std::string round_name(int round) {
  return "round-" + std::to_string(round);
}

}  // namespace

std::vector<RoundTarget> parse_round_targets(const std::string& text) {
  const char separator = text.find_first_of(";=") == std::string::npos ? ',' : ';';
  std::vector<RoundTarget> out;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, separator);) {
    if (item.empty()) bad("--targets '" + text + "': an empty item");
    RoundTarget t;
    t.text = item;
    try {
      if (item.find('=') != std::string::npos)
        t.goal.shape = prune::parse_target(item);
      else
        t.goal.budget = prune::parse_param_count(item);
    } catch (const Error& e) {
      throw with_context(e, "--targets " + item);
    }
    out.push_back(t);
  }
  if (out.empty()) bad("--targets: no targets");
  return out;
}

void check_round_targets(const model::ModelSpec& source, const prune::MethodOptions& how,
                         const std::vector<RoundTarget>& targets) {
  std::optional<model::ModelSpec> before = source;  // the model a round cuts, while its shape is known
  int64_t bound = model::parameter_count(source);   // its count, or the budget it was cut under
  std::string whose = "the source's " + std::to_string(bound);
  for (const RoundTarget& t : targets) {
    const std::string at = "--targets " + t.text + ": ";
    if (t.goal.shape && !before) continue;  // it cuts a model the shape search has yet to choose
    int64_t count = t.goal.budget;
    if (t.goal.shape) {
      try {
        prune::check_method(*before, how, t.goal.shape);
      } catch (const Error& e) {
        throw with_context(e, "--targets " + t.text);
      }
      before = prune::selected_spec(*before, prune::random_selection(*before, *t.goal.shape, 0));
      count = model::parameter_count(*before);
    }
    if (count >= bound)
      bad(at + std::to_string(count) + " parameters, not fewer than " + whose + ": targets must shrink");
    if (!t.goal.shape) {
      if (before && count < prune::embedding_params(*before))
        bad(at + "below the " + std::to_string(prune::embedding_params(*before)) +
            " parameters of the embeddings and output head alone");
      before.reset();
    }
    bound = count;
    whose =
        (t.goal.shape ? "the " + t.text + " cut's " : std::string("the budget before it, ")) + std::to_string(count);
  }
}

RoundPrune one_shot_round(const prune::OneShotOptions& options, const prune::CalibrationOptions& calibration,
                          const std::string& device) {
  return [=](const RoundInput& in) {
    model::Transformer net = model::load_model(in.model_dir, {torch::kFloat32, torch::Device(device)});
    std::vector<torch::Tensor> batches;
    if (prune::needs_importance(options.how.method) || !in.target.goal.shape) {
      const std::vector<text::Example> examples = train::read_examples(in.data, text::Encoder(in.model_dir));
      train::check_token_ids(examples, net->spec().input_vocab_size(), in.data);
      batches = prune::calibration_batches(examples, calibration, in.data);
    }
    prune::OneShot cut = prune::prune_once(net, options, in.target.goal, batches);
    if (!cut.shapes.empty()) std::cerr << prune::shape_table(cut.shapes, model::parameter_count(net->spec()));
    return cut.model;
  };
}

int64_t recovery_steps(int64_t tokens, int64_t batch, int64_t seq_len) {
  const int64_t per_step = batch * seq_len;
  return (tokens + per_step - 1) / per_step;
}

Json run_progressive(const ProgressiveConfig& c, const RoundPrune& prune) {
  fs::create_directories(c.out);
  const Split split = split_data(c);
  const HeldOut heldout = read_heldout(c, split.heldout);
  const model::LoadOptions load{torch::kFloat32, torch::Device(c.device)};
  Json rows = Json::array();
  const auto measure = [&](const std::string& dir, Json row) {
    model::Transformer net = model::load_model(dir, load);
    row["params"] = model::parameter_count(net->spec());
    row["share"] = rows.empty() ? 1.0 : row["params"].get<double>() / rows[0]["params"].get<double>();
    row["loss"] = heldout_loss(net, heldout, c);
    if (heldout.encoding_task) row["task"] = task_metrics(dir, heldout, c);
    return row;
  };
  log("measuring the source");
  rows.push_back(measure(c.source, {{"round", 0}, {"target", nullptr}, {"model", c.source}, {"loss_pruned", nullptr}}));
  std::string before = c.source;
  for (size_t k = 0; k < c.targets.size(); ++k) {
    const int round = int(k) + 1;
    const fs::path dir = fs::path(c.out) / round_name(round);
    log(round_name(round) + ": cutting " + before + " to " + c.targets[k].text);
    fs::create_directories(dir);
    Json row = {{"round", round}, {"target", c.targets[k].text}, {"model", dir.string()}};
    {
      model::Transformer cut = prune({round, before, c.targets[k], split.train, dir.string()});
      const int64_t params = model::parameter_count(cut->spec()), was = rows.back()["params"];
      if (params >= was)
        bad(round_name(round) + ": the cut to " + c.targets[k].text + " has " + std::to_string(params) +
            " parameters, not fewer than the " + std::to_string(was) + " of the model it cut");
      row["loss_pruned"] = heldout_loss(cut, heldout, c);
      model::export_hf(cut, before, (dir / "pruned").string());
    }
    log(round_name(round) + ": recovering from " + before);
    const Json recovery = recover(c, (dir / "pruned").string(), before, split.train, dir);
    row = measure(dir.string(), row);
    row["recovery"] = recovery;
    rows.push_back(row);
    before = dir.string();
  }
  const Json quality = {{"source", c.source},
                        {"method", c.method},
                        {"recover_tokens", c.recover_tokens},
                        {"heldout", {{"path", heldout.path}, {"tokens", heldout.tokens}}},
                        {"task", heldout.encoding_task ? Json("encoding") : Json()},
                        {"rows", rows}};
  write_json(fs::path(c.out) / "quality.json", quality);
  write_file_atomic((fs::path(c.out) / "quality.svg").string(),
                    [&](std::ostream& out) { out << render_quality_svg(quality); });
  return quality;
}

std::string quality_table(const Json& q) {
  const bool task = q["task"].is_string();
  const auto num = [](const Json& v, const char* spec) {
    if (!v.is_number()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, spec, v.get<double>());
    return std::string(buf);
  };
  const auto pct = [&](const Json& v) { return v.is_number() ? num(v.get<double>() * 100, "%.1f%%") : "-"; };
  std::string out = "round  target                params   share  loss cut  loss";
  if (task) out += "    valid    EPR     NP     FR     SC";
  out += "\n";
  char line[256];
  for (const Json& r : q["rows"]) {
    const std::string target = r["target"].is_string() ? r["target"].get<std::string>() : "source";
    std::snprintf(line, sizeof line, "%5d  %-20s %7s  %6s  %8s  %6s", r["round"].get<int>(), target.c_str(),
                  std::to_string(r["params"].get<int64_t>()).c_str(), pct(r["share"]).c_str(),
                  num(r["loss_pruned"], "%.4f").c_str(), num(r["loss"], "%.4f").c_str());
    out += line;
    if (task) {
      const Json& t = r["task"];
      const std::string valid =
          std::to_string(t["valid_json"].get<int64_t>()) + "/" + std::to_string(t["n"].get<int64_t>());
      std::snprintf(line, sizeof line, "  %7s  %5s  %5s  %5s  %5s", valid.c_str(), pct(t["epr"]).c_str(),
                    pct(t["np"]).c_str(), pct(t["fr_pooled"]).c_str(), pct(t["sc"]).c_str());
      out += line;
    }
    out += "\n";
  }
  return out;
}

}  // namespace bespoke::pipeline
