// Claim: a `bespoke train` step is at least as fast as the same step in Python. Ours runs the
// real trainer on a LLaMA shape with random weights and random token rows; the baseline is a
// command run from this process (its last stdout line: JSON with "tokens_per_s" and
// "peak_gib"), e.g. tools/bench/hf_train_step.py for HF transformers on a GPU. Output: JSON.
// Run (CPU, against Debian's python3-torch):
//   build/bench/bench_train --threads 2 --baseline "/usr/bin/python3 tools/bench/torch_train_step.py --threads 2"
// Run (GPU, against HF transformers; scripts/gpu_check.sh does this):
//   build/bench/bench_train --shape 1.3b --device cuda --dtype bf16 --batch 8 --micro-batch 4 --micro-batch 8
//     --seq-len 2048 --baseline "python3 tools/bench/hf_train_step.py --shape 1.3b --batch 8 --seq-len 2048"
// Like with like: each --micro-batch is a setting of its own, run on both sides (the baseline gets
// `--micro-batch M` appended) and compared at that setting; "min_speedup" is the smallest of
// those. Every measured run, ours and the baseline's, is a process of its own, so the peak
// memory each reports (peak RSS on CPU, the allocator's peak on CUDA) is that run's alone, and
// each starts on an idle device.
#include <torch/version.h>
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "bespoke/core/allocator.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"
#include "bespoke/train/trainer.h"
#include "llama_shape.h"
#include "measure.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// config.json of the shape: "1.3b" is DESIGN.md's LLaMA 1.345B; "small" fits a 2-core CPU.
json llama_config(const std::string& shape) {
  return bench::llama_config(shape == "1.3b" ? bench::LlamaShape{2048, 24, 16, 16, 5504, 32000, 4096, 10000.0}
                                             : bench::LlamaShape{256, 4, 8, 8, 688, 4096, 4096, 10000.0});
}

void write_model(const std::string& dir, const json& config) {
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json") << config.dump(1);
  bespoke::model::Transformer net(bespoke::model::spec_from_hf_config(config));
  bespoke::model::init_random(net);
  bespoke::io::write_safetensors(dir + "/model.safetensors", bespoke::model::hf_state_dict(net));
}

void write_rows(const std::string& path, int64_t rows, int64_t seq_len, int64_t vocab) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int64_t> token(0, vocab - 1);
  std::ofstream out(path);
  for (int64_t r = 0; r < rows; ++r) {
    json ids = json::array();
    for (int64_t t = 0; t <= seq_len; ++t) ids.push_back(token(rng));
    out << json{{"ids", ids}}.dump() << "\n";
  }
}

// Steps before the throughput is measured: the first allocate, tune and fill caches.
constexpr int kWarmup = 2;

// Tokens per second between the end of step `skip` and the last step.
double steady_tokens_per_s(const std::string& metrics, int64_t skip) {
  std::ifstream in(metrics);
  std::vector<json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(json::parse(l));
  const json &a = lines.at(skip - 1), &b = lines.back();
  return (b["tokens"].get<double>() - a["tokens"].get<double>()) /
         (b["elapsed_s"].get<double>() - a["elapsed_s"].get<double>());
}

// `s` as one shell word.
std::string shell_word(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// One measured run: trains at micro-batch `micro` on the model and rows in `work`, in this
// process, and returns its throughput and peak memory.
json measure(const std::string& work, int64_t micro, const std::string& device, const std::string& dtype, int64_t batch,
             int64_t seq_len, int64_t steps) {
  bespoke::train::TrainConfig c;
  c.model = work + "/model";
  c.data = work + "/data.jsonl";
  c.out = work + "/run";
  c.steps = steps;
  c.seq_len = seq_len;
  c.batch = batch;
  c.micro_batch = micro;
  c.device = device;
  c.bf16 = dtype == "bf16";
  c.schedule.peak = 1e-4;
  const std::atomic<bool> run{false};
  fs::remove_all(c.out);
  try {
    bespoke::train::train(c, run);
  } catch (const std::exception& e) {  // out of memory, say: the run reports it
    return {{"error", std::string(e.what()).substr(0, 200)}, {"peak_gib", bench::peak_gib(device)}};
  }
  return {{"tokens_per_s", steady_tokens_per_s(c.out + "/metrics.jsonl", kWarmup)},
          {"peak_gib", bench::peak_gib(device)}};
}

}  // namespace

