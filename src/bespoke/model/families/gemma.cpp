// Gemma 2 (transformers models/gemma2/modeling_gemma2.py) and Gemma 3 text
// (models/gemma3/modeling_gemma3.py): (1 + w) RMSNorm, embeddings times sqrt(hidden),
// sandwich norms around attention and MLP, scores scaled by query_pre_attn_scalar^-0.5,
// soft-capped scores and logits (Gemma 2), per-head q/k norms and local/global rope bases
// (Gemma 3). In GGUF: llama.cpp's gemma2 and gemma3, which size every layer alike and mark
// local layers by a period.
#include <algorithm>
#include <cmath>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/model/families/gemma_common.h"
#include "bespoke/model/gguf_arch.h"

namespace bespoke::model {

// Shared with Gemma 4.
void configure_gemma_common(const nlohmann::json& c, ModelSpec& s) {
  s.norm_weight_offset = 1.0;
  s.norm_weight_in_fp32 = true;
  s.attn_post_norm = s.ffn_post_norm = true;
  gemma_resize_hidden(s);
  const double scalar = config_double(c, "query_pre_attn_scalar", 0.0);
  if (scalar > 0) s.attn_scale = 1.0 / std::sqrt(scalar);
  s.attn_softcap = config_double(c, "attn_logit_softcapping", 0.0);
  s.final_softcap = config_double(c, "final_logit_softcapping", 0.0);
}

void gemma_resize_hidden(ModelSpec& s) {
  s.embedding_scale = std::sqrt(static_cast<double>(s.hidden_size));
}

std::vector<NameRule> gemma_layer_names() {
  std::vector<NameRule> names = llama_layer_names();
  for (NameRule& r : names)
    if (r.canonical == "ffn_norm.weight") r.canonical = "post_attention_norm.weight";
  names.push_back({"ffn_norm.weight", "pre_feedforward_layernorm.weight"});
  names.push_back({"post_ffw_norm.weight", "post_feedforward_layernorm.weight"});
  return names;
}

namespace {

void configure_gemma3(const nlohmann::json& c, ModelSpec& s) {
  configure_gemma_common(c, s);
  s.qk_norm = QkNorm::kPerHead;
}

void gemma_keys(const ModelSpec& s, const std::string& a, io::GgufWriter& out) {
  if (s.attn_softcap > 0) out.add_float32(a + ".attn_logit_softcapping", float(s.attn_softcap));
  if (s.final_softcap > 0) out.add_float32(a + ".final_logit_softcapping", float(s.final_softcap));
  int64_t window = 0;
  for (const LayerSpec& l : s.layers) window = std::max(window, l.window);
  out.add_uint32(a + ".attention.sliding_window", uint32_t(window));
  for (const LayerSpec& l : s.layers)
    if (l.window > 0) {
      out.add_float32(a + ".rope.freq_base_swa", float(l.rope.theta));
      break;
    }
}

// llama.cpp scales scores by 1/sqrt of this: head_dim, or E / n_head at the 27B depths; it
// ignores query_pre_attn_scalar.
double llama_cpp_query_scalar(int64_t n_layers, bool gemma2, int64_t hidden, int64_t n_heads, int64_t head_dim) {
  const bool big = n_layers == (gemma2 ? 46 : 62);
  return big ? double(hidden) / n_heads : double(head_dim);
}

// The difference between this model's score scale and llama.cpp's goes into W_q.
torch::Tensor fold_query_scale(const ModelSpec& s, const std::string& suffix, const torch::Tensor& w) {
  if (suffix != "attn_q.weight") return w;
  const LayerSpec& l0 = s.layers[0];
  const double theirs = 1.0 / std::sqrt(llama_cpp_query_scalar(s.n_layers(), s.family == "gemma2", s.hidden_size,
                                                               l0.n_heads, l0.head_dim));
  const double ours = s.attn_scale > 0 ? s.attn_scale : 1.0 / std::sqrt(double(l0.head_dim));
  return w * (ours / theirs);
}

GgufArch gemma_gguf(const ModelSpec& s) {
  GgufArch a{s.family};
  a.swa_default_period = s.family == "gemma2" ? 2 : 6;
  a.keys = gemma_keys;
  a.weight = fold_query_scale;
  return native_only(s, a);
}

// llama.cpp's defaults where a key is absent: Gemma 2 caps at 50 and 30, period 2 or 6.
nlohmann::json gemma_gguf_config(const io::GgufFile& f) {
  const std::string arch = gguf_key(f, "general.architecture").get<std::string>(), a = arch + ".";
  const bool gemma2 = arch == "gemma2";
  nlohmann::json c = gguf_base_config(f, arch);
  c["hidden_activation"] = "gelu_pytorch_tanh";
  c["attn_logit_softcapping"] = gguf_number(f, a + "attn_logit_softcapping", gemma2 ? 50.0 : 0.0);
  c["final_logit_softcapping"] = gguf_number(f, a + "final_logit_softcapping", gemma2 ? 30.0 : 0.0);
  const int64_t n_layers = c["num_hidden_layers"].get<int64_t>();
  c["query_pre_attn_scalar"] =
      llama_cpp_query_scalar(n_layers, gemma2, c["hidden_size"].get<int64_t>(), c["num_attention_heads"].get<int64_t>(),
                             c["head_dim"].get<int64_t>());
  const int64_t window = int64_t(gguf_number(f, a + "attention.sliding_window", 0));
  const int64_t period = int64_t(gguf_number(f, a + "attention.sliding_window_pattern", gemma2 ? 2 : 6));
  if (period < 1) fail(ErrorKind::kInput, f.path() + ": " + a + "attention.sliding_window_pattern must be positive");
  c["sliding_window"] = window;
  c["rope_local_base_freq"] = gguf_number(f, a + "rope.freq_base_swa", 10000.0);
  c["layer_types"] = nlohmann::json::array();
  for (int64_t i = 0; i < n_layers; ++i)
    c["layer_types"].push_back(window > 0 && i % period < period - 1 ? "sliding_attention" : "full_attention");
  return c;
}

// Older Gemma 2 configs: even layers are local.
std::vector<std::string> gemma2_layer_types(const nlohmann::json&, int64_t n_layers) {
  std::vector<std::string> types;
  for (int64_t i = 0; i < n_layers; ++i) types.push_back(i % 2 ? "full_attention" : "sliding_attention");
  return types;
}

// Older Gemma 3 configs: every `sliding_window_pattern`-th layer is global.
std::vector<std::string> gemma3_layer_types(const nlohmann::json& c, int64_t n_layers) {
  const int64_t period = config_int(c, "sliding_window_pattern", 6);
  std::vector<std::string> types;
  for (int64_t i = 0; i < n_layers; ++i) types.push_back((i + 1) % period ? "sliding_attention" : "full_attention");
  return types;
}

}  // namespace

// transformers Gemma2Config / Gemma3TextConfig defaults.
constexpr const char* kGemma2Defaults = R"({"vocab_size": 256000, "hidden_size": 2304, "intermediate_size": 9216,
  "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 8192, "rms_norm_eps": 1e-6,
  "rope_theta": 10000.0, "query_pre_attn_scalar": 256, "sliding_window": 4096, "final_logit_softcapping": 30.0,
  "attn_logit_softcapping": 50.0, "tie_word_embeddings": true})";
constexpr const char* kGemma3Defaults = R"({"vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216,
  "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 131072, "rms_norm_eps": 1e-6,
  "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "query_pre_attn_scalar": 256, "sliding_window": 4096,
  "sliding_window_pattern": 6, "tie_word_embeddings": true})";

extern const Family kGemma2Family{"gemma2",           {"gemma2"},           kGemma2Defaults,     configure_gemma_common,
                                  gemma2_layer_types, llama_global_names(), gemma_layer_names(), {},
                                  gemma_gguf,         {"gemma2"},           gemma_gguf_config,   nullptr,
                                  gemma_resize_hidden};
extern const Family kGemma3Family{"gemma3",
                                  {"gemma3_text", "gemma3"},
                                  kGemma3Defaults,
                                  configure_gemma3,
                                  gemma3_layer_types,
                                  llama_global_names(),
                                  gemma_layer_names(),
                                  {},
                                  gemma_gguf,
                                  {"gemma3"},
                                  gemma_gguf_config,
                                  nullptr,
                                  gemma_resize_hidden};

}  // namespace bespoke::model
