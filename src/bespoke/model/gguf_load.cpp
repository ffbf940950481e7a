#include "bespoke/model/gguf_load.h"

#include <cmath>
#include <set>

#include "bespoke/core/error.h"
#include "bespoke/core/shape.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::model {
namespace {

using nlohmann::json;

// llama.cpp architecture -> the Bespoke family whose quirks it carries.
std::string family_of(const std::string& arch) {
  if (arch == "llama" || arch == "deci") return "llama";
  if (arch == "openelm") return "qwen3";  // how Bespoke writes a pruned Qwen3
  if (arch == "phi3" || arch == "gemma4") return arch;
  for (const char* same : {"qwen2", "qwen3", "gemma2", "gemma3", "olmo2", "granite"})
    if (arch == same) return arch;
  fail(ErrorKind::kUnsupported, "GGUF architecture '" + arch + "' is not read by Bespoke (llama, deci, qwen2, qwen3, openelm, phi3, gemma2, gemma3, gemma4, olmo2, granite)");
}

bool norm_rope(const std::string& arch) { return arch == "llama" || arch == "deci" || arch == "granite"; }

const json& key(const io::GgufFile& f, const std::string& k) {
  if (!f.metadata().contains(k)) fail(ErrorKind::kInput, f.path() + ": missing key '" + k + "'");
  return f.metadata()[k];
}

double number(const io::GgufFile& f, const std::string& k, double fallback) {
  return f.metadata().contains(k) ? f.metadata()[k].get<double>() : fallback;
}

// A scalar or a per-layer array.
int64_t per_layer(const io::GgufFile& f, const std::string& k, int64_t layer) {
  const json& v = key(f, k);
  if (!v.is_array()) return v.get<int64_t>();
  if (layer >= int64_t(v.size())) fail(ErrorKind::kInput, f.path() + ": '" + k + "' has fewer entries than block_count");
  return v[layer].get<int64_t>();
}

// Inverse of the exporter's row permutation: interleaved pairs -> rotate-half layout.
torch::Tensor unpermute_rows(const torch::Tensor& w, int64_t heads, int64_t head_dim) {
  const auto rest = w.sizes().slice(1).vec();
  std::vector<int64_t> shape = {heads, head_dim / 2, 2};
  shape.insert(shape.end(), rest.begin(), rest.end());
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes());
}

// Gemma 4 as the config.json transformers would write for it, so the family's own reading
// (per-layer head sizes, KV sharing, proportional rope) applies unchanged.
json gemma4_config(const io::GgufFile& f) {
  const std::string a = "gemma4.";
  const int64_t n_layers = key(f, a + "block_count").get<int64_t>();
  const json& pattern = key(f, a + "attention.sliding_window_pattern");
  if (!pattern.is_array() || int64_t(pattern.size()) != n_layers)
    fail(ErrorKind::kInput, f.path() + ": gemma4.attention.sliding_window_pattern needs one entry per layer");
  // rope_freqs: the rope factor on the pairs that turn, 1e30 on those that do not.
  const torch::Tensor freqs = f.get("rope_freqs.weight");
  const int64_t turning = (freqs < 1e29).sum().item<int64_t>();
  const int64_t global_dim = key(f, a + "attention.key_length").get<int64_t>();
  json c = {{"model_type", "gemma4_text"},
            {"hidden_size", key(f, a + "embedding_length")},
            {"num_hidden_layers", n_layers},
            {"num_attention_heads", per_layer(f, a + "attention.head_count", 0)},
            {"num_key_value_heads", per_layer(f, a + "attention.head_count_kv", 0)},
            {"intermediate_size", per_layer(f, a + "feed_forward_length", 0)},
            {"head_dim", key(f, a + "attention.key_length_swa")},
            {"sliding_window", key(f, a + "attention.sliding_window")},
            {"num_kv_shared_layers", int64_t(number(f, a + "attention.shared_kv_layers", 0))},
            {"hidden_size_per_layer_input", int64_t(number(f, a + "embedding_length_per_layer_input", 0))},
            {"rms_norm_eps", number(f, a + "attention.layer_norm_rms_epsilon", 1e-6)},
            {"max_position_embeddings", int64_t(number(f, a + "context_length", 0))},
            {"hidden_activation", "gelu_pytorch_tanh"},
            {"tie_word_embeddings", !f.has("output.weight")}};
  const double cap = number(f, a + "final_logit_softcapping", 30.0);  // llama.cpp's default
  if (cap > 0) c["final_logit_softcapping"] = cap;
  c["rope_parameters"] = {
      {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", number(f, a + "rope.freq_base_swa", 10000.0)}}},
      {"full_attention", {{"rope_type", "proportional"}, {"rope_theta", number(f, a + "rope.freq_base", 10000.0)},
                          {"partial_rotary_factor", 2.0 * turning / global_dim},
                          {"factor", turning > 0 ? freqs[0].item<double>() : 1.0}}}};
  c["layer_types"] = json::array();
  c["per_layer_config"] = json::object();
  for (int64_t i = 0; i < n_layers; ++i) {
    const bool sliding = pattern[i].is_boolean() ? pattern[i].get<bool>() : pattern[i].get<int64_t>() != 0;
    c["layer_types"].push_back(sliding ? "sliding_attention" : "full_attention");
    json layer = {{"num_attention_heads", per_layer(f, a + "attention.head_count", i)},
                  {"num_key_value_heads", per_layer(f, a + "attention.head_count_kv", i)},
                  {"intermediate_size", per_layer(f, a + "feed_forward_length", i)}};
    if (!sliding) layer["head_dim"] = global_dim;
    c["per_layer_config"][std::to_string(i)] = layer;
  }
  for (const io::GgufTensorInfo& t : f.tensors())
    if (t.name == "token_embd.weight") c["vocab_size"] = c["vocab_size_per_layer_input"] = t.shape[0];
  return c;
}

}  // namespace

