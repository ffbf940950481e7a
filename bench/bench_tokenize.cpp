// Claim: Bespoke's tokenizer.json encoding keeps pace with llama.cpp's tokenizer. Corpus: 10 MB
// of mixed text (prose, code, JSON, CJK, emoji) generated deterministically; tokenizers: the
// fixtures' byte-level BPE (llama) and byte-fallback BPE (mistral). Baseline in the same run:
// the same corpus through llama.cpp (node-llama-cpp, tools/interop/tokenize_speed.mjs) on the
// GGUF Bespoke exports of that model. Counters: bytes_per_second, llama_cpp_bytes_per_second,
// ratio (Bespoke / llama.cpp). JSON with --benchmark_format=json.
// Run: build/bench/bench_tokenize --benchmark_format=json
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "bespoke/export/gguf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/text/tokenizer.h"

namespace {

std::string corpus() {
  static const std::string text = [] {
    const std::vector<std::string> pieces = {
        "The daemon stores each memory as a record; ", "Decided to use SQLite WAL mode (3.2x faster writes). ",
        "def encode(self, text: str) -> list[int]:\n    return self.model.encode(text)\n",
        "{\"summary\": \"retry with backoff\", \"salience\": 0.72, \"tags\": [\"db\", \"perf\"]}\n",
        "错误：无法连接到数据库服务器。", "Fehler beim Öffnen der Datei «config.toml».", "🚀 shipped v1.4.2 — 🎉 ",
        "    at com.example.Server.handle(Server.java:214)\n", "  \t  ", "\n\n"};
    std::mt19937 rng(42);
    std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
    std::string s;
    while (s.size() < 10u * 1024 * 1024) s += pieces[pick(rng)];
    return s;
  }();
  return text;
}

// llama.cpp's bytes per second on the corpus with `model`'s exported vocabulary, or 0 when the
// interop harness is not installed (scripts/setup.sh --test).
double llama_cpp_rate(const std::string& model) {
  const std::string dir = std::filesystem::temp_directory_path() / ("bespoke_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string gguf = dir + "/m.gguf", text = dir + "/corpus.txt", out = dir + "/out.json";
  bespoke::model::Transformer net = bespoke::model::load_model(model);
  bespoke::exporter::export_gguf(net, model, gguf, bespoke::io::GgmlType::kF32);
  std::ofstream(text) << corpus();
  const std::string cmd = "node " + std::string(BESPOKE_INTEROP) + "/tokenize_speed.mjs " + gguf + " " + text + " > " + out;
  double rate = 0;
  if (std::system(cmd.c_str()) == 0) rate = nlohmann::json::parse(std::ifstream(out))["bytes_per_second"].get<double>();
  std::filesystem::remove_all(dir);
  return rate;
}

void encode(benchmark::State& state, const char* model) {
  const std::string dir = std::string(BESPOKE_FIXTURES) + "/hf/" + model;
  const auto tokenizer = bespoke::text::load_tokenizer(dir);
  const std::string& text = corpus();
  size_t tokens = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const auto ids = tokenizer->encode(text, /*add_special=*/false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
  state.counters["tokens"] = double(tokens);
  const double ours = double(state.iterations()) * double(text.size()) / seconds;
  const double theirs = llama_cpp_rate(dir);
  state.counters["llama_cpp_bytes_per_second"] = theirs;
  state.counters["ratio"] = theirs > 0 ? ours / theirs : 0.0;
}

BENCHMARK_CAPTURE(encode, byte_level_bpe, "llama")->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(encode, byte_fallback_bpe, "mistral")->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
