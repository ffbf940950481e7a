// Phase 5: a model exported to GGUF in each type and checked in stock llama.cpp (its
// log-probabilities on a prompt against Bespoke's, its tokenizer on a record's texts against
// ours), with the figures a deployment is decided on, measured in the same run for llama.cpp and
// for Bespoke: file size, load time, peak memory, decode tokens per second.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bespoke::pipeline {

using Json = nlohmann::ordered_json;

struct GgufCheck {
  std::string model;   // a model directory
  std::string prefix;  // written as PREFIX-<type>.gguf
  std::vector<std::string> types = {"f16", "q8_0"};
  std::string interop;      // the llama.cpp harness
  std::string prompt_data;  // JSONL: the first record's ids are the prompt, its texts the tokenizer check
  int64_t decode_tokens = 32;
  int repeats = 3;
};

// {files: [{path, type, bytes, llama_cpp_ok, tokenizer_agrees, max_logprob_diff, load_seconds,
//   peak_rss_bytes, model_rss_bytes, tokens_per_s, error}], bespoke {load_seconds, rss_bytes,
//   tokens_per_s}, llama_cpp_ok}. A file llama.cpp cannot run is reported with its error.
Json check_gguf(const GgufCheck& check);

// Within what the type's rounding explains: F32 to llama.cpp's arithmetic, 16-bit floats to
// their rounding, the quantised types to theirs.
double logprob_tolerance(const std::string& type);

}  // namespace bespoke::pipeline