int main(int argc, char** argv) {
  bespoke::keep_freed_memory();
  CLI::App app("bespoke train step throughput against a baseline");
  std::string shape = "small", device = "cpu", dtype = "f32", baseline, work = "/tmp/bespoke-bench-train";
  int64_t batch = 8, seq_len = 256, steps = 8, threads = 0, measure_micro = 0;
  std::vector<int64_t> micros;
  app.add_option("--shape", shape)->check(CLI::IsMember({"small", "1.3b"}));
  app.add_option("--device", device);
  app.add_option("--dtype", dtype)->check(CLI::IsMember({"f32", "bf16"}));
  app.add_option("--batch", batch)->check(CLI::PositiveNumber);
  app.add_option("--micro-batch", micros, "rows per forward; repeat for one setting each (default: the whole batch)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seq-len", seq_len)->check(CLI::PositiveNumber);
  app.add_option("--steps", steps, "steps per run, the first 2 of them warmup")
      ->check(CLI::Range(int64_t(kWarmup) + 1, int64_t(1) << 20));
  app.add_option("--baseline", baseline,
                 "command printing the baseline's JSON; gets --shape, --batch, --seq-len, --steps, --warmup and "
                 "--micro-batch appended");
  app.add_option("--work", work, "scratch directory");
  app.add_option("--threads", threads, "intra-op threads (0: libtorch's default); give the baseline the same");
  app.add_option("--measure", measure_micro,
                 "(used by the benchmark itself) one measured run at this micro-batch on --work's model and rows");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) at::set_num_threads(threads);
  if (measure_micro > 0) {
    const json one = measure(work, measure_micro, device, dtype, batch, seq_len, steps);
    std::cout << one.dump() << std::endl;
    return one.contains("error") ? 1 : 0;
  }

  const json config = llama_config(shape);
  fs::remove_all(work);
  write_model(work + "/model", config);
  write_rows(work + "/data.jsonl", batch * steps, seq_len, config["vocab_size"]);
  if (micros.empty()) micros.push_back(batch);
  json result = {
      {"bench", "train_step"},    {"shape", shape},     {"device", device}, {"dtype", dtype},
      {"batch", batch},           {"seq_len", seq_len}, {"steps", steps},   {"threads", at::get_num_threads()},
      {"libtorch", TORCH_VERSION}};
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string ours = shell_word(self) + " --shape " + shape + " --device " + shell_word(device) + " --dtype " +
                           dtype + " --batch " + std::to_string(batch) + " --seq-len " + std::to_string(seq_len) +
                           " --steps " + std::to_string(steps) + " --threads " + std::to_string(threads) + " --work " +
                           shell_word(work);
  const std::string theirs = baseline + " --shape " + shape + " --batch " + std::to_string(batch) + " --seq-len " +
                             std::to_string(seq_len) + " --steps " + std::to_string(steps - kWarmup) + " --warmup " +
                             std::to_string(kWarmup);
  for (const int64_t micro : micros) {
    json one = {{"micro_batch", micro}};
    // The baseline first: each side is a fresh process on an idle device.
    if (!baseline.empty()) one["baseline"] = bench::run_measurement(theirs + " --micro-batch " + std::to_string(micro));
    one["bespoke"] = bench::run_measurement(ours + " --measure " + std::to_string(micro));
    if (one["bespoke"].contains("tokens_per_s") && one.contains("baseline") &&
        one["baseline"].contains("tokens_per_s")) {
      const double speedup =
          one["bespoke"]["tokens_per_s"].get<double>() / one["baseline"]["tokens_per_s"].get<double>();
      one["speedup"] = speedup;
      if (!result.contains("min_speedup") || speedup < result["min_speedup"].get<double>())
        result["min_speedup"] = speedup;
    }
    result["runs"].push_back(one);
  }
  std::cout << result.dump(1) << std::endl;
  return 0;
}
