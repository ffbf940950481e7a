#include "bespoke/pipeline/llama_cpp.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"

namespace bespoke::pipeline {
namespace {

std::string id_list(const std::vector<int64_t>& ids) {
  std::string list;
  for (size_t i = 0; i < ids.size(); ++i) list += (i ? "," : "") + std::to_string(ids[i]);
  return list;
}

struct NodeRun {
  int status = -1;        // pclose's
  std::string out;        // stdout and stderr
  nlohmann::json result;  // the one line of JSON the harness prints, or discarded
};

NodeRun run_node(const std::string& command) {
  NodeRun run;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return run;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) run.out.append(buf, n);
  run.status = pclose(pipe);
  // llama.cpp's own log lines may come around the result.
  const size_t at = run.out.rfind("\n{\"", std::string::npos);
  const size_t begin = run.out.rfind("{\"", 0) == 0 ? 0 : at == std::string::npos ? run.out.size() : at + 1;
  run.result = nlohmann::json::parse(run.out.substr(begin, run.out.find('\n', begin) - begin), nullptr, false);
  return run;
}

}  // namespace

LlamaCppRun run_llama_cpp(const std::string& interop_dir, const std::string& gguf, const std::vector<int64_t>& ids,
                          int64_t greedy, const std::vector<std::string>& texts) {
  std::string command = "node '" + interop_dir + "/eval.mjs' '" + gguf + "' --ids " + id_list(ids) + " --greedy " +
                        std::to_string(greedy);
  const std::string texts_file = gguf + ".texts.json";
  if (!texts.empty()) {  // in a file: texts hold quotes and newlines that a command line mangles
    write_file_atomic(texts_file, [&](std::ostream& out) { out << nlohmann::json(texts).dump(); });
    command += " --texts '" + texts_file + "'";
  }
  LlamaCppRun run;
  const NodeRun node = run_node(command);
  if (!texts.empty()) std::filesystem::remove(texts_file);
  const int status = node.status;
  const nlohmann::json& j = node.result;
  if (status != 0 || j.is_discarded() || !j.contains("logprobs")) {
    run.error = status == -1 ? "cannot start node" : node.out.substr(0, 300);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      run.error = "node is not installed (scripts/setup.sh --test installs it)";
    return run;
  }
  for (const auto& row : j["logprobs"]) {  // JSON has no -Infinity: a zero probability comes as null
    run.logprobs.emplace_back();
    for (const auto& v : row) run.logprobs.back().push_back(v.is_number() ? v.get<double>() : -INFINITY);
  }
  run.greedy = j["greedy"].get<std::vector<int64_t>>();
  if (j.contains("tokens")) run.tokens = j["tokens"].get<std::vector<std::vector<int64_t>>>();
  run.ok = true;
  return run;
}

LlamaCppTiming time_llama_cpp_decode(const std::string& interop_dir, const std::string& gguf,
                                         const std::vector<int64_t>& ids, int64_t n_new, int repeats, int threads) {
  const std::string command = "node '" + interop_dir + "/eval.mjs' '" + gguf + "' --ids " + id_list(ids) +
                              " --time-decode " + std::to_string(n_new) + " --repeats " + std::to_string(repeats) +
                              " --threads " + std::to_string(threads);
  const NodeRun node = run_node(command);
  const nlohmann::json& j = node.result;
  if (node.status != 0 || !j.is_object() || !j.contains("decode_seconds"))
    fail(ErrorKind::kIo, "llama.cpp's timed decoding of " + gguf + " did not run: " + node.out.substr(0, 300));
  return {{j["prefill_seconds"].get<std::vector<double>>(), j["decode_seconds"].get<std::vector<double>>(),
           j["greedy"].get<std::vector<int64_t>>()},
          j["load_seconds"].get<double>(),
          j["peak_rss_bytes"].get<int64_t>(),
          j["base_rss_bytes"].get<int64_t>()};
}

}  // namespace bespoke::pipeline
