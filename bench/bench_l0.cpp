// Claim: a mask-learning step (hard-concrete gates on every unit type, drawn each forward, the
// Lagrangian's expected sizes, AdamW over weights, gates and multipliers) costs little more
// than a plain training step of the same model in the same process; the anchor is PyTorch eager
// with hooks at 1.073x. The frozen-weight step (gates and multipliers only: no weight gradient
// is formed) against the same plain step. Random weights and token rows; each figure is the
// median of --repeats steps after one warm-up step, the three taking turns. With --shape 8b (Llama 3 8B's shape, for a
// GPU: --device cuda --dtype bf16) only the frozen step runs, and its peak memory is reported.
// Output: JSON.
// Run: build/bench/bench_l0 --threads 2
//      build/bench/bench_l0 --shape 8b --device cuda --dtype bf16 --batch 1 --seq-len 2048
#include <torch/cuda.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bespoke/model/hf_config.h"
#include "bespoke/prune/expected_size.h"
#include "bespoke/prune/hard_concrete.h"
#include "bespoke/prune/lagrangian.h"
#include "bespoke/prune/learned_masks.h"
#include "llama_shape.h"
#include "measure.h"

using nlohmann::json;
using namespace bespoke;

namespace {

struct Setup {
  std::string device = "cpu", dtype = "f32", shape = "small";
  int64_t batch = 4, seq_len = 256;
  int repeats = 5;
};

// The step a run times: forward, next-token loss (+ the Lagrangian), backward, AdamW.
struct Step {
  model::Transformer net{nullptr};
  std::vector<torch::Tensor> params;  // what the optimizer updates
  model::UnitMasks gates;             // empty for the plain step
  std::unique_ptr<prune::Lagrangian> lagrangian;
  prune::Target target;
  std::unique_ptr<torch::optim::AdamW> opt;

  void run(const torch::Tensor& ids) {
    const model::ModelSpec& s = net->spec();
    if (lagrangian) net->set_masks(std::make_shared<model::UnitMasks>(prune::sample_masks(s, gates)));
    const int64_t T = ids.size(1);
    const torch::Tensor logits = net->forward(ids.narrow(1, 0, T - 1)).logits;
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits.flatten(0, 1).to(torch::kFloat32),
                                                              ids.narrow(1, 1, T - 1).flatten());
    if (lagrangian)
      loss = loss + lagrangian->term(prune::size_constraints(s, prune::open_probabilities(s, gates), target), 10);
    opt->zero_grad();
    loss.backward();
    opt->step();
  }
};

// The median seconds of each step over `repeats` rounds, the steps taking turns within a round so
// that a machine's drift falls on all of them alike; one warm-up step each first.
std::vector<double> median_step_s(std::vector<Step*> steps, const torch::Tensor& ids, int repeats,
                                  const std::string& device) {
  const auto sync = [&] {
    if (device != "cpu") torch::cuda::synchronize();
  };
  for (Step* step : steps) step->run(ids);
  sync();
  std::vector<std::vector<double>> s(steps.size());
  for (int r = 0; r < repeats; ++r)
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      steps[i]->run(ids);
      sync();
      s[i].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  std::vector<double> out;
  for (std::vector<double>& v : s) {
    std::sort(v.begin(), v.end());
    out.push_back(v[v.size() / 2]);
  }
  return out;
}

