// Claim: incremental decoding through the KV cache beats recomputing the whole prefix for
// every new token. Baseline (full recompute) and cached decoding run in the same process on
// the same random model; output JSON with --benchmark_format=json.
// Run: build/bench/bench_decode --benchmark_format=json [--device via BESPOKE_BENCH_DEVICE]
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "bespoke/model/generate.h"
#include "bespoke/model/transformer.h"

namespace {

using bespoke::model::LayerSpec;
using bespoke::model::ModelSpec;

// A Llama-shaped model small enough for a 2-core CPU: 4 layers, d 256, GQA 8/2, vocab 4096.
ModelSpec bench_spec() {
  ModelSpec s;
  s.family = "llama";
  s.vocab_size = 4096;
  s.hidden_size = 256;
  LayerSpec l;
  l.n_heads = 8;
  l.n_kv_heads = 2;
  l.head_dim = 32;
  l.ffn_dim = 688;
  s.layers.assign(4, l);
  return s;
}

torch::Device bench_device() {
  const char* d = std::getenv("BESPOKE_BENCH_DEVICE");
  return torch::Device(d ? d : "cpu");
}

constexpr int64_t kPrompt = 64;
constexpr int64_t kNew = 32;

void BM_DecodeFullRecompute(benchmark::State& state) {
  torch::manual_seed(0);
  bespoke::model::Transformer net(bench_spec(), bench_device());
  bespoke::model::init_random(net);
  torch::NoGradGuard no_grad;
  const torch::Tensor prompt = torch::randint(4096, {1, kPrompt}, torch::TensorOptions().dtype(torch::kInt64).device(bench_device()));
  for (auto _ : state) {
    torch::Tensor ids = prompt;
    for (int64_t i = 0; i < kNew; ++i) {
      torch::Tensor logits = net->forward(ids).logits;
      ids = torch::cat({ids, logits.select(1, ids.size(1) - 1).argmax(-1, true)}, 1);
    }
    benchmark::DoNotOptimize(ids);
  }
  state.counters["tokens_per_s"] = benchmark::Counter(double(kNew) * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_DecodeKvCache(benchmark::State& state) {
  torch::manual_seed(0);
  bespoke::model::Transformer net(bench_spec(), bench_device());
  bespoke::model::init_random(net);
  const torch::Tensor prompt = torch::randint(4096, {1, kPrompt}, torch::TensorOptions().dtype(torch::kInt64).device(bench_device()));
  for (auto _ : state) benchmark::DoNotOptimize(bespoke::model::generate_greedy(net, prompt, kNew));
  state.counters["tokens_per_s"] = benchmark::Counter(double(kNew) * state.iterations(), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_DecodeFullRecompute)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_DecodeKvCache)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
