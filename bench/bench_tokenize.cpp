// Claim: tokenizer.json encoding runs at a useful rate on mixed text (prose, code, JSON,
// CJK, emoji). Corpus: 10 MB generated deterministically; tokenizers: the fixtures' byte-level
// BPE and byte-fallback BPE. Reports bytes_per_second (JSON with --benchmark_format=json).
// The comparison with llama.cpp's tokenizer on an exported GGUF waits for GGUF export.
// Run: build/bench/bench_tokenize --benchmark_format=json
#include <benchmark/benchmark.h>

#include <random>

#include "bespoke/text/tokenizer.h"
#include "bespoke/text/utf8.h"

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

void encode(benchmark::State& state, const char* tokenizer_dir) {
  const auto tokenizer = bespoke::text::load_tokenizer(std::string(BESPOKE_FIXTURES) + "/hf/" + tokenizer_dir);
  const std::string& text = corpus();
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tokenizer->encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
  state.counters["tokens"] = double(tokens);
}

BENCHMARK_CAPTURE(encode, byte_level_bpe, "tokenizer_bpe")->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(encode, byte_fallback_bpe, "tokenizer_spm")->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
