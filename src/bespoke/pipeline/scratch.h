// A parent trained here from scratch (the demo's): the task's own tokenizer, BPE merges learned
// from the training records on a base tokenizer's rules (text/bpe_trainer.h), then a
// LLaMA-style model of the configured sizes initialised at random. Pretraining it is an
// ordinary training stage on every domain.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bespoke/pipeline/experiment.h"

namespace bespoke::pipeline {

using Json = nlohmann::ordered_json;

// DIR/tokenizer/: the base's files with the learned tokenizer.json and its special tokens' new
// ids in the configs. Returns {"outputs": {tokenizer}, "metrics": {vocab, tokens_per_record_base,
// tokens_per_record}}.
Json learn_tokenizer(const Scratch& scratch, const std::string& train_data, const std::string& dir);

// The parent's config.json: the tokenizer directory's with the configured sizes. Written before
// training, so Phase 0 counts the parent exactly.
nlohmann::json scratch_config(const Scratch& scratch, const nlohmann::json& tokenizer_config, int64_t seq_len);

// DIR/model/: a randomly initialised model directory. Returns {"outputs": {model}, "metrics": {parameters}}.
Json init_scratch_model(const Scratch& scratch, int64_t seq_len, uint64_t seed, const std::string& tokenizer_dir,
                        const std::string& dir);

// A model directory's files other than its weights and test references.
void copy_model_files(const std::string& from, const std::string& to);

}  // namespace bespoke::pipeline
