// Claim: the chunked delta rule (prefill and training) is much faster than running the Gated
// DeltaNet recurrence token by token, at the same result. Both forms of model/gated_deltanet.h on
// the same random inputs shaped like one Qwen3.5-9B DeltaNet layer's heads (32 value heads,
// dk = dv = 128; --heads to shrink), T tokens from a zero state, fp32. Reports the median of
// --repeats runs of each, the speedup, and the largest difference between their outputs.
// Output: JSON.
// Run: build/bench/bench_deltanet [--tokens 2048] [--heads 32] [--repeats 3] [--device cpu|cuda] [--threads N]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bespoke/model/gated_deltanet.h"

namespace {

struct Inputs {
  torch::Tensor q, k, v, g, beta;
};

// As the layer makes them: unit-norm q (scaled) and k, log-decays <= 0, beta in (0, 1).
Inputs random_inputs(int64_t heads, int64_t T, int64_t dim, const torch::Device& device) {
  torch::manual_seed(0);
  const auto o = torch::TensorOptions().device(device);
  const auto unit = [](const torch::Tensor& x) { return x / x.norm(2, -1, true); };
  return {unit(torch::randn({1, heads, T, dim}, o)) / std::sqrt(double(dim)), unit(torch::randn({1, heads, T, dim}, o)),
          torch::randn({1, heads, T, dim}, o), -torch::rand({1, heads, T}, o) * 0.1, torch::rand({1, heads, T}, o)};
}

double seconds_since(std::chrono::steady_clock::time_point start, const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x[x.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chunked delta rule against the token-by-token recurrence"};
  int64_t tokens = 2048, heads = 32, dim = 128;
  int repeats = 3, threads = 0;
  std::string device_name = "cpu";
  app.add_option("--tokens", tokens)->check(CLI::PositiveNumber);
  app.add_option("--heads", heads)->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats)->check(CLI::PositiveNumber);
  app.add_option("--device", device_name);
  app.add_option("--threads", threads);
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) torch::set_num_threads(threads);
  const torch::Device device(device_name);
  torch::NoGradGuard no_grad;
  const Inputs in = random_inputs(heads, tokens, dim, device);
  std::vector<double> chunked_s, recurrent_s;
  torch::Tensor chunked_out, recurrent_out;
  for (int r = 0; r <= repeats; ++r) {  // run 0 warms up
    torch::Tensor s1, s2;
    auto start = std::chrono::steady_clock::now();
    chunked_out = bespoke::model::delta_rule_chunked(in.q, in.k, in.v, in.g, in.beta, s1);
    const double c = seconds_since(start, device);
    start = std::chrono::steady_clock::now();
    recurrent_out = bespoke::model::delta_rule_recurrent(in.q, in.k, in.v, in.g, in.beta, s2);
    const double t = seconds_since(start, device);
    if (r > 0) chunked_s.push_back(c), recurrent_s.push_back(t);
  }
  const double c = median(chunked_s), t = median(recurrent_s);
  const nlohmann::json out = {{"benchmark", "deltanet"},
                              {"device", device_name},
                              {"threads", torch::get_num_threads()},
                              {"tokens", tokens},
                              {"value_heads", heads},
                              {"head_dim", dim},
                              {"chunked", {{"seconds", c}, {"tokens_per_s", tokens / c}, {"runs", chunked_s}}},
                              {"recurrent", {{"seconds", t}, {"tokens_per_s", tokens / t}, {"runs", recurrent_s}}},
                              {"speedup", t / c},
                              {"max_abs_difference", (chunked_out - recurrent_out).abs().max().item<double>()}};
  std::cout << out.dump(2) << "\n";
  return 0;
}
