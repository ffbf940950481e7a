// Claim: `bespoke serve` answers one client about as fast as llama.cpp decodes the same F32 GGUF,
// and batching (--parallel) raises throughput with more clients. The model: random weights of a
// small Llama shape with the llama fixture's tokenizer, exported to an F32 GGUF; the server
// serves that GGUF (its own tokenizer inside), in this process, over loopback. One client
// streams a completion: time to first token (request sent to the first content event) and
// decode tokens/s after it. llama.cpp (node-llama-cpp, tools/interop/eval.mjs --time-decode)
// runs the same prompt ids on the same file with the same threads: its prefill (which yields the
// first token) against our TTFT, its decode against ours. HTTP and JSON are in our numbers and
// not in its, so the ratios understate the engine. Then C concurrent clients (1, 4; 16 on a GPU),
// each sending non-streamed completions, with --parallel C: completion tokens per second over
// all. Medians of --repeats. Output: JSON.
// Run: build/bench/bench_serve [--threads 2] [--prompt-words 48] [--new 32] [--repeats 5] [--device cpu]
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bespoke/export/gguf_export.h"
#include "bespoke/model/transformer.h"
#include "bespoke/pipeline/llama_cpp.h"
#include "bespoke/serve/server.h"
#include "bespoke/text/tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

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

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// A server on `gguf` in this process, for as long as it lives.
class InProcessServer {
 public:
  InProcessServer(const std::string& gguf, int parallel, const std::string& device) : port_(free_port()) {
    bespoke::serve::ServeOptions o;
    o.model = gguf;
    o.port = port_;
    o.parallel = parallel;
    o.device = device;
    thread_ = std::thread([this, o] { bespoke::serve::serve(o, stop_); });
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 600 && !c.Get("/health"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~InProcessServer() {
    stop_ = true;
    thread_.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(600, 0);
    return c;
  }

 private:
  int port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One streamed completion: seconds to the first content event, then decode tokens/s after it.
std::pair<double, double> time_stream(const InProcessServer& server, const std::string& prompt, int64_t n_new) {
  httplib::Client c = server.client();
  const json body = {{"prompt", prompt}, {"max_tokens", n_new + 1}, {"stream", true},
                     {"stream_options", {{"include_usage", true}}}};
  const auto sent = Clock::now();
  Clock::time_point first, last;
  bool seen = false;
  int64_t tokens = 0;
  std::string pending;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    pending.append(data, n);
    for (size_t end; (end = pending.find("\n\n")) != std::string::npos; pending.erase(0, end + 2)) {
      const std::string event = pending.substr(0, end);
      if (event.rfind("data: {", 0) != 0) continue;
      const json e = json::parse(event.substr(6));
      if (e.contains("usage") && e["usage"].is_object()) tokens = e["usage"]["completion_tokens"];
      if (!e["choices"].empty() && !e["choices"][0]["text"].get<std::string>().empty()) {
        last = Clock::now();
        if (!seen) first = last, seen = true;
      }
    }
    return true;
  };
  if (!c.send(req) || !seen || tokens < 2) throw std::runtime_error("a streamed completion failed");
  return {seconds(sent, first), (tokens - 1) / seconds(first, last)};
}

// `clients` threads each sending `requests` non-streamed completions: tokens/s over all.
double throughput(const InProcessServer& server, const std::string& prompt, int64_t n_new, int clients, int requests) {
  std::atomic<int64_t> tokens{0};
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client http = server.client();
      for (int i = 0; i < requests; ++i) {
        const json body = {{"prompt", prompt + " " + std::to_string(c * requests + i)}, {"max_tokens", n_new}};
        const httplib::Result r = http.Post("/v1/completions", body.dump(), "application/json");
        if (!r || r->status != 200) {
          failed = true;
          return;
        }
        tokens += json::parse(r->body)["usage"]["completion_tokens"].get<int64_t>();
      }
    });
  for (std::thread& t : threads) t.join();
  if (failed) throw std::runtime_error("a completion failed under load");
  return tokens / seconds(start, Clock::now());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("bespoke serve against llama.cpp on the same F32 GGUF");
  std::string device = "cpu";
  int threads = 2, repeats = 5, prompt_words = 48;
  int64_t n_new = 32;
  app.add_option("--device", device, "the server's device (llama.cpp runs on the CPU)");
  app.add_option("--threads", threads, "CPU threads, the same on both sides")->check(CLI::PositiveNumber);
  app.add_option("--prompt-words", prompt_words, "words of the prompt")->check(CLI::PositiveNumber);
  app.add_option("--new", n_new, "tokens decoded after the first")->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "runs per measurement; each reports the median")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (!fs::exists(std::string(BESPOKE_INTEROP) + "/node_modules/node-llama-cpp")) {
    std::cerr << "error: the llama.cpp harness is missing (" << BESPOKE_INTEROP
              << "/node_modules/node-llama-cpp): run npm ci --prefix tools/interop, or scripts/setup.sh\n";
    return 1;
  }
  at::set_num_threads(threads);
  const std::string dir = fs::temp_directory_path() / ("bespoke_bench_serve_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    torch::manual_seed(0);
    bespoke::model::Transformer net(bench_spec());
    bespoke::model::init_random(net);
    const std::string tokenizer_dir = std::string(BESPOKE_FIXTURES) + "/hf/llama";
    const std::string gguf = dir + "/model.gguf";
    bespoke::exporter::export_gguf(net, tokenizer_dir, gguf, bespoke::io::GgmlType::kF32);
    std::string prompt = "The";
    for (int i = 1; i < prompt_words; ++i) prompt += i % 7 == 0 ? " and then the river" : " quiet";
    const std::vector<int32_t> ids32 = bespoke::text::load_tokenizer(tokenizer_dir)->encode(prompt, false);
    const std::vector<int64_t> ids(ids32.begin(), ids32.end());
    const bespoke::model::DecodeTimes theirs =
        bespoke::pipeline::time_llama_cpp_decode(BESPOKE_INTEROP, gguf, ids, n_new, repeats, threads).times;
    json ours;
    {
      InProcessServer server(gguf, 1, device);
      std::vector<double> ttft, rate;
      for (int r = 0; r < repeats; ++r) {
        const auto [t, s] = time_stream(server, prompt, n_new);
        ttft.push_back(t);
        rate.push_back(s);
      }
      ours = {{"ttft_seconds", median(ttft)}, {"decode_tokens_per_s", median(rate)}, {"ttft_runs", ttft}};
    }
    const double their_rate = n_new / theirs.median_decode();
    json batched = json::array();
    std::vector<int> client_counts = {1, 4};
    if (device != "cpu") client_counts.push_back(16);
    for (int clients : client_counts) {
      InProcessServer server(gguf, clients, device);
      std::vector<double> runs;
      for (int r = 0; r < std::min(repeats, 3); ++r) runs.push_back(throughput(server, prompt, n_new, clients, 4));
      batched.push_back({{"clients", clients}, {"parallel", clients}, {"tokens_per_s", median(runs)}});
    }
    const json result = {
        {"bench", "serve"},
        {"device", device},
        {"threads", threads},
        {"prompt_tokens", ids.size()},
        {"new", n_new},
        {"repeats", repeats},
        {"statistic", "median"},
        {"bespoke_serve", ours},
        {"llama_cpp", {{"prefill_seconds", theirs.median_prefill()}, {"decode_tokens_per_s", their_rate}}},
        {"decode_ratio", ours["decode_tokens_per_s"].get<double>() / their_rate},
        {"ttft_ratio", ours["ttft_seconds"].get<double>() / theirs.median_prefill()},
        {"batched", batched},
        {"batched_speedup_4_vs_1", batched[1]["tokens_per_s"].get<double>() / batched[0]["tokens_per_s"].get<double>()}};
    std::cout << result.dump(1) << std::endl;
  } catch (const std::exception& e) {
    fs::remove_all(dir);
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