ModelSpec spec_from_gguf(const io::GgufFile& f) {
  const std::string arch = key(f, "general.architecture").get<std::string>();
  if (arch == "gemma4") return spec_from_hf_config(gemma4_config(f));
  const std::string a = arch + ".";
  ModelSpec s;
  s.family = family_of(arch);
  s.hidden_size = key(f, a + "embedding_length").get<int64_t>();
  const int64_t n_layers = key(f, a + "block_count").get<int64_t>();
  if (n_layers < 1 || n_layers > 4096) fail(ErrorKind::kInput, f.path() + ": block_count out of range");
  s.max_position = int64_t(number(f, a + "context_length", 0));
  s.norm_eps = number(f, a + "attention.layer_norm_rms_epsilon", 1e-6);
  s.tie_embeddings = !f.has("output.weight");
  for (const io::GgufTensorInfo& t : f.tensors())
    if (t.name == "token_embd.weight") s.vocab_size = t.shape[0];
  RopeSpec rope;
  rope.theta = number(f, a + "rope.freq_base", 10000.0);
  if (f.metadata().value(a + "rope.scaling.type", "none") == "linear") {
    rope.type = RopeType::kLinear;
    rope.factor = number(f, a + "rope.scaling.factor", 1.0);
  }
  if (f.has("rope_factors_long.weight")) {
    rope.type = RopeType::kLongRope;
    const auto values = [&](const char* name) {
      const torch::Tensor t = f.get(name).to(torch::kFloat64);
      return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    };
    rope.long_factor = values("rope_factors_long.weight");
    rope.short_factor = values("rope_factors_short.weight");
    rope.original_context = number(f, a + "rope.scaling.original_context_length", 0);
    rope.attention_factor = number(f, a + "rope.scaling.attn_factor", 1.0);
  }
  if (f.has("rope_freqs.weight")) {
    const torch::Tensor d = f.get("rope_freqs.weight");
    rope.freq_divisors.assign(d.data_ptr<float>(), d.data_ptr<float>() + d.numel());
  }
  for (int64_t i = 0; i < n_layers; ++i) {
    LayerSpec l;
    l.n_heads = per_layer(f, a + "attention.head_count", i);
    l.n_kv_heads = f.metadata().contains(a + "attention.head_count_kv") ? per_layer(f, a + "attention.head_count_kv", i) : l.n_heads;
    l.head_dim = f.metadata().value(a + "attention.key_length", l.n_heads ? s.hidden_size / l.n_heads : 0);
    l.ffn_dim = per_layer(f, a + "feed_forward_length", i);
    l.rope = rope;
    const int64_t rot = f.metadata().value(a + "rope.dimension_count", l.head_dim);
    l.rope.partial_rotary_factor = l.head_dim ? double(rot) / l.head_dim : 1.0;
    s.layers.push_back(l);
  }
  if (arch == "qwen2") s.qkv_bias = true;
  if (arch == "llama" || arch == "deci") s.qkv_bias = f.has("blk.0.attn_q.bias");
  if (arch == "qwen3" || arch == "openelm") s.qk_norm = QkNorm::kPerHead;
  if (arch == "olmo2") {
    s.attn_pre_norm = s.ffn_pre_norm = false;
    s.attn_post_norm = s.ffn_post_norm = true;
    s.qk_norm = QkNorm::kFullWidth;
  }
  if (arch == "granite") {
    s.embedding_scale = number(f, a + "embedding_scale", 1.0);
    s.attn_scale = number(f, a + "attention.scale", 0.0);
    s.residual_scale = number(f, a + "residual_scale", 1.0);
    s.logit_divisor = number(f, a + "logit_scale", 1.0);
  }
  if (arch == "gemma2" || arch == "gemma3") {
    // Norm weights are stored as 1 + w, so the plain form reads them as they are.
    s.activation = Activation::kGeluTanh;
    s.norm_weight_in_fp32 = true;
    s.attn_post_norm = s.ffn_post_norm = true;
    s.embedding_scale = std::sqrt(double(s.hidden_size));
    s.attn_softcap = number(f, a + "attn_logit_softcapping", arch == "gemma2" ? 50.0 : 0.0);
    s.final_softcap = number(f, a + "final_logit_softcapping", arch == "gemma2" ? 30.0 : 0.0);
    if (arch == "gemma3") s.qk_norm = QkNorm::kPerHead;
    // llama.cpp's score scale: 1/sqrt(head_dim), or 1/sqrt(E / n_head) at the 27B depths.
    const bool big = n_layers == (arch == "gemma2" ? 46 : 62);
    s.attn_scale = big ? 1.0 / std::sqrt(double(s.hidden_size) / s.layers[0].n_heads) : 1.0 / std::sqrt(double(s.layers[0].head_dim));
    const int64_t window = number(f, a + "attention.sliding_window", 0);
    const int64_t period = number(f, a + "attention.sliding_window_pattern", arch == "gemma2" ? 2 : 6);
    for (int64_t i = 0; i < n_layers; ++i)
      if (window > 0 && i % period < period - 1) {
        s.layers[i].window = window;
        s.layers[i].rope = RopeSpec{};
        s.layers[i].rope.theta = number(f, a + "rope.freq_base_swa", 10000.0);
      }
  }
  validate(s);
  return s;
}

