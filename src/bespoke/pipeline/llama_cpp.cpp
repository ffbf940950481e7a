#include "bespoke/pipeline/llama_cpp.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bespoke/core/atomic_file.h"

namespace bespoke::pipeline {

LlamaCppRun run_llama_cpp(const std::string& interop_dir, const std::string& gguf, const std::vector<int64_t>& ids,
                          int64_t greedy, const std::vector<std::string>& texts) {
  std::string list;
  for (size_t i = 0; i < ids.size(); ++i) list += (i ? "," : "") + std::to_string(ids[i]);
  std::string command =
      "node '" + interop_dir + "/eval.mjs' '" + gguf + "' --ids " + list + " --greedy " + std::to_string(greedy);
  const std::string texts_file = gguf + ".texts.json";
  if (!texts.empty()) {  // in a file: texts hold quotes and newlines that a command line mangles
    write_file_atomic(texts_file, [&](std::ostream& out) { out << nlohmann::json(texts).dump(); });
    command += " --texts '" + texts_file + "'";
  }
  command += " 2>&1";
  LlamaCppRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return run.error = "cannot start node", run;
  std::string out;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = pclose(pipe);
  if (!texts.empty()) std::filesystem::remove(texts_file);
  // The result is the one line of JSON; llama.cpp's own log lines may come around it.
  const size_t at = out.rfind("\n{\"", std::string::npos);
  const size_t begin = out.rfind("{\"", 0) == 0 ? 0 : at == std::string::npos ? out.size() : at + 1;
  const nlohmann::json j = nlohmann::json::parse(out.substr(begin, out.find('\n', begin) - begin), nullptr, false);
  if (status != 0 || j.is_discarded() || !j.contains("logprobs")) {
    run.error = out.substr(0, 300);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      run.error = "node is not installed (scripts/setup.sh --test installs it)";
    return run;
  }
  for (const auto& row : j["logprobs"]) {  // JSON has no -Infinity: a zero probability comes as null
    run.logprobs.emplace_back();
    for (const auto& v : row) run.logprobs.back().push_back(v.is_number() ? v.get<double>() : -INFINITY);
  }
  run.greedy = j["greedy"].get<std::vector<int64_t>>();
  run.greedy_seconds = j.value("greedy_seconds", 0.0);
  if (j.contains("tokens")) run.tokens = j["tokens"].get<std::vector<std::vector<int64_t>>>();
  run.ok = true;
  return run;
}

}  // namespace bespoke::pipeline
