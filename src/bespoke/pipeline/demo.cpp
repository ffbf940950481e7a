#include "bespoke/pipeline/demo.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/model/generate.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/llama_cpp.h"
#include "bespoke/pipeline/report_html.h"
#include "bespoke/task/encoding/dataset.h"
#include "bespoke/task/encoding/evaluate.h"
#include "bespoke/task/encoding/generator.h"
#include "bespoke/text/bpe_trainer.h"
#include "bespoke/text/tokenizer.h"
#include "bespoke/train/data.h"
#include "bespoke/train/evaluate.h"
#include "bespoke/train/trainer.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;
namespace enc = task::encoding;

void log(const std::string& line) {
  std::cerr << "[demo] " << line << "\n";
}

void write_json(const fs::path& path, const Json& j) {
  write_file_atomic(path.string(), [&](std::ostream& out) { out << j.dump(2) << "\n"; });
}

enc::PromptTemplate prompt_of(const DemoConfig& c) {
  return c.prompt_template.empty() ? enc::PromptTemplate::builtin() : enc::PromptTemplate::from_file(c.prompt_template);
}

// Generator records as JSONL. The evaluation set comes from another seed, so it shares no
// record with the training set by construction of the draws (though short inputs may repeat).
Json data_stage(const DemoConfig& c, const std::string& dir) {
  const enc::PromptTemplate prompt = prompt_of(c);
  const auto write = [&](const std::string& name, int64_t n, uint64_t seed) {
    const auto records = enc::generate_encoding_records({n, seed}, prompt);
    write_file_atomic(dir + "/" + name, [&](std::ostream& out) {
      for (const enc::Json& r : records) out << r.dump() << "\n";
    });
  };
  write("train.jsonl", c.n_train, c.seed);
  write("eval.jsonl", c.n_eval, c.seed + 0x9E3779B97F4A7C15ull);
  return {{"outputs", {{"train", dir + "/train.jsonl"}, {"eval", dir + "/eval.jsonl"}}}};
}

// A model directory's files other than its weights and test references: tokenizer, chat
// template, configs.
void copy_model_files(const std::string& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.find("safetensors") == std::string::npos && name.rfind("reference", 0) != 0)
      fs::copy_file(e.path(), to / name, fs::copy_options::overwrite_existing);
  }
}

// Sets the special-token ids in a config (config.json, generation_config.json) from `renumber`.
void renumber_token_ids(Json& config, const std::map<int64_t, int64_t>& renumber) {
  const auto one = [&](const Json& id) -> Json {
    if (!id.is_number_integer()) return id;
    auto it = renumber.find(id.get<int64_t>());
    if (it == renumber.end())
      fail(ErrorKind::kInput, "token id " + id.dump() + " in the base config is no added token");
    return it->second;
  };
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"}) {
    if (!config.contains(key)) continue;
    if (config[key].is_array())
      for (Json& id : config[key]) id = one(id);
    else
      config[key] = one(config[key]);
  }
}

// The messages' texts of a chat JSONL file's records, or of its first record only.
std::vector<std::string> message_texts(const std::string& jsonl, bool first_only = false) {
  std::vector<std::string> texts;
  std::ifstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    const Json record = Json::parse(line);
    for (const Json& m : record.at("messages")) texts.push_back(m.at("content").get<std::string>());
    if (first_only) break;
  }
  return texts;
}

