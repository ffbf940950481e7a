#include "test_util.h"

#include "bespoke/model/load.h"
#include "bespoke/text/utf8.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bespoke::test {

std::string fixture_dir(const std::string& family) {
  return std::string(BESPOKE_FIXTURES) + "/hf/" + family;
}

std::string scratch_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("bespoke_test_" + std::to_string(::getpid()) + "_" + tag + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

CommandResult run_bespoke(const std::string& args) {
  return run_command(std::string(BESPOKE_BINARY) + " " + args);
}

CommandResult run_command(const std::string& command) {
  const std::string dir = scratch_dir("cmd");
  const std::string out = dir + "/out", err = dir + "/err";
  const std::string cmd = "(" + command + ") >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove_all(dir);
  return r;
}

model::Transformer with_spec(model::Transformer& from, const model::ModelSpec& spec) {
  model::Transformer net(spec);
  torch::NoGradGuard no_grad;
  auto source = from->named_parameters();
  for (auto& item : net->named_parameters()) {
    torch::Tensor t = source[item.key()];
    for (int64_t d = 0; d < t.dim(); ++d) t = t.narrow(d, 0, item.value().size(d));
    item.value().copy_(t);
  }
  return net;
}

model::Transformer cut_fixture(const std::string& family, const std::vector<int64_t>& heads,
                               const std::vector<int64_t>& kv_heads, const std::vector<int64_t>& ffn) {
  model::Transformer full = model::load_model(fixture_dir(family));
  model::ModelSpec spec = full->spec();
  for (int64_t i = 0; i < spec.n_layers(); ++i) {
    spec.layers[i].n_heads = heads[i];
    spec.layers[i].n_kv_heads = kv_heads[i];
    spec.layers[i].ffn_dim = ffn[i];
  }
  return with_spec(full, spec);
}

std::string random_text(std::mt19937& rng, size_t max_chars, bool newlines) {
  static const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
      {0x20, 0x7E},   {0x20, 0x7E},     {0x09, 0x0D},       {0xA0, 0x17F},    {0x300, 0x36F},
      {0x391, 0x3C9}, {0x4E00, 0x4E80}, {0x1F600, 0x1F64F}, {0x2000, 0x200B}, {0x3000, 0x3000}};
  std::uniform_int_distribution<size_t> length(0, max_chars), pick(0, ranges.size() - 1);
  std::string s;
  for (size_t n = length(rng); n > 0; --n) {
    const auto [lo, hi] = ranges[pick(rng)];
    uint32_t cp = std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
    if (!newlines && (cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C)) cp = ' ';
    s += text::utf8_encode(cp);
  }
  return s;
}

}  // namespace bespoke::test
