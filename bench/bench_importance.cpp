// Claims: a Minitron importance pass costs at most 1.2x a plain forward over the same tokens, and
// its peak memory is flat in the number of samples. The model is a LLaMA shape with random
// weights built in memory; the rows are random tokens. The two timings run in this process, each
// the fastest of --repeats passes after a warm-up; the memory runs are processes of their own
// (peak RSS on CPU, the allocator's peak on CUDA) at --samples N and 4N. Taylor's cost (a
// backward per batch) is reported beside them. Output: JSON.
// Run (CPU): build/bench/bench_importance --threads 2
// Run (GPU): build/bench/bench_importance --shape 8b --device cuda --dtype bf16 --samples 16 --seq-len 2048 --batch 4
#include <torch/version.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bespoke/core/allocator.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/prune/importance.h"
#include "llama_shape.h"
#include "measure.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Setup {
  std::string shape = "small", device = "cpu", dtype = "f32";
  int64_t samples = 16, seq_len = 256, batch = 4, repeats = 3;
};

// config.json of the shape: "8b" is Llama 3 8B's; "small" fits a 2-core CPU.
json llama_config(const std::string& shape) {
  return bench::llama_config(shape == "8b" ? bench::kLlama3_8B
                                           : bench::LlamaShape{512, 6, 8, 4, 1536, 4096, 8192, 500000.0});
}

bespoke::model::Transformer build(const Setup& s) {
  const torch::Dtype dtype = s.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  bespoke::model::Transformer net(bespoke::model::spec_from_hf_config(llama_config(s.shape)),
                                  torch::TensorOptions().dtype(dtype).device(torch::Device(s.device)));
  bespoke::model::init_random(net);
  return net;
}

std::vector<torch::Tensor> rows(const Setup& s, int64_t vocab) {
  torch::manual_seed(1);
  std::vector<torch::Tensor> out;
  for (int64_t r = 0; r < s.samples; r += s.batch)
    out.push_back(torch::randint(vocab, {std::min(s.batch, s.samples - r), s.seq_len}, torch::kInt64));
  return out;
}

void synchronize(const std::string& device) {
#ifdef BESPOKE_BENCH_CUDA
  if (device.rfind("cuda", 0) == 0) torch::cuda::synchronize();
#endif
}

// The fastest of `repeats` runs of each pass, in seconds, after one unmeasured run of each. The
// passes take turns, so that load from elsewhere on the machine falls on all of them alike.
std::vector<double> fastest(const Setup& s, const std::vector<std::function<void()>>& passes) {
  for (const auto& pass : passes) pass();
  std::vector<double> best(passes.size(), 1e300);
  for (int64_t r = 0; r < s.repeats; ++r)
    for (size_t i = 0; i < passes.size(); ++i) {
      synchronize(s.device);
      const auto start = std::chrono::steady_clock::now();
      passes[i]();
      synchronize(s.device);
      best[i] = std::min(best[i], std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  return best;
}

// One importance pass in this process: its peak memory and throughput.
json measure_memory(const Setup& s) {
  bespoke::model::Transformer net = build(s);
  const std::vector<torch::Tensor> batches = rows(s, net->spec().vocab_size);
  synchronize(s.device);
  const auto start = std::chrono::steady_clock::now();
  bespoke::prune::activation_importance(net, batches);
  synchronize(s.device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"samples", s.samples},
          {"peak_gib", bench::peak_gib(s.device)},
          {"tokens_per_s", double(s.samples * s.seq_len) / seconds}};
}

json timings(const Setup& s) {
  bespoke::model::Transformer net = build(s);
  const std::vector<torch::Tensor> batches = rows(s, net->spec().vocab_size);
  const torch::Device device(s.device);
  const std::vector<double> t = fastest(s, {[&] {
                                              torch::NoGradGuard no_grad;
                                              for (const torch::Tensor& ids : batches) net->forward(ids.to(device));
                                            },
                                            [&] { bespoke::prune::activation_importance(net, batches); },
                                            [&] { bespoke::prune::taylor_importance(net, batches); }});
  const double forward = t[0], minitron = t[1], taylor = t[2];
  const double tokens = double(s.samples * s.seq_len);
  return {{"forward_tokens_per_s", tokens / forward},
          {"minitron_tokens_per_s", tokens / minitron},
          {"taylor_tokens_per_s", tokens / taylor},
          {"minitron_over_forward", minitron / forward},
          {"taylor_over_forward", taylor / forward}};
}

}  // namespace

int main(int argc, char** argv) {
  bespoke::keep_freed_memory();
  CLI::App app("bespoke importance pass against a plain forward, and its memory against the samples");
  Setup s;
  int64_t threads = 0;
  bool memory_only = false;
  app.add_option("--shape", s.shape)->check(CLI::IsMember({"small", "8b"}));
  app.add_option("--device", s.device);
  app.add_option("--dtype", s.dtype)->check(CLI::IsMember({"f32", "bf16"}));
  app.add_option("--samples", s.samples, "rows N of the timing and of the smaller memory run (the other: 4N)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seq-len", s.seq_len)->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  app.add_option("--batch", s.batch)->check(CLI::PositiveNumber);
  app.add_option("--repeats", s.repeats)->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "intra-op threads (0: libtorch's default)");
  app.add_flag("--memory-only", memory_only, "(used by the benchmark itself) one pass, then its peak memory");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) at::set_num_threads(threads);
  if (memory_only) {
    std::cout << measure_memory(s).dump() << std::endl;
    return 0;
  }

  json result = {
      {"bench", "importance"},    {"shape", s.shape},     {"device", s.device}, {"dtype", s.dtype},
      {"samples", s.samples},     {"seq_len", s.seq_len}, {"batch", s.batch},   {"threads", at::get_num_threads()},
      {"libtorch", TORCH_VERSION}};
  result["time"] = timings(s);
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const auto child = [&](int64_t samples) {
    return bench::run_measurement(self + " --memory-only --shape " + s.shape + " --device " + s.device + " --dtype " +
                                  s.dtype + " --samples " + std::to_string(samples) + " --seq-len " +
                                  std::to_string(s.seq_len) + " --batch " + std::to_string(s.batch) + " --threads " +
                                  std::to_string(threads));
  };
  const json small = child(s.samples), large = child(4 * s.samples);
  result["memory"] = {{"n", small}, {"4n", large}};
  if (small.contains("peak_gib") && large.contains("peak_gib"))
    result["memory"]["peak_4n_over_n"] = large["peak_gib"].get<double>() / small["peak_gib"].get<double>();
  std::cout << result.dump(1) << std::endl;
  return 0;
}
