#include "bespoke/prune/importance_io.h"

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/core/fingerprint.h"
#include "bespoke/core/json.h"
#include "bespoke/io/safetensors.h"

namespace bespoke::prune {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using torch::Tensor;

constexpr const char* kTensors = "importance.safetensors";
constexpr const char* kSummary = "importance.json";

// The scores with one vector per layer, and the layer's size each vector has.
struct Ragged {
  const char* name;
  std::vector<Tensor> Importance::*scores;
  int64_t (*count)(const model::LayerSpec&);
};
// Head units and their groups: a DeltaNet layer's value and key heads (its entropy has none).
constexpr Ragged kRagged[] = {{"heads", &Importance::heads, [](const model::LayerSpec& l) { return l.head_units(); }},
                              {"kv", &Importance::kv, [](const model::LayerSpec& l) { return l.group_units(); }},
                              {"ffn", &Importance::ffn, [](const model::LayerSpec& l) { return l.ffn_dim; }},
                              {"entropy", &Importance::entropy, [](const model::LayerSpec& l) { return l.n_heads; }}};

std::vector<int64_t> lengths(const model::ModelSpec& s, const Ragged& r) {
  std::vector<int64_t> out;
  for (const model::LayerSpec& l : s.layers) out.push_back(r.count(l));
  return out;
}

Tensor offsets_of(const std::vector<int64_t>& lengths) {
  std::vector<int64_t> at{0};
  for (const int64_t n : lengths) at.push_back(at.back() + n);
  return torch::tensor(at, torch::kInt64);
}

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// Indices of `scores`, most important first; ties in index order, as the pruner takes them.
std::vector<int64_t> ranking(const Tensor& scores) {
  const Tensor order = std::get<1>(scores.sort(/*stable=*/true, 0, /*descending=*/true)).contiguous();
  return {order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + order.numel()};
}

// Per KV group, its query heads most important first.
Json head_ranking(const Tensor& heads, int64_t n_kv_heads) {
  Json groups = Json::array();
  if (n_kv_heads == 0) return groups;
  const Tensor by_group = heads.view({n_kv_heads, -1});
  const int64_t per_group = by_group.size(1);
  for (int64_t g = 0; g < n_kv_heads; ++g) {
    std::vector<int64_t> order = ranking(by_group[g]);
    for (int64_t& h : order) h += g * per_group;
    groups.push_back(order);
  }
  return groups;
}

Json summary(const Importance& imp, const model::ModelSpec& s) {
  Json layers = Json::array(), heads = Json::array(), kv = Json::array(), ffn = Json::array();
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    Json layer = {{"layer", i},
                  {"score", imp.layers[i].item<double>()},
                  {"residual", imp.residual[i].item<double>()},
                  {"drift", imp.drift[i].item<double>()},
                  {"entropy", values(imp.entropy[i])}};
    if (imp.skip_loss.defined()) layer["skip_loss"] = imp.skip_loss[i].item<double>();
    layers.push_back(layer);
    heads.push_back(head_ranking(imp.heads[i], s.layers[i].group_units()));
    kv.push_back(ranking(imp.kv[i]));
    ffn.push_back(ranking(imp.ffn[i]));
  }
  Json rankings = {
      {"layers", ranking(imp.layers)}, {"hidden", ranking(imp.hidden)}, {"kv", kv}, {"heads", heads}, {"ffn", ffn}};
  if (imp.skip_loss.defined()) rankings["layers_by_skip_loss"] = ranking(imp.skip_loss);
  return {{"method", imp.method},
          {"tokens", imp.tokens},
          {"model", shape_fingerprint(s)},
          {"layers", layers},
          {"rankings", rankings}};
}

std::vector<std::pair<std::string, Tensor>> tensors(const Importance& imp, const model::ModelSpec& s) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const Ragged& r : kRagged) {
    out.emplace_back(r.name, torch::cat(imp.*r.scores).to(torch::kFloat64));
    out.emplace_back(std::string(r.name) + ".offsets", offsets_of(lengths(s, r)));
  }
  out.emplace_back("layers", imp.layers);
  out.emplace_back("hidden", imp.hidden);
  out.emplace_back("residual", imp.residual);
  out.emplace_back("drift", imp.drift);
  if (imp.skip_loss.defined()) out.emplace_back("skip_loss", imp.skip_loss);
  return out;
}

// What tells two runs apart when their model, method and token count agree: every score.
std::string scores_fingerprint(const Importance& imp, const model::ModelSpec& s) {
  Fingerprint f;
  for (const auto& [name, t] : tensors(imp, s)) {
    f.add(name);
    const Tensor c = t.to(torch::kFloat64).contiguous();
    for (int64_t k = 0; k < c.numel(); ++k) {
      uint64_t bits;
      std::memcpy(&bits, c.data_ptr<double>() + k, sizeof bits);
      f.add(bits);
    }
  }
  return f.hex();
}