// The task's own tokenizer: BPE merges learned from the training records on the base
// tokenizer's rules (text/bpe_trainer.h), and the base's configs with its special tokens'
// new ids. A record then takes about half the positions of the fixture's generic vocabulary.
Json tokenizer_stage(const DemoConfig& c, const std::string& dir, const std::string& train_data) {
  const fs::path out = fs::path(dir) / "tokenizer";
  copy_model_files(c.tokenizer, out);
  const Json base = read_json(out / "tokenizer.json");
  const std::vector<std::string> texts = message_texts(train_data);
  const Json trained =
      text::train_byte_level_bpe(base, texts, static_cast<int32_t>(c.vocab), static_cast<int32_t>(c.digits));
  write_json(out / "tokenizer.json", trained);

  std::map<std::string, int64_t> new_ids;
  for (const Json& a : trained["added_tokens"]) new_ids[a["content"]] = a["id"];
  std::map<int64_t, int64_t> renumber;
  for (const Json& a : base.value("added_tokens", Json::array())) renumber[a["id"]] = new_ids.at(a["content"]);
  for (const char* name : {"config.json", "generation_config.json"}) {
    if (!fs::exists(out / name)) continue;
    Json config = read_json(out / name);
    renumber_token_ids(config, renumber);
    if (std::string(name) == "config.json") config["vocab_size"] = trained["model"]["vocab"].size();
    write_json(out / name, config);
  }
  const auto mean_tokens = [&](const text::Tokenizer& t) {
    double n = 0;
    for (const std::string& s : texts) n += static_cast<double>(t.encode(s, false).size());
    return n / std::max<size_t>(texts.size(), 1);
  };
  return {{"outputs", {{"tokenizer", out.string()}}},
          {"metrics",
           {{"vocab", trained["model"]["vocab"].size()},
            {"tokens_per_message_base", mean_tokens(*text::load_tokenizer(c.tokenizer))},
            {"tokens_per_message", mean_tokens(*text::load_tokenizer(out.string()))}}}};
}

// A randomly initialised LLaMA-style model with the tokenizer directory's vocabulary, written as
// a model directory every command accepts.
Json model_stage(const DemoConfig& c, const std::string& dir, const std::string& tokenizer) {
  const fs::path source = fs::path(dir) / "source";
  copy_model_files(tokenizer, source);
  Json config = read_json(source / "config.json");
  if (config.value("model_type", "") != "llama")
    fail(ErrorKind::kInput,
         c.tokenizer + ": the demo builds a llama model; its config.json is " + config.value("model_type", "?"));
  config["hidden_size"] = c.hidden;
  config["num_hidden_layers"] = c.layers;
  config["num_attention_heads"] = c.heads;
  config["num_key_value_heads"] = c.kv_heads;
  config["head_dim"] = c.hidden / c.heads;
  config["intermediate_size"] = c.ffn;
  config["max_position_embeddings"] = std::max<int64_t>(4096, c.seq_len);
  config["rope_parameters"] = {{"rope_theta", 10000.0}, {"rope_type", "default"}};
  config.erase("rope_scaling");
  config["tie_word_embeddings"] = false;
  write_json(source / "config.json", config);
  model::Transformer net(model::spec_from_hf_config(nlohmann::json::parse(config.dump())));
  torch::manual_seed(c.seed);
  model::init_random(net);
  const std::string out = dir + "/model";
  model::export_hf(net, source.string(), out);
  return {{"outputs", {{"model", out}}}, {"metrics", {{"parameters", model::parameter_count(net->spec())}}}};
}

// Sets `stop` when the budget runs out or `outer` is set, whichever comes first.
class Deadline {
 public:
  Deadline(double minutes, const std::atomic<bool>& outer) : outer_(outer) {
    thread_ = std::thread([this, minutes] {
      using Clock = std::chrono::steady_clock;
      const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                       std::chrono::duration<double>(minutes > 0 ? minutes * 60 : 1e7));
      std::unique_lock<std::mutex> lock(mutex_);
      // Wakes every 200 ms to see the outer stop (a signal), which cannot notify.
      while (!done_ && !outer_.load()) {
        if (Clock::now() >= end) {
          expired_ = true;
          break;
        }
        cv_.wait_for(lock, std::chrono::milliseconds(200));
      }
      stop_ = true;
    });
  }
  ~Deadline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  const std::atomic<bool>& stop() const { return stop_; }
  bool expired() const { return expired_; }

 private:
  const std::atomic<bool>& outer_;
  std::atomic<bool> stop_{false}, expired_{false};
  bool done_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
};

