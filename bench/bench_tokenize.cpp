// Claim: Bespoke's tokenizer.json encoding keeps pace with llama.cpp's tokenizer. Corpus: 10 MB
// of mixed text (prose, code, JSON, CJK, emoji) generated deterministically; tokenizers: the
// fixtures' byte-level BPE (llama) and byte-fallback BPE (mistral). Baseline in the same run:
// the same corpus through llama.cpp (node-llama-cpp, tools/interop/tokenize_speed.mjs) on the
// GGUF Bespoke exports of that model. Both sides encode the corpus --repeats times and report
// the median. Without the harness (scripts/setup.sh installs it) there is no baseline: the
// benchmark fails rather than report a ratio against nothing. Output: JSON.
// Run: build/bench/bench_tokenize [--repeats 5]
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/text/tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string corpus() {
  const std::vector<std::string> pieces = {
      "The daemon stores each memory as a record; ",
      "Decided to use SQLite WAL mode (3.2x faster writes). ",
      "def encode(self, text: str) -> list[int]:\n    return self.model.encode(text)\n",
      "{\"summary\": \"retry with backoff\", \"salience\": 0.72, \"tags\": [\"db\", \"perf\"]}\n",
      "错误：无法连接到数据库服务器。",
      "Fehler beim Öffnen der Datei «config.toml».",
      "🚀 shipped v1.4.2 — 🎉 ",
      "    at com.example.Server.handle(Server.java:214)\n",
      "  \t  ",
      "\n\n"};
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::string s;
  while (s.size() < 10u * 1024 * 1024) s += pieces[pick(rng)];
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Bespoke's seconds per encode of `text`, one entry per run, and the token count.
std::pair<std::vector<double>, size_t> bespoke_runs(const std::string& model, const std::string& text, int repeats) {
  const auto tokenizer = bespoke::text::load_tokenizer(model);
  std::vector<double> seconds;
  size_t tokens = 0;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    tokens = tokenizer->encode(text, /*add_special=*/false).size();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return {seconds, tokens};
}

// llama.cpp's runs on the corpus file with `model`'s vocabulary exported to GGUF, as
// tokenize_speed.mjs prints them; throws when the harness does not run.
json llama_cpp_runs(const std::string& model, const std::string& corpus_file, const std::string& dir, int repeats) {
  const std::string gguf = dir + "/m.gguf", out = dir + "/out.json";
  bespoke::model::Transformer net = bespoke::model::load_model(model);
  bespoke::exporter::export_gguf(net, model, gguf, bespoke::io::GgmlType::kF32);
  const std::string cmd = "node " + std::string(BESPOKE_INTEROP) + "/tokenize_speed.mjs " + gguf + " " + corpus_file +
                          " " + std::to_string(repeats) + " > " + out;
  const int status = std::system(cmd.c_str());
  const json j = json::parse(std::ifstream(out), nullptr, false);
  if (status != 0 || !j.is_object() || !j.contains("seconds"))
    bespoke::fail(bespoke::ErrorKind::kIo,
                  "the llama.cpp harness failed (exit " + std::to_string(WEXITSTATUS(status)) + "): " + cmd);
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("tokenizer.json encoding throughput against llama.cpp's tokenizer");
  int repeats = 5;
  app.add_option("--repeats", repeats, "encodes of the corpus per side; each side reports the median")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (!fs::exists(std::string(BESPOKE_INTEROP) + "/node_modules/node-llama-cpp")) {
    std::cerr << "error: the llama.cpp harness is missing (" << BESPOKE_INTEROP
              << "/node_modules/node-llama-cpp): run npm ci --prefix tools/interop, or scripts/setup.sh\n";
    return 1;
  }
  const std::string dir = fs::temp_directory_path() / ("bespoke_bench_tokenize_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string text = corpus(), corpus_file = dir + "/corpus.txt";
  std::ofstream(corpus_file) << text;
  json result = {{"bench", "tokenize"}, {"corpus_bytes", text.size()}, {"repeats", repeats}, {"statistic", "median"}};
  try {
    for (const auto& [name, family] :
         {std::pair{"byte_level_bpe", "llama"}, std::pair{"byte_fallback_bpe", "mistral"}}) {
      const std::string model = std::string(BESPOKE_FIXTURES) + "/hf/" + family;
      const auto [ours, tokens] = bespoke_runs(model, text, repeats);
      const json theirs = llama_cpp_runs(model, corpus_file, dir, repeats);
      const double our_rate = text.size() / median(ours);
      const double their_rate = theirs["bytes"].get<double>() / median(theirs["seconds"].get<std::vector<double>>());
      result["runs"].push_back(
          {{"tokenizer", name},
           {"model", family},
           {"bespoke", {{"bytes_per_second", our_rate}, {"seconds", ours}, {"tokens", tokens}}},
           {"llama_cpp",
            {{"bytes_per_second", their_rate}, {"seconds", theirs["seconds"]}, {"tokens", theirs["tokens"]}}},
           {"ratio", our_rate / their_rate}});
    }
  } catch (const std::exception& e) {
    fs::remove_all(dir);
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  fs::remove_all(dir);
  std::cout << result.dump(1) << std::endl;
  return 0;
}
