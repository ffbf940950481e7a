// Claim: a one-shot prune of the demo's model (pipeline/demo.h: vocabulary 2048, hidden 128, 4
// layers, 4 query heads in 2 KV groups, FFN 384) takes well under a second after its importance
// pass, and that pass costs little more than a plain forward over the same tokens. Random
// weights, random token rows. Each step is the median of --repeats runs. Also: the shape
// search's enumeration for a Llama-3-8B-shaped spec (no weights) at half its size. Output: JSON.
// Run: build/bench/bench_prune --threads 2
#include <unistd.h>

#include <torch/version.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/non_uniform.h"
#include "bespoke/prune/rank.h"
#include "bespoke/prune/shape_search.h"
#include "llama_shape.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json demo_config() {
  return {{"model_type", "llama"},    {"hidden_size", 128},       {"num_hidden_layers", 4},
          {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"head_dim", 32},
          {"intermediate_size", 384}, {"vocab_size", 2048},       {"max_position_embeddings", 1024},
          {"rms_norm_eps", 1e-5},     {"rope_theta", 10000.0},    {"tie_word_embeddings", false},
          {"hidden_act", "silu"}};
}

// Median seconds of `repeats` runs of `work`.
template <typename F>
double median_s(int repeats, F&& work) {
  std::vector<double> s;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    work();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("importance, one-shot prune and extraction of the demo's model");
  int threads = 2, repeats = 5;
  int64_t rows = 32, seq_len = 128, batch = 8;
  std::string target = "heads=2,kv_heads=1,ffn=192";
  app.add_option("--threads", threads, "intra-op threads")->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "runs per step; each reports the median")->check(CLI::PositiveNumber);
  app.add_option("--rows", rows, "calibration rows")->check(CLI::PositiveNumber);
  app.add_option("--seq-len", seq_len, "tokens per row")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "rows per forward")->check(CLI::PositiveNumber);
  app.add_option("--target", target, "the cut");
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(threads);
  namespace prune = bespoke::prune;
  torch::manual_seed(0);
  const bespoke::model::ModelSpec spec = bespoke::model::spec_from_hf_config(demo_config());
  bespoke::model::Transformer net(spec);
  bespoke::model::init_random(net);
  std::vector<torch::Tensor> batches;
  for (int64_t r = 0; r < rows; r += batch)
    batches.push_back(torch::randint(spec.vocab_size, {std::min(batch, rows - r), seq_len}, torch::kInt64));
  const prune::Target t = prune::parse_target(target);
  prune::Importance imp;
  const double forward_s = median_s(repeats, [&] {
    torch::NoGradGuard no_grad;
    for (const torch::Tensor& ids : batches) net->forward(ids);
  });
  const double importance_s = median_s(repeats, [&] { imp = prune::activation_importance(net, batches); });
  prune::Selection sel;
  const double rank_s = median_s(repeats, [&] { sel = prune::ranked_selection(spec, imp, t); });
  const double non_uniform_s = median_s(repeats, [&] { prune::non_uniform_selection(spec, imp, t); });
  bespoke::model::Transformer cut = prune::extract(net, sel);
  const double extract_s = median_s(repeats, [&] { cut = prune::extract(net, sel); });
  const std::string dir = fs::temp_directory_path() / ("bespoke_bench_prune_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  bespoke::io::write_safetensors(dir + "/model.safetensors", bespoke::model::hf_state_dict(net));
  std::ofstream(dir + "/config.json") << demo_config().dump(1);
  int run = 0;
  const double export_s =
      median_s(repeats, [&] { bespoke::model::export_hf(cut, dir, dir + "/cut" + std::to_string(run++)); });
  fs::remove_all(dir);
  const bespoke::model::ModelSpec big = bespoke::model::spec_from_hf_config(bench::llama_config(bench::kLlama3_8B));
  const prune::LayerChoice first = [](int64_t n) {
    std::vector<int64_t> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = i;
    return v;
  };
  std::vector<prune::Shape> shapes;
  const double search_s = median_s(1, [&] {
    shapes = prune::candidate_shapes(big, bespoke::model::parameter_count(big) / 2, first, true, true, 8);
  });
  const json result = {{"model", {{"params", bespoke::model::parameter_count(spec)}, {"shape", "demo"}}},
                       {"target", target},
                       {"cut_params", bespoke::model::parameter_count(cut->spec())},
                       {"tokens", rows * seq_len},
                       {"forward_s", forward_s},
                       {"importance_s", importance_s},
                       {"importance_over_forward", importance_s / forward_s},
                       {"rank_s", rank_s},
                       {"non_uniform_s", non_uniform_s},
                       {"extract_s", extract_s},
                       {"export_hf_s", export_s},
                       {"prune_and_extract_s", rank_s + extract_s},
                       {"search_8b_half_s", search_s},
                       {"search_8b_best",
                        {{"params", shapes.front().params},
                         {"layers", shapes.front().target.layers},
                         {"heads", shapes.front().target.heads},
                         {"kv_heads", shapes.front().target.kv_heads},
                         {"ffn", shapes.front().target.ffn}}},
                       {"threads", at::get_num_threads()},
                       {"repeats", repeats},
                       {"libtorch", TORCH_VERSION}};
  std::cout << result.dump() << "\n";
  return 0;
}