Json loss_curve(const fs::path& metrics) {
  Json curve = Json::array();
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("step")) curve.push_back({j["step"], j["loss"]});
  }
  return curve;
}

Json train_stage(const DemoConfig& c, const std::string& dir, const std::string& model, const std::string& data,
                 const std::string& eval_data, const std::atomic<bool>& stop) {
  train::TrainConfig t;
  t.model = model;
  t.data = data;
  t.out = dir;
  t.steps = c.steps;
  t.seq_len = c.seq_len;
  t.batch = c.batch;
  t.bucket = c.bucket;
  t.schedule.peak = c.lr;
  t.schedule.warmup = c.warmup;
  t.seed = c.seed;
  t.save_every = std::max<int64_t>(c.steps / 4, 1);
  t.progress = c.progress;
  t.log_every = std::max<int64_t>(c.steps / 10, 1);
  t.resume = !train::latest_checkpoint(dir).empty();
  if (t.resume) log("resuming training from " + train::latest_checkpoint(dir));
  train::TrainResult r;
  bool expired = false;
  {
    Deadline deadline(c.minutes, stop);
    r = train::train(t, deadline.stop());
    expired = deadline.expired();
  }
  if (r.interrupted && !expired)
    fail(ErrorKind::kInput,
         "interrupted at step " + std::to_string(r.steps) + "; run the same command again to resume");
  if (r.interrupted) {  // out of time: finish the run where it stopped, after one step at least
    log("time budget reached at step " + std::to_string(r.steps));
    t.steps = std::max<int64_t>(r.steps, 1);
    t.resume = !train::latest_checkpoint(dir).empty();
    r = train::train(t, stop);
  }
  const std::string final_dir = dir + "/final";
  model::Transformer net = model::load_model(final_dir);
  const text::Encoder encoder(final_dir);
  const std::vector<text::Example> examples = train::read_examples(eval_data, encoder);
  std::vector<int64_t> rows(examples.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  const Json curve = loss_curve(fs::path(dir) / "metrics.jsonl");
  return {{"outputs", {{"final", final_dir}}},
          {"metrics",
           {{"steps", r.steps},
            {"tokens", r.tokens},
            {"first_loss", curve.empty() ? Json() : curve.front()[1]},
            {"final_loss", curve.empty() ? Json() : curve.back()[1]},
            {"eval_loss", train::mean_loss(net, examples, rows, c.seq_len, c.batch)},
            {"curve", curve}}}};
}

Json eval_stage(const DemoConfig& c, const std::string& dir, const std::string& untrained, const std::string& trained,
                const std::string& eval_data) {
  const std::vector<enc::Item> items = enc::load_items(eval_data);
  enc::EvalOptions options;
  options.prompt = prompt_of(c);
  options.stress = c.stress;
  Json outputs = Json::object(), metrics = Json::object();
  // Both models with and without the grammar: a tiny model rarely closes a record on its own, so
  // the constrained pair is where training shows on the faithfulness metrics.
  const std::pair<const char*, std::pair<std::string, bool>> runs[] = {{"untrained", {untrained, false}},
                                                                       {"untrained_constrained", {untrained, true}},
                                                                       {"trained", {trained, false}},
                                                                       {"trained_constrained", {trained, true}}};
  for (const auto& [name, run] : runs) {
    const std::string label = name;
    options.progress = [&](size_t done, size_t total) {
      if (c.progress) {
        std::fprintf(stderr, "\r[demo] eval %s %zu/%zu ", label.c_str(), done, total);
        if (done == total) std::fprintf(stderr, "\n");
      } else if (done % 8 == 0 || done == total) {
        std::fprintf(stderr, "[demo] eval %s %zu/%zu\n", label.c_str(), done, total);
      }
    };
    log("evaluating the " + label + " model" + (run.second ? " with constrained decoding" : ""));
    const enc::Respond respond = enc::local_responder({run.first, c.max_new_tokens, run.second, {}});
    const Json report = enc::evaluate(items, respond, options);
    const std::string path = dir + "/" + label + ".json";
    write_json(path, report);
    outputs[label] = path;
    metrics[label] = report;
  }
  return {{"outputs", outputs}, {"metrics", metrics}};
}

double max_abs_diff(const std::vector<std::vector<double>>& theirs, const torch::Tensor& ours) {
  double worst = 0;
  for (size_t t = 0; t < theirs.size(); ++t)
    for (size_t v = 0; v < theirs[t].size(); ++v)
      worst = std::max(worst, std::abs(theirs[t][v] - ours[t][v].item<double>()));
  return worst;
}

// Each GGUF type run in llama.cpp on the start of an evaluation prompt: log-probabilities against
// Bespoke's, and greedy decoding speed in both: the decoded tokens alone (prompt, model load and
// process start excluded), the median of three runs with the same prompt, tokens and threads.
Json export_stage(const DemoConfig& c, const std::string& dir, const std::string& trained,
                  const std::string& eval_data) {
  model::Transformer net = model::load_model(trained);
  const text::Encoder encoder(trained);
  const text::Example first = train::read_examples(eval_data, encoder).front();
  const int64_t n = std::min<int64_t>(64, static_cast<int64_t>(first.ids.size()));
  const std::vector<int64_t> ids(first.ids.begin(), first.ids.begin() + n);
  constexpr int64_t kGreedy = 32;
  const torch::Tensor prompt = torch::tensor(ids, torch::kLong).unsqueeze(0);
  constexpr int kRepeats = 3;
  torch::Tensor ours;
  {
    torch::NoGradGuard no_grad;
    ours = torch::log_softmax(net->forward(prompt).logits[0].to(torch::kFloat64), -1);
  }
  const double bespoke_decode = model::time_greedy_decode(net, prompt, kGreedy, kRepeats).median_decode();
  // The GGUF carries the tokenizer too: llama.cpp must cut the record's texts into our tokens.
  const std::vector<std::string> texts = message_texts(eval_data, /*first_only=*/true);
  const auto tokenizer = text::load_tokenizer(trained);
  std::vector<std::vector<int64_t>> our_tokens;
  for (const std::string& t : texts) {
    const std::vector<int32_t> ids32 = tokenizer->encode(t, false);
    our_tokens.emplace_back(ids32.begin(), ids32.end());
  }
  const std::pair<const char*, io::GgmlType> types[] = {{"f32", io::GgmlType::kF32}, {"q8_0", io::GgmlType::kQ8_0}};
  Json files = Json::array(), paths = Json::array();
  bool all_ok = true;
  double f32_diff = 0;
  for (const auto& [name, type] : types) {
    const std::string path = dir + "/model-" + name + ".gguf";
    exporter::export_gguf(net, trained, path, type);
    const LlamaCppRun run = run_llama_cpp(c.interop, path, ids, kGreedy, texts);
    Json file = {{"path", path}, {"type", name}, {"bytes", fs::file_size(path)}, {"llama_cpp_ok", run.ok}};
    if (run.ok) {
      const double diff = max_abs_diff(run.logprobs, ours);
      if (type == io::GgmlType::kF32) f32_diff = diff;
      file["tokenizer_agrees"] = run.tokens == our_tokens;
      // F32 must agree to llama.cpp's arithmetic; Q8_0 only to its rounding of the weights.
      file["llama_cpp_ok"] = file["tokenizer_agrees"].get<bool>() && diff < (type == io::GgmlType::kF32 ? 1e-3 : 0.5);
      file["max_logprob_diff"] = diff;
      try {
        file["llama_cpp_tokens_per_s"] =
            kGreedy /
            time_llama_cpp_decode(c.interop, path, ids, kGreedy, kRepeats, at::get_num_threads()).median_decode();
      } catch (const Error& e) {
        file["llama_cpp_ok"] = false;
        file["error"] = e.what();
      }
    } else {
      file["error"] = run.error;
      log("llama.cpp could not run " + path + ": " + run.error);
    }
    file["bespoke_tokens_per_s"] = kGreedy / bespoke_decode;
    all_ok = all_ok && file["llama_cpp_ok"].get<bool>();
    files.push_back(file);
    paths.push_back(path);
  }
  return {{"outputs", {{"gguf", paths}}},
          {"metrics", {{"gguf", paths}, {"llama_cpp_ok", all_ok}, {"max_logprob_diff", f32_diff}, {"files", files}}}};
}

Json stage_row(const Json& manifest) {  // seconds: what the stage took when it ran
  return {{"name", manifest["stage"]},
          {"status", manifest.value("skipped", false) ? "skipped (done before)" : "done"},
          {"seconds", manifest["seconds"]}};
}

}  // namespace

