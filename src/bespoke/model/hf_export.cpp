#include "bespoke/model/hf_export.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/family.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"

namespace bespoke::model {
namespace {

namespace fs = std::filesystem;

// The first layer whose sizes, kind or KV sharing differ between `a` and `b` (0 where the
// model-wide sizes or the tying of the head do), or -1.
int64_t first_difference(const model::ModelSpec& a, const model::ModelSpec& b) {
  if (a.vocab_size != b.vocab_size || a.hidden_size != b.hidden_size || a.n_layers() != b.n_layers() ||
      a.tie_embeddings != b.tie_embeddings)
    return 0;
  for (int64_t i = 0; i < a.n_layers(); ++i) {
    const model::LayerSpec &x = a.layers[i], &y = b.layers[i];
    if (x.n_heads != y.n_heads || x.n_kv_heads != y.n_kv_heads || x.head_dim != y.head_dim || x.ffn_dim != y.ffn_dim ||
        x.window != y.window || x.kind != y.kind || x.kv_source != y.kv_source || x.k_eq_v != y.k_eq_v ||
        !(x.deltanet == y.deltanet))
      return i;
  }
  return -1;
}

// The spec `config` stands for, or none where it does not read.
std::optional<model::ModelSpec> read_back(const nlohmann::json& config) {
  try {
    return model::spec_from_hf_config(config);
  } catch (const Error&) {
    return std::nullopt;
  }
}

// The source config with the fields a pruned model changes rewritten. Multimodal wrappers
// keep their text_config nesting. Sizes the config's own keys cannot give (a layer without
// attention, other head counts or FFN widths per layer) go into bespoke_layers; the result is
// read back and must give the model's shapes.
nlohmann::json updated_config(const model::ModelSpec& s, const std::string& source_dir) {
  const fs::path path = fs::path(source_dir) / "config.json";
  if (!fs::exists(path))
    fail(ErrorKind::kUnsupported, "HF export needs the source model's config.json (" + path.string() + ")");
  nlohmann::json config = read_json(path.string());
  nlohmann::json& c = config.contains("text_config") ? config["text_config"] : config;
  nlohmann::json types = nlohmann::json::array();  // always written: each layer's kind as the spec has it
  for (const model::LayerSpec& l : s.layers)
    types.push_back(l.kind == model::LayerKind::kLinearAttention ? "linear_attention"
                    : l.window > 0                               ? "sliding_attention"
                                                                 : "full_attention");
  c["layer_types"] = types;
  if (first_difference(s, model::read_hf_config(source_dir)) < 0) return config;
  // The model-wide sizes come from the first layer with attention.
  const model::LayerSpec* first = &s.layers[0];
  for (const model::LayerSpec& l : s.layers)
    if (l.n_heads > 0) {
      first = &l;
      break;
    }
  const model::LayerSpec& l0 = *first;
  c.erase("bespoke_layers");
  c.erase("bespoke_layers_note");
  c["hidden_size"] = s.hidden_size;
  c["vocab_size"] = s.vocab_size;
  c["num_hidden_layers"] = s.n_layers();
  c["num_attention_heads"] = l0.n_heads;
  c["num_key_value_heads"] = l0.n_kv_heads;
  c["intermediate_size"] = l0.ffn_dim;
  c["tie_word_embeddings"] = s.tie_embeddings;  // an untied cut of a tied source (SliceGPT) has a head of its own
  if (&c != &config && config.contains("tie_word_embeddings")) config["tie_word_embeddings"] = s.tie_embeddings;
  if (c.contains("head_dim") || l0.head_dim * l0.n_heads != s.hidden_size) c["head_dim"] = l0.head_dim;
  const model::Family& family = model::family_named(s.family);
  if (family.write_config) family.write_config(s, c);
  const std::optional<model::ModelSpec> plain = read_back(config);
  if (!plain || first_difference(s, *plain) >= 0) {
    nlohmann::json layers = nlohmann::json::array();
    for (const model::LayerSpec& l : s.layers) {
      layers.push_back({{"num_attention_heads", l.n_heads},
                        {"num_key_value_heads", l.n_kv_heads},
                        {"head_dim", l.head_dim},
                        {"intermediate_size", l.ffn_dim}});
      if (l.kind == model::LayerKind::kLinearAttention)
        layers.back().update(
            {{"linear_num_key_heads", l.deltanet.key_heads}, {"linear_num_value_heads", l.deltanet.value_heads}});
    }
    c["bespoke_layers"] = layers;
    c["bespoke_layers_note"] = "per-layer shapes that only Bespoke reads: transformers' " + s.family +
                               " builds every layer at the model-wide sizes and cannot load these weights";
  }
  const std::optional<model::ModelSpec> written = read_back(config);
  const int64_t differs = written ? first_difference(s, *written) : 0;
  if (differs >= 0)
    fail(ErrorKind::kUnsupported,
         "layer " + std::to_string(differs) + ": config.json cannot give this layer's shape, kind or KV sharing");
  return config;
}

}  // namespace

void export_hf(model::Transformer& net, const std::string& source_dir, const std::string& out_dir) {
  const nlohmann::json config = updated_config(net->spec(), source_dir);
  const fs::path out(out_dir);
  const fs::path tmp = out.string() + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    write_file_atomic((tmp / "config.json").string(), [&](std::ostream& o) { o << config.dump(2) << "\n"; });
    io::write_safetensors((tmp / "model.safetensors").string(), model::hf_state_dict(net));
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json",
                             "generation_config.json", "chat_template.jinja", "chat_template.json"})
      if (fs::exists(fs::path(source_dir) / name)) fs::copy_file(fs::path(source_dir) / name, tmp / name);
    fs::remove_all(out);
    fs::rename(tmp, out);
  } catch (...) {
    fs::remove_all(tmp);
    throw;
  }
}

}  // namespace bespoke::model
