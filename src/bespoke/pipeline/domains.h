// The run's data (RUN/data/): the task's records, made here or copied, and every domain's
// records with their "domain" field, so the engine can mix them by weight and measure each one.
//   task.jsonl     the task's training records
//   eval.jsonl     the task's held-out records (the gate's and the lottery's items)
//   train.jsonl    every domain's training records
//   heldout.jsonl  every domain's held-out records: the task's eval records and every 10th record
//                  of the others (a stride keeps a source's mix)
// A source_dir domain is cut from the text of the files under it with the given suffix, in
// path order, into records of about record_chars characters ending at a line break.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bespoke/pipeline/experiment.h"

namespace bespoke::pipeline {

using Json = nlohmann::ordered_json;

// Writes the files into `dir` and returns {"outputs": {task, eval, train, heldout}, "metrics":
// {domain: {train, heldout}}} (record counts).
Json write_run_data(const DataSettings& data, uint64_t seed, const std::string& dir);

// The domains' names and weights as the engine takes them; the task alone without domains.
std::vector<std::string> domain_names(const DataSettings& data);
std::vector<double> domain_weights(const DataSettings& data);

// A record's texts: its chat messages' contents, or its text; none for other records.
std::vector<std::string> record_texts(const Json& record);

// Text records cut from the files under `dir` ending in `suffix`.
std::vector<std::string> text_records(const std::string& dir, const std::string& suffix, int64_t record_chars,
                                      int64_t max_records);

}  // namespace bespoke::pipeline