// `file`'s float64 tensor `name` of `n` elements; anything else is a corrupt file.
Tensor vector_of(const io::SafetensorsFile& file, const std::string& name, int64_t n) {
  const auto it = file.entries().find(name);
  if (it == file.entries().end()) fail(ErrorKind::kInput, file.path() + ": no tensor '" + name + "'");
  if (it->second.dtype != "F64" || it->second.shape != std::vector<int64_t>{n})
    fail(ErrorKind::kInput, file.path() + ": tensor '" + name + "' is not F64 [" + std::to_string(n) + "]");
  return file.get(name);
}

std::vector<Tensor> ragged_of(const io::SafetensorsFile& file, const Ragged& r, const model::ModelSpec& s) {
  const std::string name = r.name;
  const std::vector<int64_t> n = lengths(s, r);
  const Tensor expected = offsets_of(n);
  const auto it = file.entries().find(name + ".offsets");
  if (it == file.entries().end() || it->second.dtype != "I64" || !file.get(name + ".offsets").equal(expected))
    fail(ErrorKind::kInput, file.path() + ": '" + name + ".offsets' does not match the model's layers");
  const Tensor all = vector_of(file, name, expected[-1].item<int64_t>());
  std::vector<Tensor> out;
  for (int64_t i = 0; i < s.n_layers(); ++i) out.push_back(all.narrow(0, expected[i].item<int64_t>(), n[i]).clone());
  return out;
}

std::string required(const std::string& dir, const char* name) {
  const std::string path = (fs::path(dir) / name).string();
  if (!fs::is_regular_file(path)) fail(ErrorKind::kInput, path + ": no such file (`bespoke importance` writes it)");
  return path;
}

}  // namespace

std::string shape_fingerprint(const model::ModelSpec& s) {
  Fingerprint f;
  f.add(uint64_t(s.hidden_size));
  f.add(uint64_t(s.vocab_size));
  f.add(uint64_t(s.n_layers()));
  for (const model::LayerSpec& l : s.layers) {
    for (const int64_t v : {l.n_heads, l.n_kv_heads, l.head_dim, l.ffn_dim, l.kv_source}) f.add(uint64_t(v));
    if (l.kind != model::LayerKind::kLinearAttention) continue;
    for (const int64_t v : {l.deltanet.key_heads, l.deltanet.value_heads, l.deltanet.key_dim, l.deltanet.value_dim})
      f.add(uint64_t(v));
  }
  return f.hex();
}

void write_importance(const std::string& dir, const Importance& imp, const model::ModelSpec& s) {
  fs::create_directories(dir);
  const std::map<std::string, std::string> metadata = {{"format", "bespoke-importance"},
                                                       {"method", imp.method},
                                                       {"tokens", std::to_string(imp.tokens)},
                                                       {"model", shape_fingerprint(s)}};
  io::write_safetensors((fs::path(dir) / kTensors).string(), tensors(imp, s), metadata);
  Json j = summary(imp, s);
  j["scores"] = scores_fingerprint(imp, s);
  const std::string json = j.dump(1);
  write_file_atomic((fs::path(dir) / kSummary).string(), [&](std::ostream& out) { out << json << "\n"; });
}

Importance read_importance(const std::string& dir, const model::ModelSpec& s) {
  const std::string summary_path = required(dir, kSummary), tensors_path = required(dir, kTensors);
  const nlohmann::json j = read_json(summary_path);
  const std::string model = config_string(j, "model", "");
  if (model != shape_fingerprint(s))
    fail(ErrorKind::kInput, summary_path + ": importance file from another model (shape " + model + ", this model's " +
                                shape_fingerprint(s) + ")");
  const io::SafetensorsFile file(tensors_path);
  const auto meta = [&](const char* key) {
    const auto it = file.metadata().find(key);
    return it == file.metadata().end() ? std::string() : it->second;
  };
  Importance imp;
  imp.method = config_string(j, "method", "");
  imp.tokens = config_int(j, "tokens");
  if (meta("model") != model || meta("method") != imp.method || meta("tokens") != std::to_string(imp.tokens))
    fail(ErrorKind::kInput, tensors_path + ": does not belong to " + summary_path + " (another run's file)");
  for (const Ragged& r : kRagged) imp.*r.scores = ragged_of(file, r, s);
  imp.layers = vector_of(file, "layers", s.n_layers());
  imp.hidden = vector_of(file, "hidden", s.hidden_size);
  imp.residual = vector_of(file, "residual", s.n_layers());
  imp.drift = vector_of(file, "drift", s.n_layers());
  if (file.entries().count("skip_loss")) imp.skip_loss = vector_of(file, "skip_loss", s.n_layers());
  if (config_string(j, "scores", "") != scores_fingerprint(imp, s))
    fail(ErrorKind::kInput, tensors_path + ": does not belong to " + summary_path + " (another run's file)");
  return imp;
}

}  // namespace bespoke::prune
