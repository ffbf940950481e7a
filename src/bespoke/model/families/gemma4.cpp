// Gemma 4 text (transformers models/gemma4/modeling_gemma4.py). Beyond Gemma 3:
// - plain-w RMSNorm (not 1 + w), a weightless RMSNorm on v, attention scale 1;
// - per-layer token embeddings fed to every layer (hidden_size_per_layer_input);
// - a learned scalar on each layer's output (layer_scalar);
// - "proportional" rope on global layers, which may have another head_dim
//   (per_layer_config, or global_head_dim in older configs);
// - the last num_kv_shared_layers layers reuse the keys and values of the last earlier
//   layer of the same type;
// - attention_k_eq_v (Gemma-4-31B): global layers' values are their key projection.
// In GGUF: llama.cpp's gemma4, which reads per-layer head counts and FFN widths but holds one
// head size and rope per layer kind, and fixes which layers share KV.
#include <algorithm>
#include <cmath>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/model/families/gemma_common.h"
#include "bespoke/model/gguf_arch.h"
#include "bespoke/model/rope.h"

namespace bespoke::model {
namespace {

// Per-layer overrides keyed by layer index ("05" = layer 5). Keys past the last layer are
// ignored: configs of truncated models keep the original's entries.
void apply_per_layer_config(const nlohmann::json& c, ModelSpec& s) {
  if (c.contains("global_head_dim") && !c["global_head_dim"].is_null()) {
    for (LayerSpec& l : s.layers) {
      if (l.window > 0) continue;
      l.head_dim = config_int(c, "global_head_dim");
    }
  }
  if (!c.contains("per_layer_config") || !c["per_layer_config"].is_object()) return;
  for (const auto& [key, overrides] : c["per_layer_config"].items()) {
    int64_t i = -1;
    try {
      i = std::stoll(key);
    } catch (const std::exception&) {
      fail(ErrorKind::kInput, "per_layer_config key '" + key + "' is not a layer index");
    }
    if (i < 0 || i >= s.n_layers()) continue;
    LayerSpec& l = s.layers[i];
    l.head_dim = config_int(overrides, "head_dim", l.head_dim);
    l.n_heads = config_int(overrides, "num_attention_heads", l.n_heads);
    l.n_kv_heads = config_int(overrides, "num_key_value_heads", l.n_kv_heads);
    l.ffn_dim = config_int(overrides, "intermediate_size", l.ffn_dim);
  }
}

// attention_k_eq_v: global layers have no v_proj, their values are the key projection (before
// k_norm and rope, then v_norm), and num_global_key_value_heads KV heads where given.
void keys_as_values(const nlohmann::json& c, ModelSpec& s) {
  if (!config_bool(c, "attention_k_eq_v", false)) return;
  const bool heads = c.contains("num_global_key_value_heads") && !c["num_global_key_value_heads"].is_null();
  for (LayerSpec& l : s.layers) {
    if (l.window > 0) continue;
    l.k_eq_v = true;
    if (heads) l.n_kv_heads = config_int(c, "num_global_key_value_heads");
  }
}

void share_kv(const nlohmann::json& c, ModelSpec& s) {
  const int64_t first_shared = s.n_layers() - config_int(c, "num_kv_shared_layers", 0);
  const bool double_wide = config_bool(c, "use_double_wide_mlp", false);
  for (int64_t i = std::max<int64_t>(first_shared, 1); i < s.n_layers(); ++i) {
    LayerSpec& l = s.layers[i];
    for (int64_t j = first_shared - 1; j >= 0 && l.kv_source < 0; --j)
      if ((s.layers[j].window > 0) == (l.window > 0)) l.kv_source = j;
    if (l.kv_source < 0)
      fail(ErrorKind::kInput, "layer " + std::to_string(i) + " shares kv but no earlier layer has its type");
    if (double_wide) l.ffn_dim *= 2;
  }
}

void configure_gemma4(const nlohmann::json& c, ModelSpec& s) {
  if (config_bool(c, "enable_moe_block", false))
    fail(ErrorKind::kUnsupported, "Gemma 4 mixture-of-experts layers are not supported");
  // "vision": image tokens attend to each other both ways, text stays causal (Gemma-4-31B).
  const nlohmann::json bidirectional = c.value("use_bidirectional_attention", nlohmann::json());
  if (!bidirectional.is_null() && bidirectional != false && bidirectional != "vision")
    fail(ErrorKind::kUnsupported, "Gemma 4 bidirectional attention over text is not supported");
  configure_gemma_common(c, s);
  s.norm_weight_offset = 0.0;
  s.attn_scale = 1.0;
  s.qk_norm = QkNorm::kPerHead;
  s.v_norm = true;
  s.layer_output_scale = true;
  s.per_layer_input_dim = config_int(c, "hidden_size_per_layer_input", 0);
  s.per_layer_vocab_size = config_int(c, "vocab_size_per_layer_input", s.vocab_size);
  keys_as_values(c, s);
  apply_per_layer_config(c, s);
  share_kv(c, s);
}

std::vector<NameRule> gemma4_global_names() {
  std::vector<NameRule> names = llama_global_names();
  names.push_back({"per_layer_token_embd.weight", "model.embed_tokens_per_layer.weight"});
  names.push_back({"per_layer_model_proj.weight", "model.per_layer_model_projection.weight"});
  names.push_back({"per_layer_proj_norm.weight", "model.per_layer_projection_norm.weight"});
  return names;
}

std::vector<NameRule> gemma4_layer_names() {
  std::vector<NameRule> names = gemma_layer_names();
  names.push_back({"inp_gate.weight", "per_layer_input_gate.weight"});
  names.push_back({"proj.weight", "per_layer_projection.weight"});
  names.push_back({"post_norm.weight", "post_per_layer_input_norm.weight"});
  names.push_back({"layer_output_scale.weight", "layer_scalar"});
  return names;
}

// Older configs without layer_types: five local layers to one global, the last always global.
std::vector<std::string> gemma4_layer_types(const nlohmann::json&, int64_t n_layers) {
  std::vector<std::string> types;
  for (int64_t i = 0; i < n_layers; ++i)
    types.push_back((i + 1) % 6 == 0 || i + 1 == n_layers ? "full_attention" : "sliding_attention");
  return types;
}

// The first layer of each attention kind: llama.cpp's gemma4 holds one head size, rope and
// rotary width per kind.
std::pair<const LayerSpec*, const LayerSpec*> layer_kinds(const ModelSpec& s) {
  const LayerSpec *local = nullptr, *global = nullptr;
  for (const LayerSpec& l : s.layers) {
    const LayerSpec*& first = l.window > 0 ? local : global;
    if (!first) first = &l;
  }
  return {local, global};
}

void gemma4_keys(const ModelSpec& s, const std::string& a, io::GgufWriter& out) {
  const auto [local, global] = layer_kinds(s);
  out.add_uint32(a + ".attention.key_length", uint32_t(global->head_dim));
  out.add_uint32(a + ".attention.value_length", uint32_t(global->head_dim));
  out.add_uint32(a + ".attention.key_length_swa", uint32_t(local->head_dim));
  out.add_uint32(a + ".attention.value_length_swa", uint32_t(local->head_dim));
  // Global layers rotate the whole head, with rope_freqs stopping the pairs past the proportion.
  out.add_uint32(a + ".rope.dimension_count", uint32_t(global->head_dim));
  out.add_uint32(a + ".rope.dimension_count_swa", uint32_t(local->head_dim * local->rope.partial_rotary_factor));
  out.add_float32(a + ".rope.freq_base", float(global->rope.theta));
  out.add_float32(a + ".rope.freq_base_swa", float(local->rope.theta));
  out.add_uint32(a + ".attention.sliding_window", uint32_t(local->window));
  std::vector<int32_t> sliding;
  int64_t shared = 0;
  for (const LayerSpec& l : s.layers) sliding.push_back(l.window > 0), shared += l.kv_source >= 0;
  out.add_int32_array(a + ".attention.sliding_window_pattern", sliding);
  out.add_uint32(a + ".attention.shared_kv_layers", uint32_t(shared));
  out.add_uint32(a + ".embedding_length_per_layer_input", uint32_t(s.per_layer_input_dim));
  // llama.cpp caps at 30 when the key is absent: write 0 for an uncapped model.
  out.add_float32(a + ".final_logit_softcapping", float(s.final_softcap));
}

// What llama.cpp's gemma4 cannot express, named by layer: one head size and rope per kind,
// and KV sharing fixed to the last two unshared layers (sliding from the second-to-last, global
// from the last).
void check_llama_cpp_can_run(const ModelSpec& s) {
  const auto [local, global] = layer_kinds(s);
  if (!local || !global) fail(ErrorKind::kUnsupported, "llama.cpp's gemma4 needs both sliding and global layers");
  if (local->rope.type != RopeType::kDefault ||
      (global->rope.type != RopeType::kDefault && global->rope.type != RopeType::kProportional))
    fail(ErrorKind::kUnsupported,
         "llama.cpp's gemma4 takes default rope on sliding layers and proportional rope on global ones");
  if (s.per_layer_input_dim > 0 && s.per_layer_vocab_size != s.vocab_size)
    fail(ErrorKind::kUnsupported, "llama.cpp's gemma4 needs the per-layer embedding table to cover the vocabulary");
  int64_t first_shared = s.n_layers();
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    const LayerSpec& kind = l.window > 0 ? *local : *global;
    const std::string at = "layer " + std::to_string(i) + ": llama.cpp's gemma4 ";
    if (l.head_dim != kind.head_dim || !(l.rope == kind.rope) || l.window != kind.window)
      fail(ErrorKind::kUnsupported,
           at + "needs every " + (l.window > 0 ? "sliding" : "global") + " layer to share head size, rope and window");
    if (l.kv_source >= 0)
      first_shared = std::min(first_shared, i);
    else if (first_shared < s.n_layers())
      fail(ErrorKind::kUnsupported, at + "shares KV only in the last layers");
  }
  for (int64_t i = first_shared; i < s.n_layers(); ++i) {
    const int64_t theirs = first_shared - (s.layers[i].window > 0 ? 2 : 1);
    if (theirs < 0 || s.layers[i].kv_source != theirs || (s.layers[theirs].window > 0) != (s.layers[i].window > 0))
      fail(ErrorKind::kUnsupported,
           "layer " + std::to_string(i) + ": llama.cpp's gemma4 would read the keys and values of layer " +
               std::to_string(theirs) + ", this model reads layer " + std::to_string(s.layers[i].kv_source));
  }
}

GgufArch gemma4_gguf(const ModelSpec& s) {
  check_llama_cpp_can_run(s);
  GgufArch a{"gemma4"};
  a.per_layer_shapes = first_irregular_layer(s, false) >= 0;  // head sizes are per kind, checked above
  a.keys = gemma4_keys;
  a.own_head_keys = true;
  return a;
}

// The config.json transformers would write for a gemma4 GGUF file, so that configure_gemma4
// reads per-layer head sizes, KV sharing and proportional rope as from a checkpoint.
nlohmann::json gemma4_gguf_config(const io::GgufFile& f) {
  using nlohmann::json;
  const std::string a = "gemma4.";
  const int64_t n_layers = gguf_key(f, a + "block_count").get<int64_t>();
  const json& pattern = gguf_key(f, a + "attention.sliding_window_pattern");
  if (!pattern.is_array() || int64_t(pattern.size()) != n_layers)
    fail(ErrorKind::kInput, f.path() + ": gemma4.attention.sliding_window_pattern needs one entry per layer");
  if (!f.has("rope_freqs.weight")) fail(ErrorKind::kInput, f.path() + ": gemma4 needs rope_freqs.weight");
  // rope_freqs: the rope factor on the pairs that turn, 1e30 on those that do not.
  const torch::Tensor freqs = f.get("rope_freqs.weight");
  const int64_t turning = (freqs < 1e29).sum().item<int64_t>();
  const int64_t global_dim = gguf_key(f, a + "attention.key_length").get<int64_t>();
  json c = {{"model_type", "gemma4_text"},
            {"hidden_size", gguf_key(f, a + "embedding_length")},
            {"num_hidden_layers", n_layers},
            {"num_attention_heads", gguf_per_layer(f, a + "attention.head_count", 0)},
            {"num_key_value_heads", gguf_per_layer(f, a + "attention.head_count_kv", 0)},
            {"intermediate_size", gguf_per_layer(f, a + "feed_forward_length", 0)},
            {"head_dim", gguf_key(f, a + "attention.key_length_swa")},
            {"sliding_window", gguf_key(f, a + "attention.sliding_window")},
            {"num_kv_shared_layers", int64_t(gguf_number(f, a + "attention.shared_kv_layers", 0))},
            {"hidden_size_per_layer_input", int64_t(gguf_number(f, a + "embedding_length_per_layer_input", 0))},
            {"rms_norm_eps", gguf_number(f, a + "attention.layer_norm_rms_epsilon", 1e-6)},
            {"max_position_embeddings", int64_t(gguf_number(f, a + "context_length", 0))},
            {"hidden_activation", "gelu_pytorch_tanh"},
            {"tie_word_embeddings", !f.has("output.weight")}};
  const double cap = gguf_number(f, a + "final_logit_softcapping", 30.0);  // llama.cpp's default
  if (cap > 0) c["final_logit_softcapping"] = cap;
  c["rope_parameters"] = {
      {"sliding_attention",
       {{"rope_type", "default"}, {"rope_theta", gguf_number(f, a + "rope.freq_base_swa", 10000.0)}}},
      {"full_attention",
       {{"rope_type", "proportional"},
        {"rope_theta", gguf_number(f, a + "rope.freq_base", 10000.0)},
        {"partial_rotary_factor", 2.0 * turning / global_dim},
        {"factor", turning > 0 ? freqs[0].item<double>() : 1.0}}}};
  c["layer_types"] = json::array();
  c["per_layer_config"] = json::object();
  c["attention_k_eq_v"] = false;  // a global layer with keys but no values of its own
  for (int64_t i = 0; i < n_layers; ++i) {
    const bool sliding = pattern[i].is_boolean() ? pattern[i].get<bool>() : pattern[i].get<int64_t>() != 0;
    c["layer_types"].push_back(sliding ? "sliding_attention" : "full_attention");
    json layer = {{"num_attention_heads", gguf_per_layer(f, a + "attention.head_count", i)},
                  {"num_key_value_heads", gguf_per_layer(f, a + "attention.head_count_kv", i)},
                  {"intermediate_size", gguf_per_layer(f, a + "feed_forward_length", i)}};
    if (!sliding) layer["head_dim"] = global_dim;
    const std::string blk = "blk." + std::to_string(i) + ".";
    if (!sliding && f.has(blk + "attn_k.weight") && !f.has(blk + "attn_v.weight")) c["attention_k_eq_v"] = true;
    c["per_layer_config"][std::to_string(i)] = layer;
  }
  for (const io::GgufTensorInfo& t : f.tensors())
    if (t.name == "token_embd.weight" && !t.shape.empty())
      c["vocab_size"] = c["vocab_size_per_layer_input"] = t.shape[0];
  return c;
}

// per_layer_config and num_kv_shared_layers from the spec, so that a model with layers removed
// is renumbered: an entry for each layer whose head size is not the one head_dim and
// global_head_dim give it, keyed by its index now. Head counts and FFN widths that vary go into
// bespoke_layers, which the generic writer adds.
void write_gemma4_config(const ModelSpec& s, nlohmann::json& c) {
  const int64_t head_dim = config_int(c, "head_dim");
  const bool has_global = c.contains("global_head_dim") && !c["global_head_dim"].is_null();
  nlohmann::json per_layer = nlohmann::json::object();
  int64_t shared = 0;
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    const int64_t implied = has_global && l.window == 0 ? config_int(c, "global_head_dim") : head_dim;
    if (l.n_heads > 0 && l.head_dim != implied) per_layer[std::to_string(i)] = {{"head_dim", l.head_dim}};
    shared += l.kv_source >= 0;
  }
  c["per_layer_config"] = per_layer;
  c["num_kv_shared_layers"] = shared;
}

// Gemma 4 configs list every key; these fill only what a text_config may leave out.
constexpr const char* kGemma4Defaults = R"({"hidden_activation": "gelu_pytorch_tanh", "rms_norm_eps": 1e-6,
  "tie_word_embeddings": true})";

}  // namespace

extern const Family kGemma4Family{"gemma4",
                                  {"gemma4_text", "gemma4"},
                                  kGemma4Defaults,
                                  configure_gemma4,
                                  gemma4_layer_types,
                                  gemma4_global_names(),
                                  gemma4_layer_names(),
                                  {},
                                  gemma4_gguf,
                                  {"gemma4"},
                                  gemma4_gguf_config,
                                  write_gemma4_config,
                                  gemma_resize_hidden};

}  // namespace bespoke::model