Json run_demo(const DemoConfig& c, const std::atomic<bool>& stop) {
  fs::create_directories(c.out);
  const std::string run = c.out;
  Json stages = Json::array();
  const auto stage = [&](const std::string& name, const Json& config, const std::vector<std::string>& inputs,
                         const StageBody& body) {
    log("stage " + name);
    const Json manifest = run_stage(run, name, config, inputs, body);
    if (manifest["skipped"].get<bool>()) log("stage " + name + ": done before, skipped");
    stages.push_back(stage_row(manifest));
    return manifest;
  };
  std::vector<std::string> prompt_input;
  if (!c.prompt_template.empty()) prompt_input.push_back(c.prompt_template);

  const Json data = stage("data", {{"n_train", c.n_train}, {"n_eval", c.n_eval}, {"seed", c.seed}}, prompt_input,
                          [&](const std::string& dir) { return data_stage(c, dir); });
  const std::string train_data = data["outputs"]["train"], eval_data = data["outputs"]["eval"];
  const Json tokenizer = stage("tokenizer", {{"vocab", c.vocab}, {"digits", c.digits}}, {c.tokenizer, train_data},
                               [&](const std::string& dir) { return tokenizer_stage(c, dir, train_data); });
  const std::string tokenizer_dir = tokenizer["outputs"]["tokenizer"];
  const Json model = stage("model",
                           {{"hidden", c.hidden},
                            {"layers", c.layers},
                            {"heads", c.heads},
                            {"kv_heads", c.kv_heads},
                            {"ffn", c.ffn},
                            {"seed", c.seed}},
                           {tokenizer_dir}, [&](const std::string& dir) { return model_stage(c, dir, tokenizer_dir); });
  const std::string untrained = model["outputs"]["model"];
  const Json trained = stage("train",
                             {{"steps", c.steps},
                              {"seq_len", c.seq_len},
                              {"batch", c.batch},
                              {"bucket", c.bucket},
                              {"lr", c.lr},
                              {"warmup", c.warmup},
                              {"seed", c.seed},
                              {"minutes", c.minutes}},
                             {train_data, eval_data, untrained}, [&](const std::string& dir) {
                               return train_stage(c, dir, untrained, train_data, eval_data, stop);
                             });
  const std::string final_dir = trained["outputs"]["final"];
  const Json eval =
      stage("eval", {{"max_new_tokens", c.max_new_tokens}, {"stress", c.stress}}, {eval_data, untrained, final_dir},
            [&](const std::string& dir) { return eval_stage(c, dir, untrained, final_dir, eval_data); });
  const Json exported = stage("export", Json::object(), {final_dir, eval_data},
                              [&](const std::string& dir) { return export_stage(c, dir, final_dir, eval_data); });

  // The run's own time: every stage as long as it took when it ran, reruns that skipped it aside.
  double seconds = 0;
  for (const Json& row : stages) seconds += row["seconds"].get<double>();
  Json report = {{"title", "Bespoke demo: a " + std::to_string(model["metrics"]["parameters"].get<int64_t>()) +
                               "-parameter encoding model"},
                 {"minutes", seconds / 60},
                 {"tokenizer", tokenizer["metrics"]},
                 {"train", trained["metrics"]},
                 {"eval", eval["metrics"]},
                 {"export", exported["metrics"]},
                 {"stages", stages}};
  report["checks"] = demo_checks(report);
  write_json(fs::path(run) / "report.json", report);
  write_file_atomic((fs::path(run) / "report.html").string(),
                    [&](std::ostream& out) { out << render_report_html(report); });
  return report;
}

