#include "bespoke/pipeline/domains.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/task/encoding/generator.h"
#include "bespoke/task/encoding/prompt.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;
namespace enc = task::encoding;

constexpr int kHeldOutStride = 10;

std::vector<Json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kInput, path + ": cannot read");
  std::vector<Json> records;
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json r = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object()) fail(ErrorKind::kInput, path + ":" + std::to_string(line_no) + ": not a JSON object");
    records.push_back(std::move(r));
  }
  return records;
}

void write_jsonl(const std::string& path, const std::vector<Json>& records) {
  write_file_atomic(path, [&](std::ostream& out) {
    for (const Json& r : records) out << r.dump() << "\n";
  });
}

std::string task_domain(const DataSettings& data) {
  for (const Domain& d : data.domains)
    if (d.task) return d.name;
  return "task";
}

}  // namespace

std::vector<std::string> text_records(const std::string& dir, const std::string& suffix, int64_t record_chars,
                                      int64_t max_records) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied)) {
    const std::string name = e.path().string();
    if (e.is_regular_file() && name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> records;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string record;
    for (std::string line; std::getline(in, line);) {
      record += line + "\n";
      if (static_cast<int64_t>(record.size()) < record_chars) continue;
      records.push_back(std::move(record));
      record.clear();
      if (max_records > 0 && static_cast<int64_t>(records.size()) >= max_records) return records;
    }
    if (record.find_first_not_of(" \n\t") != std::string::npos) records.push_back(std::move(record));
    if (max_records > 0 && static_cast<int64_t>(records.size()) >= max_records) return records;
  }
  return records;
}

std::vector<std::string> domain_names(const DataSettings& data) {
  std::vector<std::string> names;
  for (const Domain& d : data.domains) names.push_back(d.name);
  return names;
}

std::vector<double> domain_weights(const DataSettings& data) {
  std::vector<double> weights;
  for (const Domain& d : data.domains) weights.push_back(d.weight);
  return weights;
}

Json write_run_data(const DataSettings& data, uint64_t seed, const std::string& dir) {
  const enc::PromptTemplate prompt = data.prompt_template.empty() ? enc::PromptTemplate::builtin()
                                                                  : enc::PromptTemplate::from_file(data.prompt_template);
  // Made records: the held-out set comes from another seed, so it shares no draw with training.
  const std::vector<Json> task = data.task.empty() ? enc::generate_encoding_records({data.generate_train, seed}, prompt)
                                                   : read_jsonl(data.task);
  const std::vector<Json> eval = data.eval.empty()
                                     ? enc::generate_encoding_records({data.generate_eval, seed + 0x9E3779B97F4A7C15ull}, prompt)
                                     : read_jsonl(data.eval);
  if (task.empty()) fail(ErrorKind::kInput, "data.task: no records");
  if (eval.empty()) fail(ErrorKind::kInput, "data.eval: no records");
  const std::string task_name = task_domain(data);
  const auto tagged = [](std::vector<Json> records, const std::string& domain) {
    for (Json& r : records) r["domain"] = domain;
    return records;
  };
  std::vector<Json> train = tagged(task, task_name), heldout = tagged(eval, task_name);
  Json counts = Json::object();
  counts[task_name] = {{"train", task.size()}, {"heldout", eval.size()}};
  for (const Domain& d : data.domains) {
    if (d.task) continue;
    std::vector<Json> records;
    if (!d.jsonl.empty()) {
      records = read_jsonl(d.jsonl);
    } else {
      for (std::string& text : text_records(d.source_dir, d.suffix, d.record_chars, d.max_records))
        records.push_back({{"text", std::move(text)}});
    }
    if (records.size() < 2) fail(ErrorKind::kInput, "data.domains: " + d.name + " has fewer than 2 records");
    int64_t n_train = 0, n_heldout = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      records[i]["domain"] = d.name;
      if (i % kHeldOutStride == kHeldOutStride - 1) {
        heldout.push_back(records[i]);
        ++n_heldout;
      } else {
        train.push_back(records[i]);
        ++n_train;
      }
    }
    counts[d.name] = {{"train", n_train}, {"heldout", n_heldout}};
  }
  const std::string paths[] = {dir + "/task.jsonl", dir + "/eval.jsonl", dir + "/train.jsonl", dir + "/heldout.jsonl"};
  write_jsonl(paths[0], tagged(task, task_name));
  write_jsonl(paths[1], tagged(eval, task_name));
  write_jsonl(paths[2], train);
  write_jsonl(paths[3], heldout);
  return {{"outputs", {{"task", paths[0]}, {"eval", paths[1]}, {"train", paths[2]}, {"heldout", paths[3]}}},
          {"metrics", counts}};
}

std::vector<std::string> record_texts(const Json& record) {
  std::vector<std::string> texts;
  if (record.contains("messages"))
    for (const Json& m : record["messages"]) texts.push_back(m.at("content").get<std::string>());
  else if (record.contains("text"))
    texts.push_back(record["text"].get<std::string>());
  return texts;
}

}  // namespace bespoke::pipeline
