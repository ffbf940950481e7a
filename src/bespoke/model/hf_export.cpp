#include "bespoke/model/hf_export.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/load.h"

namespace bespoke::model {
namespace {

namespace fs = std::filesystem;

bool same_shapes(const model::ModelSpec& a, const model::ModelSpec& b) {
  if (a.vocab_size != b.vocab_size || a.hidden_size != b.hidden_size || a.n_layers() != b.n_layers()) return false;
  for (int64_t i = 0; i < a.n_layers(); ++i) {
    const model::LayerSpec &x = a.layers[i], &y = b.layers[i];
    if (x.n_heads != y.n_heads || x.n_kv_heads != y.n_kv_heads || x.head_dim != y.head_dim || x.ffn_dim != y.ffn_dim) return false;
  }
  return true;
}

// The source config with the fields a pruned model changes rewritten. Multimodal wrappers
// keep their text_config nesting.
nlohmann::json updated_config(const model::ModelSpec& s, const std::string& source_dir) {
  const fs::path path = fs::path(source_dir) / "config.json";
  if (!fs::exists(path)) fail(ErrorKind::kUnsupported, "HF export needs the source model's config.json (" + path.string() + ")");
  nlohmann::json config = read_json(path.string());
  nlohmann::json& c = config.contains("text_config") ? config["text_config"] : config;
  nlohmann::json types = nlohmann::json::array();  // always written: each layer's kind as the spec has it
  for (const model::LayerSpec& l : s.layers)
    types.push_back(l.kind == model::LayerKind::kLinearAttention ? "linear_attention"
                    : l.window > 0                               ? "sliding_attention"
                                                                 : "full_attention");
  c["layer_types"] = types;
  if (same_shapes(s, model::read_hf_config(source_dir))) return config;
  // The model-wide sizes come from the first layer with attention; layers that differ from it
  // are listed whole in bespoke_layers (see hf_config.cpp).
  const model::LayerSpec* first = &s.layers[0];
  for (const model::LayerSpec& l : s.layers)
    if (l.n_heads > 0) {
      first = &l;
      break;
    }
  const model::LayerSpec& l0 = *first;
  bool irregular = false;
  for (const model::LayerSpec& l : s.layers)
    irregular |= l.n_heads != l0.n_heads || l.n_kv_heads != l0.n_kv_heads || l.head_dim != l0.head_dim || l.ffn_dim != l0.ffn_dim;
  c.erase("bespoke_layers");
  c.erase("bespoke_layers_note");
  if (irregular) {
    if (s.family == "gemma4")
      fail(ErrorKind::kUnsupported, "per-layer shapes of a Gemma 4 model are not written to config.json yet (its per_layer_config)");
    nlohmann::json layers = nlohmann::json::array();
    for (const model::LayerSpec& l : s.layers)
      layers.push_back({{"num_attention_heads", l.n_heads}, {"num_key_value_heads", l.n_kv_heads},
                        {"head_dim", l.head_dim}, {"intermediate_size", l.ffn_dim}});
    c["bespoke_layers"] = layers;
    c["bespoke_layers_note"] = "per-layer shapes that only Bespoke reads: transformers' " + s.family +
                               " builds every layer at the model-wide sizes and cannot load these weights";
  }
  c["hidden_size"] = s.hidden_size;
  c["vocab_size"] = s.vocab_size;
  c["num_hidden_layers"] = s.n_layers();
  c["num_attention_heads"] = l0.n_heads;
  c["num_key_value_heads"] = l0.n_kv_heads;
  c["intermediate_size"] = l0.ffn_dim;
  if (c.contains("head_dim") || l0.head_dim * l0.n_heads != s.hidden_size) c["head_dim"] = l0.head_dim;
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
