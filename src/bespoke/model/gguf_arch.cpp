#include "bespoke/model/gguf_arch.h"

#include "bespoke/core/error.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::model {

using nlohmann::json;

bool interleaved_rope(const std::string& arch) {
  return arch == "llama" || arch == "deci" || arch == "granite";
}

int64_t first_irregular_layer(const ModelSpec& s, bool one_head_size) {
  const LayerSpec& l0 = s.layers[0];
  for (int64_t i = 1; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    if (l.n_heads != l0.n_heads || l.n_kv_heads != l0.n_kv_heads || l.ffn_dim != l0.ffn_dim ||
        (one_head_size && l.head_dim != l0.head_dim))
      return i;
  }
  return -1;
}

GgufArch native_only(const ModelSpec& s, GgufArch native, const std::string& why) {
  const int64_t irregular = first_irregular_layer(s);
  if (irregular < 0) return native;
  fail(ErrorKind::kUnsupported, "layer " + std::to_string(irregular) + ": llama.cpp's " + native.name +
                                    " architecture sizes every layer like layer 0" + why +
                                    "; export with --pad-uniform (zero-padded: exact, but no savings)");
}

// What deci and openelm share: one head size, and layer 0 with heads (it sets the head size).
void check_per_layer(const ModelSpec& s, const std::string& arch) {
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    const std::string at = "layer " + std::to_string(i) + ": " + arch + " ";
    if (l.n_heads > 0 && l.head_dim != s.layers[0].head_dim)
      fail(ErrorKind::kUnsupported, at + "needs one head_dim for every layer");
    if (l.n_heads == 0 && i == 0)
      fail(ErrorKind::kUnsupported,
           at + "cannot hold a first layer without attention heads (it sets the head size); use --pad-uniform");
  }
}

// llama.cpp's deci graph: 0 heads skips attention and its norm, 0 FFN width skips the rest of
// the layer, so a layer with neither is the identity (Puzzle's no-op blocks).
GgufArch deci_arch(const ModelSpec& s) {
  check_per_layer(s, "deci");
  GgufArch a{"deci"};
  a.per_layer_shapes = a.stub_ffn = true;
  return a;
}

GgufArch openelm_arch(const ModelSpec& s) {
  check_per_layer(s, "openelm");
  for (int64_t i = 0; i < s.n_layers(); ++i)
    if (s.layers[i].ffn_dim == 0 || s.layers[i].n_heads == 0)
      fail(ErrorKind::kUnsupported,
           "layer " + std::to_string(i) +
               ": openelm cannot hold a layer without attention heads or FFN units; use --pad-uniform");
  GgufArch a{"openelm"};
  a.per_layer_shapes = a.fused_qkv = true;
  return a;
}

GgufArch native_or_deci(const ModelSpec& s, GgufArch native) {
  return first_irregular_layer(s) < 0 ? native : deci_arch(s);
}

int64_t written_ffn(const GgufArch& a, const ModelSpec& s, int64_t i) {
  const LayerSpec& l = s.layers[i];
  return a.stub_ffn && l.ffn_dim == 0 && (l.n_heads > 0 || i + 1 == s.n_layers()) ? 1 : l.ffn_dim;
}

const json& gguf_key(const io::GgufFile& f, const std::string& k) {
  if (!f.metadata().contains(k)) fail(ErrorKind::kInput, f.path() + ": missing key '" + k + "'");
  return f.metadata()[k];
}

double gguf_number(const io::GgufFile& f, const std::string& k, double fallback) {
  if (!f.metadata().contains(k)) return fallback;
  const json& v = f.metadata()[k];
  if (!v.is_number()) fail(ErrorKind::kInput, f.path() + ": '" + k + "' is not a number");
  return v.get<double>();
}

int64_t gguf_per_layer(const io::GgufFile& f, const std::string& k, int64_t layer) {
  const json& v = gguf_key(f, k);
  if (v.is_array() && layer >= int64_t(v.size()))
    fail(ErrorKind::kInput, f.path() + ": '" + k + "' has fewer entries than block_count");
  const json& entry = v.is_array() ? v[layer] : v;
  if (!entry.is_number_integer()) fail(ErrorKind::kInput, f.path() + ": '" + k + "' is not an integer");
  return entry.get<int64_t>();
}

bool gguf_has_layer_tensor(const io::GgufFile& f, const std::string& suffix) {
  for (const io::GgufTensorInfo& t : f.tensors())
    if (t.name.rfind("blk.", 0) == 0 && layer_tensor_suffix(t.name) == suffix) return true;
  return false;
}

json gguf_base_config(const io::GgufFile& f, const std::string& model_type) {
  const std::string a = gguf_key(f, "general.architecture").get<std::string>() + ".";
  const int64_t E = gguf_key(f, a + "embedding_length").get<int64_t>();
  const int64_t n_layers = gguf_key(f, a + "block_count").get<int64_t>();
  if (n_layers < 1 || n_layers > 4096) fail(ErrorKind::kInput, f.path() + ": block_count out of range");
  const bool has_kv = f.metadata().contains(a + "attention.head_count_kv");
  json layers = json::array();
  int64_t first = -1;  // the first layer with attention gives the model-wide sizes
  for (int64_t i = 0; i < n_layers; ++i) {
    const int64_t heads = gguf_per_layer(f, a + "attention.head_count", i);
    layers.push_back({{"num_attention_heads", heads},
                      {"num_key_value_heads", has_kv ? gguf_per_layer(f, a + "attention.head_count_kv", i) : heads},
                      {"intermediate_size", gguf_per_layer(f, a + "feed_forward_length", i)}});
    if (first < 0 && heads > 0) first = i;
  }
  if (first < 0) fail(ErrorKind::kInput, f.path() + ": no layer has attention heads");
  const json& l0 = layers[first];
  const int64_t head_dim =
      int64_t(gguf_number(f, a + "attention.key_length", double(E / l0["num_attention_heads"].get<int64_t>())));
  json c = {{"model_type", model_type},
            {"hidden_size", E},
            {"num_hidden_layers", n_layers},
            {"num_attention_heads", l0["num_attention_heads"]},
            {"num_key_value_heads", l0["num_key_value_heads"]},
            {"intermediate_size", l0["intermediate_size"]},
            {"head_dim", head_dim},
            {"rms_norm_eps", gguf_number(f, a + "attention.layer_norm_rms_epsilon", 1e-6)},
            {"max_position_embeddings", int64_t(gguf_number(f, a + "context_length", 0))},
            {"rope_theta", gguf_number(f, a + "rope.freq_base", 10000.0)},
            {"tie_word_embeddings", !f.has("output.weight")}};
  const double rotary = gguf_number(f, a + "rope.dimension_count", double(head_dim));
  if (head_dim > 0 && rotary != head_dim) c["partial_rotary_factor"] = rotary / head_dim;
  if (f.metadata().value(a + "rope.scaling.type", "none") == "linear")
    c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", gguf_number(f, a + "rope.scaling.factor", 1.0)}};
  for (const io::GgufTensorInfo& t : f.tensors())
    if (t.name == "token_embd.weight" && !t.shape.empty()) c["vocab_size"] = t.shape[0];
  for (const json& l : layers)
    if (l != l0) {
      c["bespoke_layers"] = layers;
      break;
    }
  return c;
}

}  // namespace bespoke::model