Step make_step(const model::ModelSpec& spec, const Setup& o, bool masks, bool frozen) {
  Step step;
  const torch::Dtype dtype = o.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  torch::manual_seed(0);
  step.net = model::Transformer(spec, torch::TensorOptions().dtype(dtype).device(o.device));
  model::init_random(step.net);
  for (torch::Tensor& p : step.net->parameters()) {
    p.requires_grad_(!frozen);
    if (!frozen) step.params.push_back(p);
  }
  if (masks) {
    const model::ModelSpec& s = spec;
    step.target =
        prune::Target{s.n_layers() * 3 / 4,    s.hidden_size / 2, s.layers[0].n_heads / 2, s.layers[0].n_kv_heads,
                      s.layers[0].ffn_dim / 2, s.n_layers() / 2,  s.n_layers() / 2};
    step.gates = prune::map_gates(prune::make_learned_masks(s, step.target, 0),
                                  [&](const torch::Tensor& g) { return g.to(o.device).requires_grad_(); });
    for (const auto& [name, g] : prune::named_gates(step.gates)) step.params.push_back(g);
    step.lagrangian = std::make_unique<prune::Lagrangian>(
        prune::size_constraints(s, prune::open_probabilities(s, step.gates), step.target), 10);
    torch::Tensor lambda = step.lagrangian->lambdas();
    lambda.set_data(lambda.to(o.device));
    step.params.push_back(lambda.requires_grad_());
  }
  step.opt = std::make_unique<torch::optim::AdamW>(step.params, torch::optim::AdamWOptions(1e-4));
  return step;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("a mask-learning step against a plain training step");
  Setup o;
  int threads = 2;
  app.add_option("--threads", threads, "CPU threads")->capture_default_str();
  app.add_option("--device", o.device, "cpu or cuda")->capture_default_str();
  app.add_option("--dtype", o.dtype, "f32 or bf16")->check(CLI::IsMember({"f32", "bf16"}))->capture_default_str();
  app.add_option("--shape", o.shape,
                 "small (hidden 512, 4 layers), wide (hidden 2048, 2 layers: the masks' elementwise work against "
                 "wider matmuls) or 8b (Llama 3 8B: frozen step only)")
      ->check(CLI::IsMember({"small", "wide", "8b"}))
      ->capture_default_str();
  app.add_option("--batch", o.batch, "rows per step")->capture_default_str();
  app.add_option("--seq-len", o.seq_len, "tokens per row")->capture_default_str();
  app.add_option("--repeats", o.repeats, "timed steps (the median is reported)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(threads);
  const bench::LlamaShape small{512, 4, 8, 2, 1536, 4096, 1024, 10000.0},
      wide{2048, 2, 16, 4, 5632, 4096, 1024, 10000.0};
  const model::ModelSpec spec = model::spec_from_hf_config(bench::llama_config(o.shape == "8b"     ? bench::kLlama3_8B
                                                                               : o.shape == "wide" ? wide
                                                                                                   : small));
  const torch::Tensor ids =
      torch::randint(spec.vocab_size, {o.batch, o.seq_len + 1}, torch::TensorOptions().dtype(torch::kInt64))
          .to(o.device);
  const double tokens = double(o.batch * o.seq_len);
  json out = {{"device", o.device},
              {"dtype", o.dtype},
              {"shape", o.shape},
              {"batch", o.batch},
              {"seq_len", o.seq_len},
              {"threads", threads},
              {"params", model::parameter_count(spec)}};
  if (o.shape == "8b") {
    Step frozen = make_step(spec, o, true, true);
    const double s = median_step_s({&frozen}, ids, o.repeats, o.device)[0];
    out["frozen"] = {{"step_s", s}, {"tokens_per_s", tokens / s}, {"peak_gib", bench::peak_gib(o.device)}};
    std::cout << out.dump() << "\n";
    return 0;
  }
  Step plain = make_step(spec, o, false, false), joint = make_step(spec, o, true, false),
       frozen = make_step(spec, o, true, true);
  const std::vector<double> t = median_step_s({&plain, &joint, &frozen}, ids, o.repeats, o.device);
  const double p = t[0], j = t[1], f = t[2];
  out["plain"] = {{"step_s", p}, {"tokens_per_s", tokens / p}};
  out["masks_joint"] = {{"step_s", j}, {"tokens_per_s", tokens / j}, {"vs_plain", j / p}};
  out["masks_frozen"] = {{"step_s", f}, {"tokens_per_s", tokens / f}, {"vs_plain", f / p}};
  out["anchor_pytorch_hooks_vs_plain"] = 1.073;
  std::cout << out.dump() << "\n";
  return 0;
}
