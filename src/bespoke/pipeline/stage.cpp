#include "bespoke/pipeline/stage.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull, kFnvPrime = 0x100000001b3ull;

void mix(uint64_t& h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * kFnvPrime;
}

void mix_file(uint64_t& h, const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::kIo, path.string() + ": cannot read");
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) mix(h, buf, static_cast<size_t>(in.gcount()));
}

Json read_manifest(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Json();
  const Json j = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? Json() : j;
}

}  // namespace

std::string content_hash(const std::string& path) {
  uint64_t h = kFnvOffset;
  if (fs::is_directory(path)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(path))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const std::string name = fs::relative(f, path).string();
      mix(h, name.data(), name.size() + 1);  // with its terminator, so names and bytes cannot run together
      mix_file(h, f);
    }
  } else {
    mix_file(h, path);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

Json run_stage(const std::string& run_dir, const std::string& name, const Json& config,
               const std::vector<std::string>& inputs, const StageBody& body) {
  const fs::path dir = fs::path(run_dir) / name, manifest_path = dir / "manifest.json";
  Json hashes = Json::object();
  for (const std::string& input : inputs) {
    if (!fs::exists(input)) fail(ErrorKind::kInput, "stage " + name + ": input " + input + " does not exist");
    hashes[input] = content_hash(input);
  }
  Json manifest = read_manifest(manifest_path);
  if (manifest.is_object() && manifest.value("status", "") == "done" && manifest["config"] == config &&
      manifest["inputs"] == hashes) {
    manifest["skipped"] = true;
    return manifest;
  }
  fs::create_directories(dir);
  fs::remove(manifest_path);  // a stale manifest must not outlive a failed rerun
  const auto start = std::chrono::steady_clock::now();
  const Json result = body(dir.string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  manifest = {{"stage", name},
              {"status", "done"},
              {"config", config},
              {"inputs", hashes},
              {"outputs", result.value("outputs", Json::object())},
              {"metrics", result.value("metrics", Json::object())},
              {"seconds", seconds}};
  write_json(manifest_path.string(), manifest);
  manifest["skipped"] = false;
  return manifest;
}

void write_json(const std::string& path, const Json& j) {
  write_file_atomic(path, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
}

}  // namespace bespoke::pipeline
