#include "bespoke/model/hf_config.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/model/family.h"

namespace bespoke::model {

using nlohmann::json;

namespace {

bool has(const json& c, const char* key) {
  return c.contains(key) && !c[key].is_null();
}

// Rejects rope parameters that would silently give NaN or a meaningless rotation.
void check_rope(const RopeSpec& r) {
  auto check = [](bool ok, const std::string& what) {
    if (!ok) fail(ErrorKind::kInput, "rope: " + what);
  };
  check(r.theta > 0, "rope_theta must be positive");
  check(r.factor > 0, "factor must be positive");
  check(r.partial_rotary_factor > 0 && r.partial_rotary_factor <= 1, "partial_rotary_factor must be in (0, 1]");
  if (r.type == RopeType::kLlama3) {
    check(r.original_context > 0, "llama3 needs original_max_position_embeddings");
    check(r.high_freq_factor != r.low_freq_factor, "llama3 needs high_freq_factor != low_freq_factor");
  }
  if (r.type == RopeType::kLongRope) check(r.original_context > 0, "longrope needs original_max_position_embeddings");
}

// One rope parameter object (`rope_parameters`, a per-layer-type entry, or `rope_scaling`).
RopeSpec parse_rope(const json& p, const json& config, double theta) {
  RopeSpec r;
  r.theta = config_double(p, "rope_theta", theta);
  std::string type = config_string(p, "rope_type", config_string(p, "type", "default"));
  if (type == "su") type = "longrope";  // Phi-3's first name for it
  r.type = model::rope_type_names().parse(type);
  r.partial_rotary_factor =
      config_double(p, "partial_rotary_factor", config_double(config, "partial_rotary_factor", 1.0));
  r.factor = config_double(p, "factor", 1.0);
  r.low_freq_factor = config_double(p, "low_freq_factor", 1.0);
  r.high_freq_factor = config_double(p, "high_freq_factor", 4.0);
  r.original_context =
      config_int(p, "original_max_position_embeddings", config_int(config, "original_max_position_embeddings", 0));
  if (r.type == RopeType::kLongRope) {
    r.long_factor = config_doubles(p, "long_factor");
    r.short_factor = config_doubles(p, "short_factor");
    const int64_t max_pos = config_int(config, "max_position_embeddings", 0);
    if (r.original_context <= 0) r.original_context = max_pos;
    if (r.original_context <= 0) fail(ErrorKind::kInput, "longrope needs original_max_position_embeddings");
    const double factor = has(p, "factor") ? r.factor : static_cast<double>(max_pos) / r.original_context;
    r.attention_factor = has(p, "attention_factor") ? config_double(p, "attention_factor", 1.0)
                         : factor <= 1.0            ? 1.0
                                         : std::sqrt(1.0 + std::log(factor) / std::log(double(r.original_context)));
  }
  check_rope(r);
  return r;
}

// Rope per layer kind: "full_attention" and "sliding_attention".
std::pair<RopeSpec, RopeSpec> parse_ropes(const json& c) {
  if (has(c, "rope_parameters")) {
    const json& p = c["rope_parameters"];
    if (p.contains("full_attention") || p.contains("sliding_attention")) {
      const json& full = p.contains("full_attention") ? p["full_attention"] : p["sliding_attention"];
      const json& local = p.contains("sliding_attention") ? p["sliding_attention"] : full;
      return {parse_rope(full, c, 10000.0), parse_rope(local, c, 10000.0)};
    }
    RopeSpec r = parse_rope(p, c, config_double(c, "rope_theta", 10000.0));
    return {r, r};
  }
  const double theta = config_double(c, "rope_theta", 10000.0);
  RopeSpec full =
      has(c, "rope_scaling") ? parse_rope(c["rope_scaling"], c, theta) : parse_rope(json::object(), c, theta);
  RopeSpec local = parse_rope(json::object(), c, config_double(c, "rope_local_base_freq", theta));
  if (!has(c, "rope_local_base_freq")) local = full;
  return {full, local};
}

model::Activation parse_activation(const json& c) {
  const std::string act = config_string(c, "hidden_activation", config_string(c, "hidden_act", "silu"));
  if (act == "silu" || act == "swish") return model::Activation::kSilu;
  if (act == "gelu_pytorch_tanh" || act == "gelu_tanh") return model::Activation::kGeluTanh;
  fail(ErrorKind::kUnsupported, "activation '" + act + "' is not supported");
}

// Each layer's kind, window and rope from its type name.
void set_layer_types(const json& c, const std::vector<std::string>& types, ModelSpec& s, const RopeSpec& full,
                     const RopeSpec& local) {
  const int64_t window = config_int(c, "sliding_window", 0);
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    model::LayerSpec& l = s.layers[i];
    l.rope = full;
    if (types[i] == "sliding_attention") {
      if (window <= 0)
        fail(ErrorKind::kInput, "layer " + std::to_string(i) + " is sliding_attention but sliding_window is not set");
      l.window = window;
      l.rope = local;
    } else if (types[i] == "linear_attention") {
      l.kind = LayerKind::kLinearAttention;
    } else if (types[i] != "full_attention") {
      fail(ErrorKind::kUnsupported, "layer type '" + types[i] + "' is not supported");
    }
  }
}

// Bespoke's per-layer shapes: "bespoke_layers" lists one object per layer, each with any of
// num_attention_heads (0: no attention), num_key_value_heads, head_dim and intermediate_size
// (0: no MLP), and for a DeltaNet layer linear_num_key_heads and linear_num_value_heads; what an
// entry leaves out keeps the model-wide value. Applied last.
void apply_bespoke_layers(const json& c, ModelSpec& s) {
  if (!has(c, "bespoke_layers")) return;
  const json& layers = c["bespoke_layers"];
  if (!layers.is_array() || int64_t(layers.size()) != s.n_layers())
    fail(ErrorKind::kInput, "bespoke_layers must list num_hidden_layers objects");
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const json& o = layers[i];
    if (!o.is_object()) fail(ErrorKind::kInput, "bespoke_layers entry " + std::to_string(i) + " is not an object");
    model::LayerSpec& l = s.layers[i];
    l.n_heads = config_int(o, "num_attention_heads", l.n_heads);
    l.n_kv_heads = config_int(o, "num_key_value_heads", l.n_heads == 0 ? 0 : l.n_kv_heads);
    l.head_dim = config_int(o, "head_dim", l.head_dim);
    l.ffn_dim = config_int(o, "intermediate_size", l.ffn_dim);
    if (l.kind != model::LayerKind::kLinearAttention) continue;
    l.deltanet.key_heads = config_int(o, "linear_num_key_heads", l.deltanet.key_heads);
    l.deltanet.value_heads = config_int(o, "linear_num_value_heads", l.deltanet.value_heads);
  }
}

