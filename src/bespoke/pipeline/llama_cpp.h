// Running an exported GGUF in stock llama.cpp through the interop harness
// (tools/interop/eval.mjs, node-llama-cpp's prebuilt CPU binaries).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bespoke::pipeline {

struct LlamaCppRun {
  bool ok = false;
  std::string error;                          // why not, when !ok
  std::vector<std::vector<double>> logprobs;  // [position][token]
  std::vector<int64_t> greedy;                // tokens after the prompt
  double greedy_seconds = 0;
  std::vector<std::vector<int64_t>> tokens;  // llama.cpp's tokens of each text (no BOS added)
};

LlamaCppRun run_llama_cpp(const std::string& interop_dir, const std::string& gguf, const std::vector<int64_t>& ids,
                          int64_t greedy, const std::vector<std::string>& texts = {});

}  // namespace bespoke::pipeline
