#include "bespoke/pipeline/gguf_check.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/model/generate.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/domains.h"
#include "bespoke/pipeline/llama_cpp.h"
#include "bespoke/text/tokenizer.h"
#include "bespoke/train/data.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;

io::GgmlType ggml_type(const std::string& name) {
  if (name == "f32") return io::GgmlType::kF32;
  if (name == "f16") return io::GgmlType::kF16;
  if (name == "bf16") return io::GgmlType::kBF16;
  if (name == "q8_0") return io::GgmlType::kQ8_0;
  if (name == "q4_0") return io::GgmlType::kQ4_0;
  fail(ErrorKind::kInput, "export.types: unknown type " + name);
}

// The resident set now, in bytes (VmRSS in /proc/self/status).
int64_t resident_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

double max_abs_diff(const std::vector<std::vector<double>>& theirs, const torch::Tensor& ours) {
  double worst = 0;
  for (size_t t = 0; t < theirs.size(); ++t)
    for (size_t v = 0; v < theirs[t].size(); ++v)
      worst = std::max(worst, std::abs(theirs[t][v] - ours[t][v].item<double>()));
  return worst;
}

// The first record's texts (its messages' contents, or its text).
std::vector<std::string> first_record_texts(const std::string& jsonl) {
  std::ifstream in(jsonl);
  std::string line;
  std::getline(in, line);
  return record_texts(Json::parse(line));
}

}  // namespace

double logprob_tolerance(const std::string& type) {
  if (type == "f32") return 1e-3;
  if (type == "f16" || type == "bf16") return 0.1;
  return type == "q8_0" ? 0.5 : 1.5;
}

Json check_gguf(const GgufCheck& c) {
  const int64_t rss_before = resident_bytes();
  const auto load_started = std::chrono::steady_clock::now();
  model::Transformer net = model::load_model(c.model);
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count();
  const text::Encoder encoder(c.model);
  const text::Example first = train::read_examples(c.prompt_data, encoder).front();
  const int64_t n = std::min<int64_t>(64, static_cast<int64_t>(first.ids.size()));
  const std::vector<int64_t> ids(first.ids.begin(), first.ids.begin() + n);
  const torch::Tensor prompt = torch::tensor(ids, torch::kLong).unsqueeze(0);
  torch::Tensor ours;
  {
    torch::NoGradGuard no_grad;
    ours = torch::log_softmax(net->forward(prompt).logits[0].to(torch::kFloat64), -1);
  }
  const double bespoke_decode = model::time_greedy_decode(net, prompt, c.decode_tokens, c.repeats).median_decode();
  const Json bespoke = {{"load_seconds", load_seconds},
                        {"rss_bytes", resident_bytes() - rss_before},
                        {"tokens_per_s", static_cast<double>(c.decode_tokens) / bespoke_decode}};
  // The GGUF carries the tokenizer too: llama.cpp must cut the record's texts into our tokens.
  const std::vector<std::string> texts = first_record_texts(c.prompt_data);
  const auto tokenizer = text::load_tokenizer(c.model);
  std::vector<std::vector<int64_t>> our_tokens;
  for (const std::string& t : texts) {
    const std::vector<int32_t> ids32 = tokenizer->encode(t, false);
    our_tokens.emplace_back(ids32.begin(), ids32.end());
  }
  Json files = Json::array();
  bool all_ok = true;
  for (const std::string& type : c.types) {
    const std::string path = c.prefix + "-" + type + ".gguf";
    exporter::export_gguf(net, c.model, path, ggml_type(type));
    Json file = {{"path", path}, {"type", type}, {"bytes", fs::file_size(path)}};
    const LlamaCppRun run = run_llama_cpp(c.interop, path, ids, 8, texts);
    if (run.ok) {
      const double diff = max_abs_diff(run.logprobs, ours);
      file["tokenizer_agrees"] = run.tokens == our_tokens;
      file["max_logprob_diff"] = diff;
      file["llama_cpp_ok"] = file["tokenizer_agrees"].get<bool>() && diff < logprob_tolerance(type);
      try {
        const LlamaCppTiming timing = time_llama_cpp_decode(c.interop, path, ids, c.decode_tokens, c.repeats,
                                                            at::get_num_threads());
        file["load_seconds"] = timing.load_seconds;
        file["peak_rss_bytes"] = timing.peak_rss_bytes;
        file["model_rss_bytes"] = timing.peak_rss_bytes - timing.base_rss_bytes;
        file["tokens_per_s"] = static_cast<double>(c.decode_tokens) / timing.times.median_decode();
      } catch (const Error& e) {
        file["llama_cpp_ok"] = false;
        file["error"] = e.what();
      }
    } else {
      file["llama_cpp_ok"] = false;
      file["error"] = run.error;
    }
    all_ok = all_ok && file["llama_cpp_ok"].get<bool>();
    files.push_back(file);
  }
  return {{"files", files}, {"bespoke", bespoke}, {"llama_cpp_ok", all_ok}};
}

}  // namespace bespoke::pipeline
