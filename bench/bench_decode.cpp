// Claim: Bespoke's greedy decoding through its KV cache keeps pace with llama.cpp's on the same
// model. The model: random weights of a small Llama shape, exported to an F32 GGUF that
// llama.cpp runs through the interop harness (tools/interop/eval.mjs --time-decode,
// node-llama-cpp), F32 KV cache on both sides. Both decode greedily from the same random prompt
// with the same threads; each run is timed in two parts, the prompt (prefill, which also yields
// the first token) and the --new tokens after it one at a time (decode), model loading and
// process start excluded. Both sides report the median of --repeats runs. Output: JSON.
// llama.cpp runs on the CPU; --device cuda times Bespoke alone on the GPU.
// Run: build/bench/bench_decode [--threads 2] [--prompt 64] [--new 32] [--repeats 5]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bespoke/export/gguf_export.h"
#include "bespoke/model/generate.h"
#include "bespoke/model/transformer.h"
#include "bespoke/pipeline/llama_cpp.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A Llama-shaped model small enough for a 2-core CPU: 4 layers, d 256, GQA 8/2, vocab 4096.
bespoke::model::ModelSpec bench_spec() {
  bespoke::model::ModelSpec s;
  s.family = "llama";
  s.vocab_size = 4096;
  s.hidden_size = 256;
  s.max_position = 4096;
  bespoke::model::LayerSpec l;
  l.n_heads = 8;
  l.n_kv_heads = 2;
  l.head_dim = 32;
  l.ffn_dim = 688;
  s.layers.assign(4, l);
  return s;
}

// `net`'s weights in a model built on `device`.
bespoke::model::Transformer copy_to(bespoke::model::Transformer& net, const torch::Device& device) {
  if (device.is_cpu()) return net;
  bespoke::model::Transformer out(net->spec(), torch::TensorOptions().device(device));
  torch::NoGradGuard no_grad;
  const auto from = net->named_parameters();
  for (auto& p : out->named_parameters()) p.value().copy_(*from.find(p.key()));
  return out;
}

json summary(const bespoke::model::DecodeTimes& runs, int64_t prompt_len, int64_t n_new) {
  const double prefill = runs.median_prefill(), decode = runs.median_decode();
  return {{"prefill_seconds", prefill},
          {"prefill_tokens_per_s", prompt_len / prefill},
          {"decode_seconds", decode},
          {"decode_tokens_per_s", n_new / decode},
          {"decode_runs", runs.decode}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("greedy decoding against llama.cpp on the same GGUF");
  std::string device_name = "cpu";
  int threads = 2, repeats = 5;
  int64_t prompt_len = 64, n_new = 32;
  app.add_option("--device", device_name, "Bespoke's device (llama.cpp runs on the CPU)");
  app.add_option("--threads", threads, "CPU threads, the same on both sides")->check(CLI::PositiveNumber);
  app.add_option("--prompt", prompt_len, "prompt tokens")->check(CLI::PositiveNumber);
  app.add_option("--new", n_new, "tokens decoded after the prompt's next one")->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "runs per side; each reports the median")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (!fs::exists(std::string(BESPOKE_INTEROP) + "/node_modules/node-llama-cpp")) {
    std::cerr << "error: the llama.cpp harness is missing (" << BESPOKE_INTEROP
              << "/node_modules/node-llama-cpp): run npm ci --prefix tools/interop, or scripts/setup.sh\n";
    return 1;
  }
  at::set_num_threads(threads);
  const torch::Device device(device_name);
  const std::string dir = fs::temp_directory_path() / ("bespoke_bench_decode_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    torch::manual_seed(0);
    bespoke::model::Transformer net(bench_spec());
    bespoke::model::init_random(net);
    // The GGUF needs a tokenizer, which decoding from token ids never uses: the llama fixture's.
    const std::string gguf = dir + "/model.gguf";
    bespoke::exporter::export_gguf(net, std::string(BESPOKE_FIXTURES) + "/hf/llama", gguf, bespoke::io::GgmlType::kF32);
    const torch::Tensor prompt = torch::randint(bench_spec().vocab_size, {1, prompt_len}, torch::kInt64);
    const std::vector<int64_t> prompt_ids(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt_len);
    const bespoke::model::DecodeTimes theirs =
        bespoke::pipeline::time_llama_cpp_decode(BESPOKE_INTEROP, gguf, prompt_ids, n_new, repeats, threads).times;
    bespoke::model::Transformer on_device = copy_to(net, device);
    const bespoke::model::DecodeTimes ours =
        bespoke::model::time_greedy_decode(on_device, prompt.to(device), n_new, repeats);
    const json ours_json = summary(ours, prompt_len, n_new), theirs_json = summary(theirs, prompt_len, n_new);
    const json result = {{"bench", "decode"},
                         {"device", device.str()},
                         {"threads", threads},
                         {"prompt", prompt_len},
                         {"new", n_new},
                         {"repeats", repeats},
                         {"statistic", "median"},
                         {"bespoke", ours_json},
                         {"llama_cpp", theirs_json},
                         {"tokens_agree", ours.tokens == theirs.tokens},
                         {"decode_ratio", ours_json["decode_tokens_per_s"].get<double>() /
                                              theirs_json["decode_tokens_per_s"].get<double>()},
                         {"prefill_ratio", ours_json["prefill_tokens_per_s"].get<double>() /
                                               theirs_json["prefill_tokens_per_s"].get<double>()}};
    std::cout << result.dump(1) << std::endl;
  } catch (const std::exception& e) {
    fs::remove_all(dir);
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