std::vector<std::string> layer_types(const json& c, const model::Family& family, int64_t n_layers) {
  if (has(c, "layer_types")) {
    if (!c["layer_types"].is_array() || int64_t(c["layer_types"].size()) != n_layers)
      fail(ErrorKind::kInput, "layer_types must list num_hidden_layers entries");
    std::vector<std::string> types;
    for (const auto& t : c["layer_types"]) {
      if (!t.is_string()) fail(ErrorKind::kInput, "layer_types must be a list of strings");
      types.push_back(t.get<std::string>());
    }
    return types;
  }
  if (family.default_layer_types) return family.default_layer_types(c, n_layers);
  return std::vector<std::string>(n_layers, "full_attention");
}

}  // namespace

ModelSpec spec_from_hf_config(const json& config) {
  if (!config.is_object()) fail(ErrorKind::kInput, "not a JSON object");
  json c = config;
  if (has(config, "text_config")) {  // multimodal wrapper: the language model's keys win
    for (const auto& [k, v] : config["text_config"].items()) c[k] = v;
  }
  if (!has(c, "model_type") || !c["model_type"].is_string()) fail(ErrorKind::kInput, "missing key 'model_type'");
  const model::Family& family = model::family_for_model_type(c["model_type"].get<std::string>());
  const json defaults = json::parse(family.defaults);
  for (const auto& [key, value] : defaults.items())
    if (!has(c, key.c_str())) c[key] = value;
  ModelSpec s;
  s.family = family.name;
  s.vocab_size = config_int(c, "vocab_size");
  s.hidden_size = config_int(c, "hidden_size");
  s.max_position = config_int(c, "max_position_embeddings", 0);
  s.norm_eps = config_double(c, "rms_norm_eps", 1e-6);
  s.tie_embeddings = config_bool(c, "tie_word_embeddings", false);
  s.activation = parse_activation(c);
  s.mlp_bias = config_bool(c, "mlp_bias", false);
  s.qkv_bias = s.o_bias = config_bool(c, "attention_bias", false);
  const int64_t n_layers = config_int(c, "num_hidden_layers");
  if (n_layers <= 0 || n_layers > 4096) fail(ErrorKind::kInput, "num_hidden_layers must be in [1, 4096]");
  model::LayerSpec layer;
  layer.n_heads = config_int(c, "num_attention_heads");
  layer.n_kv_heads = config_int(c, "num_key_value_heads", layer.n_heads);
  if (layer.n_heads <= 0) fail(ErrorKind::kInput, "num_attention_heads must be positive");
  layer.head_dim = config_int(c, "head_dim", s.hidden_size / layer.n_heads);
  layer.ffn_dim = config_int(c, "intermediate_size");
  s.layers.assign(n_layers, layer);
  const auto [full, local] = parse_ropes(c);
  set_layer_types(c, layer_types(c, family, n_layers), s, full, local);
  family.configure(c, s);
  apply_bespoke_layers(c, s);
  model::validate(s);
  return s;
}

ModelSpec read_hf_config(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kInput, path + ": cannot open (is " + dir + " a model directory?)");
  json config;
  try {
    config = json::parse(in);
  } catch (const json::exception&) {
    fail(ErrorKind::kInput, path + ": not valid JSON");
  }
  try {
    return spec_from_hf_config(config);
  } catch (const Error& e) {
    throw with_context(e, path);
  } catch (const json::exception& e) {
    fail(ErrorKind::kInput, path + ": " + e.what());
  }
}

}  // namespace bespoke::model