Json demo_checks(const Json& report) {
  const Json& before_report = report["eval"]["untrained_constrained"];
  const Json& after_report = report["eval"]["trained_constrained"];
  const Json& after = after_report.is_object() ? after_report["metrics"] : Json();
  // A metric's value, or nullopt where the run had nothing to measure it on: no parseable
  // record, no minimal items, no scored twin pair, no dense-number item.
  const auto value = [](const Json& r, const std::string& name) -> std::optional<double> {
    if (!r.is_object() || !r.contains("metrics") || !r["metrics"].is_object()) return std::nullopt;
    const Json& m = r["metrics"];
    if (r.contains("valid_json") && r["valid_json"].is_number() && r["valid_json"].get<int64_t>() == 0)
      return std::nullopt;
    if (name == "mih" || name == "ccs") {  // pass ratios
      const int64_t total = m[name + (name == "mih" ? "_total" : "_pairs")].get<int64_t>();
      if (total == 0) return std::nullopt;
      return static_cast<double>(m[name + "_pass"].get<int64_t>()) / static_cast<double>(total);
    }
    // NP dense is 0.0, as the scorer writes it, where no dense-number item parsed.
    if (name == "np_dense" && m.contains("np_dense_n") && m["np_dense_n"].get<int64_t>() == 0) return std::nullopt;
    if (!m.contains(name) || !m[name].is_number()) return std::nullopt;
    return m[name].get<double>();
  };
  // FR is compared pooled over all records' entities: per record, one that names no entity
  // counts as faithful, and an untrained model's records mostly name none. SC under the grammar
  // is 100% for both runs by construction of the grammar, so it is no evidence of training.
  struct Rule {
    const char* metric;
    bool higher_is_better;
    double best;
    bool by_construction;
  };
  const Rule rules[] = {{"sc", true, 1, true},        {"epr", true, 1, false},        {"np", true, 1, false},
                        {"np_dense", true, 1, false}, {"fr_pooled", false, 0, false}, {"ted_failures", false, 0, false},
                        {"mih", true, 1, false},      {"ccs", true, 1, false}};
  Json comparison = Json::object();
  int64_t measured = 0;
  bool beats = true;
  for (const Rule& r : rules) {
    const std::optional<double> b = value(before_report, r.metric), a = value(after_report, r.metric);
    std::string verdict = "not measured";
    if (r.by_construction)
      verdict = "by construction";
    else if (a && b) {
      if (*a == *b)
        verdict = *a == r.best ? "tie at best" : "tie";
      else
        verdict = (*a > *b) == r.higher_is_better ? "better" : "worse";
      ++measured;
    }
    beats = beats && verdict != "worse" && verdict != "tie";
    comparison[r.metric] = verdict;
  }
  // With nothing measured there is nothing trained to beat.
  beats = beats && measured > 0;
  const Json& train = report["train"];
  bool agrees = !report["export"]["files"].empty();
  for (const Json& f : report["export"]["files"]) agrees = agrees && f["llama_cpp_ok"].get<bool>();
  const bool loss_fell = train["first_loss"].is_number() && train["final_loss"].is_number() &&
                         train["final_loss"].get<double>() < train["first_loss"].get<double>();
  return {{"loss_fell", loss_fell},
          {"grammar_sc", after.is_object() && after["sc"] == 1.0},
          {"llama_cpp_agrees", agrees},
          {"within_10_minutes", report["minutes"].get<double>() <= 10},
          {"trained_vs_untrained", comparison},
          {"trained_beats_untrained", beats},
          {"metrics_measured", measured},
          // Checks that hold whatever was trained: the grammar admits only compliant records.
          {"by_construction", Json::array({"grammar_sc"})}};
}