Transformer load_gguf_model(const std::string& path, const LoadOptions& options) {
  const io::GgufFile f(path);
  const ModelSpec s = spec_from_gguf(f);
  const std::string arch = f.metadata()["general.architecture"].get<std::string>();
  Transformer net(s, torch::TensorOptions().dtype(options.dtype).device(options.device));
  torch::NoGradGuard no_grad;
  auto params = net->named_parameters();
  std::set<std::string> used;
  for (const char* rope : {"rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"})
    if (f.has(rope)) used.insert(rope);
  const auto read = [&](const std::string& name) {
    if (!f.has(name)) fail(ErrorKind::kInput, path + ": no tensor '" + name + "'");
    used.insert(name);
    return f.get(name);
  };
  const bool fused_qkv = arch == "openelm" || (arch == "phi3" && f.has(layer_tensor_name(0, "attn_qkv.weight")));
  for (const TensorInfo& info : tensor_table(s)) {
    const std::string suffix = layer_tensor_suffix(info.name);
    torch::Tensor t;
    if (arch == "phi3" && (suffix == "ffn_gate.weight" || suffix == "ffn_up.weight")) {
      // ffn_up holds the gate rows, then the up rows.
      const int64_t ffn = s.layers[info.layer].ffn_dim;
      t = read(layer_tensor_name(info.layer, "ffn_up.weight")).narrow(0, suffix == "ffn_gate.weight" ? 0 : ffn, ffn);
    } else if (fused_qkv && (suffix == "attn_q.weight" || suffix == "attn_k.weight" || suffix == "attn_v.weight")) {
      // attn_qkv holds the Q rows, then K, then V.
      const LayerSpec& l = s.layers[info.layer];
      const int64_t q = l.n_heads * l.head_dim, kv = l.n_kv_heads * l.head_dim;
      const torch::Tensor qkv = read(layer_tensor_name(info.layer, "attn_qkv.weight"));
      t = suffix == "attn_q.weight" ? qkv.narrow(0, 0, q) : qkv.narrow(0, suffix == "attn_k.weight" ? q : q + kv, kv);
    } else {
      t = read(info.name);
    }
    if (t.sizes().vec() != info.shape)
      fail(ErrorKind::kInput, path + ": tensor '" + info.name + "': shape " + shape_string(t.sizes().vec()) + " != " + shape_string(info.shape));
    if (norm_rope(arch) && info.layer >= 0) {
      const LayerSpec& l = s.layers[info.layer];
      if (suffix == "attn_q.weight" || suffix == "attn_q.bias") t = unpermute_rows(t, l.n_heads, l.head_dim);
      if (suffix == "attn_k.weight" || suffix == "attn_k.bias") t = unpermute_rows(t, l.n_kv_heads, l.head_dim);
    }
    params.find(info.name)->copy_(t);
  }
  if (used.size() != f.tensors().size()) fail(ErrorKind::kInput, path + ": holds tensors this " + arch + " model does not use");
  return net;
}

}  // namespace bespoke::model
