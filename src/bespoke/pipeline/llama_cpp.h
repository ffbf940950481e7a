// Running an exported GGUF in stock llama.cpp through the interop harness
// (tools/interop/eval.mjs, node-llama-cpp's prebuilt CPU binaries).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bespoke/model/generate.h"

namespace bespoke::pipeline {

struct LlamaCppRun {
  bool ok = false;
  std::string error;                          // why not, when !ok
  std::vector<std::vector<double>> logprobs;  // [position][token]
  std::vector<int64_t> greedy;                // tokens after the prompt
  std::vector<std::vector<int64_t>> tokens;   // llama.cpp's tokens of each text (no BOS added)
};

LlamaCppRun run_llama_cpp(const std::string& interop_dir, const std::string& gguf, const std::vector<int64_t>& ids,
                          int64_t greedy, const std::vector<std::string>& texts = {});

struct LlamaCppTiming {
  model::DecodeTimes times;
  double load_seconds = 0;     // the model's load
  int64_t peak_rss_bytes = 0;  // the harness process's peak resident set
  int64_t base_rss_bytes = 0;  // what it held before the load (node and llama.cpp's library)
};

// llama.cpp's greedy decoding of `ids` timed as model::time_greedy_decode times Bespoke's
// (eval.mjs --time-decode: the greedy token only, model load and process start excluded).
// Throws Error(kIo) when the harness does not run.
LlamaCppTiming time_llama_cpp_decode(const std::string& interop_dir, const std::string& gguf,
                                         const std::vector<int64_t>& ids, int64_t n_new, int repeats, int threads);

}  // namespace bespoke::pipeline
