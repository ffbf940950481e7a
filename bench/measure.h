// What a benchmark measures in a process of its own: its peak memory, and the JSON a measuring
// child process prints as its last line.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#ifdef BESPOKE_BENCH_CUDA  // set by CMake when libtorch has CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace bench {

// The peak memory of this process, which measures one run only: the allocator's on CUDA, the
// resident set's on the host.
inline double peak_gib(const std::string& device) {
#ifdef BESPOKE_BENCH_CUDA
  if (device.rfind("cuda", 0) == 0)
    return c10::cuda::CUDACachingAllocator::getDeviceStats(0).allocated_bytes[0].peak / double(1ull << 30);
#endif
  (void)device;
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / double(1 << 20);  // KiB -> GiB
}

// The JSON a measuring process prints as its last line, or {"error", "output"}.
inline nlohmann::json run_measurement(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  if (!p) return {{"error", "cannot run: " + command}};
  std::string out;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  const size_t start = out.find_last_of('\n', out.size() >= 2 ? out.size() - 2 : 0);
  const nlohmann::json j =
      nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1), nullptr, false);
  if (j.is_object() && (status == 0 || j.contains("error"))) return j;  // a failed run may say why itself
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {{"error", "failed (exit " + std::to_string(code) + "): " + command}, {"output", out.substr(0, 2000)}};
}

}  // namespace bench