std::string demo_summary(const Json& r) {
  const auto pct = [](const Json& v) {
    if (!v.is_number()) return std::string("-");
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v.get<double>());
    return std::string(buf);
  };
  std::string out;
  char line[256];
  const Json& v = r["tokenizer"];
  std::snprintf(line, sizeof line,
                "tokens  %lld-token vocabulary learned from the data: %.0f tokens per message (base: %.0f)\n",
                static_cast<long long>(v.value("vocab", 0)), v.value("tokens_per_message", 0.0),
                v.value("tokens_per_message_base", 0.0));
  out += line;
  const Json& t = r["train"];
  std::snprintf(line, sizeof line, "train   %lld steps, loss %.3f -> %.3f, eval loss %.3f\n",
                static_cast<long long>(t.value("steps", 0)), t.value("first_loss", 0.0), t.value("final_loss", 0.0),
                t.value("eval_loss", 0.0));
  out += line;
  out += "eval               untrained  +grammar  trained  +grammar\n";
  const Json& e = r["eval"];
  const auto row = [&](const char* label, const std::function<std::string(const Json&)>& cell) {
    std::snprintf(line, sizeof line, "  %-14s  %9s  %8s  %7s  %8s\n", label, cell(e["untrained"]).c_str(),
                  cell(e["untrained_constrained"]).c_str(), cell(e["trained"]).c_str(),
                  cell(e["trained_constrained"]).c_str());
    out += line;
  };
  row("valid JSON", [](const Json& x) {
    return std::to_string(x["valid_json"].get<int64_t>()) + "/" + std::to_string(x["n"].get<int64_t>());
  });
  for (const char* m : {"sc", "epr", "np", "np_dense", "fr", "fr_pooled"})
    row(m, [&](const Json& x) { return pct(x["metrics"][m]); });
  row("entities", [](const Json& x) { return x["metrics"].value("entities_out", Json(0)).dump(); });
  row("ted failures", [](const Json& x) { return std::to_string(x["metrics"]["ted_failures"].get<int64_t>()); });
  const auto share = [](const char* pass, const char* total) {
    return [=](const Json& x) {
      return std::to_string(x["metrics"][pass].get<int64_t>()) + "/" +
             std::to_string(x["metrics"][total].get<int64_t>());
    };
  };
  row("mih", share("mih_pass", "mih_total"));
  row("ccs", share("ccs_pass", "ccs_pairs"));
  for (const Json& f : r["export"]["files"]) {
    std::snprintf(line, sizeof line, "export  %-5s %7.2f MB  llama.cpp %s  max |d log p| %.2g\n",
                  f["type"].get<std::string>().c_str(), f["bytes"].get<double>() / 1e6,
                  f["llama_cpp_ok"].get<bool>() ? "ok" : "FAILED", f.value("max_logprob_diff", std::nan("")));
    out += line;
  }
  std::snprintf(line, sizeof line, "total   %.1f minutes; report in report.json and report.html\n",
                r["minutes"].get<double>());
  out += line;
  const Json& checks = r["checks"];
  const auto yes = [&](const char* key) { return checks[key].get<bool>() ? "yes" : "NO"; };
  std::map<std::string, std::string> by_verdict;
  for (const auto& [metric, verdict] : checks["trained_vs_untrained"].items()) by_verdict[verdict] += " " + metric;
  out += std::string("checks  loss fell: ") + yes("loss_fell") +
         "; SC 100% under the grammar (by construction): " + yes("grammar_sc") +
         "; llama.cpp agrees: " + yes("llama_cpp_agrees") + "; within 10 minutes: " + yes("within_10_minutes") +
         "\n        trained beats untrained (both under the grammar): " + yes("trained_beats_untrained") + "\n";
  for (const auto& [verdict, metrics] : by_verdict) out += "          " + verdict + ":" + metrics + "\n";
  return out;
}

}  // namespace bespoke::pipeline
