// Qwen 3.5 text (transformers models/qwen3_5/modeling_qwen3_5.py), a hybrid: three of four
// layers are Gated DeltaNet linear attention (model/gated_deltanet.h), the rest full attention
// whose q_proj also gives a per-head output gate. Norms are (1 + w) in fp32, q and k normed per
// head; rope turns partial_rotary_factor of each head (M-RoPE is 1-D rope for text).
// The dense models only: qwen3_5_moe is refused.
// In GGUF: llama.cpp's qwen35, with its own tensor names, A = -exp(A_log), and value heads
// reordered to the tiled order its kernels read.
#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"
#include "bespoke/model/rope.h"

namespace bespoke::model {
namespace {

void configure_qwen3_5(const nlohmann::json& c, ModelSpec& s) {
  if (config_string(c, "model_type", "").find("moe") != std::string::npos)
    fail(ErrorKind::kUnsupported, "Qwen 3.5 mixture-of-experts models are not prunable yet (the dense ones are)");
  s.norm_weight_offset = 1.0;
  s.norm_weight_in_fp32 = true;
  s.qk_norm = QkNorm::kPerHead;
  s.attn_output_gate = true;
  const DeltaNetSpec d{config_int(c, "linear_num_key_heads"), config_int(c, "linear_num_value_heads"),
                       config_int(c, "linear_key_head_dim"), config_int(c, "linear_value_head_dim"),
                       config_int(c, "linear_conv_kernel_dim")};
  for (LayerSpec& l : s.layers) {
    if (l.kind != LayerKind::kLinearAttention) continue;
    l.n_heads = l.n_kv_heads = l.head_dim = 0;
    l.deltanet = d;
  }
}

// Without layer_types: full attention every full_attention_interval-th layer, DeltaNet between.
std::vector<std::string> qwen3_5_layer_types(const nlohmann::json& c, int64_t n_layers) {
  const int64_t interval = config_int(c, "full_attention_interval", 4);
  if (interval <= 0) fail(ErrorKind::kInput, "full_attention_interval must be positive");
  std::vector<std::string> types;
  for (int64_t i = 0; i < n_layers; ++i)
    types.push_back((i + 1) % interval == 0 ? "full_attention" : "linear_attention");
  return types;
}

std::vector<NameRule> qwen3_5_layer_names() {
  std::vector<NameRule> names = llama_layer_names();
  const std::pair<const char*, const char*> deltanet[] = {{"ssm.in_z.weight", "in_proj_z.weight"},
                                                          {"ssm.in_b.weight", "in_proj_b.weight"},
                                                          {"ssm.in_a.weight", "in_proj_a.weight"},
                                                          {"ssm.dt_bias", "dt_bias"},
                                                          {"ssm.a_log", "A_log"},
                                                          {"ssm.norm", "norm.weight"},
                                                          {"ssm.out.weight", "out_proj.weight"}};
  for (const auto& [canonical, hf] : deltanet) names.push_back({canonical, std::string("linear_attn.") + hf});
  return names;
}

// transformers keeps q, k and v in one projection and one conv, rows [q | k | v].
std::vector<Fusion> qwen3_5_fusions() {
  return {{"linear_attn.in_proj_qkv.weight", {"ssm.in_q.weight", "ssm.in_k.weight", "ssm.in_v.weight"}},
          {"linear_attn.conv1d.weight", {"ssm.conv_q", "ssm.conv_k", "ssm.conv_v"}}};
}

// llama.cpp's qwen35 holds one shape for every layer of a kind (scalar head, FFN and ssm keys,
// each checked against layer 0's tensors), needs key and value heads of one size, and gives
// every layer an FFN.
void check_llama_cpp_can_run(const ModelSpec& s) {
  const LayerSpec *attention = nullptr, *deltanet = nullptr;
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    const bool linear = l.kind == LayerKind::kLinearAttention;
    const LayerSpec*& first = linear ? deltanet : attention;
    if (!first) first = &l;
    const std::string at = "layer " + std::to_string(i) + ": llama.cpp's qwen35 ";
    if (l.ffn_dim != s.layers[0].ffn_dim || l.ffn_dim == 0)
      fail(ErrorKind::kUnsupported, at + "needs one FFN width in every layer (--pad-uniform)");
    if (linear ? !(l.deltanet == first->deltanet)
               : l.n_heads == 0 || l.n_heads != first->n_heads || l.n_kv_heads != first->n_kv_heads ||
                     l.head_dim != first->head_dim || !(l.rope == first->rope) || l.window > 0 || l.kv_source >= 0)
      fail(ErrorKind::kUnsupported,
           at + "needs every " + (linear ? "DeltaNet" : "attention") + " layer sized alike (--pad-uniform)");
  }
  if (!attention || !deltanet) fail(ErrorKind::kUnsupported, "llama.cpp's qwen35 needs both layer kinds");
  if (deltanet->deltanet.key_dim != deltanet->deltanet.value_dim)
    fail(ErrorKind::kUnsupported, "llama.cpp's qwen35 needs DeltaNet key and value heads of one size");
}

const DeltaNetSpec& deltanet_of(const ModelSpec& s) {
  for (const LayerSpec& l : s.layers)
    if (l.kind == LayerKind::kLinearAttention) return l.deltanet;
  fail(ErrorKind::kInternal, "no DeltaNet layer");
}

void qwen35_keys(const ModelSpec& s, const std::string& a, io::GgufWriter& out) {
  const DeltaNetSpec& d = deltanet_of(s);
  const LayerSpec* attention = nullptr;
  std::vector<int32_t> recurrent;
  for (const LayerSpec& l : s.layers) {
    recurrent.push_back(l.kind == LayerKind::kLinearAttention);
    if (!attention && l.n_heads > 0) attention = &l;
  }
  const int64_t rotary = int64_t(attention->head_dim * attention->rope.partial_rotary_factor);
  out.add_uint32(a + ".attention.key_length", uint32_t(attention->head_dim));
  out.add_uint32(a + ".attention.value_length", uint32_t(attention->head_dim));
  out.add_uint32(a + ".rope.dimension_count", uint32_t(rotary));
  out.add_float32(a + ".rope.freq_base", float(attention->rope.theta));
  // M-RoPE's sections are required. ggml's interleaved M-RoPE gives rotary pair s to the
  // temporal, height or width position by s mod 3, while s < 3 x that section; a pair past its
  // section reads the fourth position, 0 for text. So each section counts its residue's pairs
  // ([11, 11, 10] for 32 pairs, as Qwen 3.5's own), and every pair turns by the token's position.
  const int64_t pairs = rotary / 2;
  out.add_int32_array(a + ".rope.dimension_sections",
                      {int32_t((pairs + 2) / 3), int32_t((pairs + 1) / 3), int32_t(pairs / 3), 0});
  // Always written: the converter's default interval (4) misplaces any other pattern.
  out.add_int32_array(a + ".attention.recurrent_layers", recurrent);
  out.add_uint32(a + ".ssm.conv_kernel", uint32_t(d.conv_kernel));
  out.add_uint32(a + ".ssm.state_size", uint32_t(d.key_dim));
  out.add_uint32(a + ".ssm.group_count", uint32_t(d.key_heads));
  out.add_uint32(a + ".ssm.time_step_rank", uint32_t(d.value_heads));
  out.add_uint32(a + ".ssm.inner_size", uint32_t(d.value_heads * d.value_dim));
}

// ggml reads value head p from key head p mod nk (tiled), transformers value head j from key
// head j / r (grouped): GGUF value head p is transformers' (p mod nk) r + p / nk. Reorders the
// heads along dim 0 of `w` (`block` rows each), viewed as [outer, inner]: (nk, r) writes the
// tiled order, (r, nk) reads it back.
torch::Tensor reorder_value_heads(const torch::Tensor& w, int64_t outer, int64_t inner, int64_t block) {
  const auto rest = w.sizes().slice(1).vec();
  std::vector<int64_t> heads = {outer, inner, block};
  heads.insert(heads.end(), rest.begin(), rest.end());
  return w.reshape(heads).transpose(0, 1).reshape(w.sizes());
}

// `reorder` applied to the value heads of a DeltaNet tensor, along dim 0 (out transposed).
torch::Tensor reorder_deltanet(const ModelSpec& s, const std::string& suffix, const torch::Tensor& w, bool to_gguf) {
  const DeltaNetSpec& d = deltanet_of(s);
  const int64_t r = d.value_heads / d.key_heads;
  const auto reorder = [&](const torch::Tensor& x, int64_t block) {
    return to_gguf ? reorder_value_heads(x, d.key_heads, r, block) : reorder_value_heads(x, r, d.key_heads, block);
  };
  if (suffix == "ssm.in_v.weight" || suffix == "ssm.conv_v" || suffix == "ssm.in_z.weight")
    return reorder(w, d.value_dim);
  if (suffix == "ssm.out.weight") return reorder(w.t(), d.value_dim).t().contiguous();
  if (suffix == "ssm.in_b.weight" || suffix == "ssm.in_a.weight" || suffix == "ssm.dt_bias" || suffix == "ssm.a_log")
    return reorder(w, 1);
  return w;  // q and k (key heads keep their order), the norm shared by every head
}

bool is_conv(const std::string& suffix) {
  return suffix.rfind("ssm.conv_", 0) == 0;
}

// A is written as itself (-exp(A_log)), which llama.cpp reads; the convs as [channels, K].
torch::Tensor qwen35_weight(const ModelSpec& s, const std::string& suffix, const torch::Tensor& w) {
  if (suffix.rfind("ssm.", 0) != 0) return w;
  const torch::Tensor x = suffix == "ssm.a_log" ? -w.exp() : is_conv(suffix) ? w.squeeze(1) : w;
  return reorder_deltanet(s, suffix, x, true);
}

torch::Tensor qwen35_read_weight(const ModelSpec& s, const std::string& suffix, const torch::Tensor& w) {
  if (suffix.rfind("ssm.", 0) != 0) return w;
  const torch::Tensor x = reorder_deltanet(s, suffix, w, false);
  return suffix == "ssm.a_log" ? (-x).log() : is_conv(suffix) ? x.unsqueeze(1) : x;
}

std::string qwen35_tensor_name(const std::string& suffix) {
  static const std::pair<const char*, const char*> names[] = {{"ffn_norm.weight", "post_attention_norm.weight"},
                                                              {"ssm.in_z.weight", "attn_gate.weight"},
                                                              {"ssm.in_b.weight", "ssm_beta.weight"},
                                                              {"ssm.in_a.weight", "ssm_alpha.weight"},
                                                              {"ssm.dt_bias", "ssm_dt.bias"},
                                                              {"ssm.a_log", "ssm_a"},
                                                              {"ssm.norm", "ssm_norm.weight"},
                                                              {"ssm.out.weight", "ssm_out.weight"}};
  for (const auto& [canonical, gguf] : names)
    if (suffix == canonical) return gguf;
  return suffix;
}

GgufArch qwen3_5_gguf(const ModelSpec& s) {
  check_llama_cpp_can_run(s);
  GgufArch a{"qwen35"};
  a.keys = qwen35_keys;
  a.own_head_keys = true;
  a.weight = qwen35_weight;
  a.read_weight = qwen35_read_weight;
  a.tensor_name = qwen35_tensor_name;
  a.fusions = {{"attn_qkv.weight", {"ssm.in_q.weight", "ssm.in_k.weight", "ssm.in_v.weight"}},
               {"ssm_conv1d.weight", {"ssm.conv_q", "ssm.conv_k", "ssm.conv_v"}}};
  a.f32_tensors = {"ssm_conv1d.weight"};
  return a;
}

// The config.json a qwen35 file stands for: the generic sizes, the DeltaNet's from the ssm
// keys, and each layer's kind from recurrent_layers (else every full_attention_interval-th).
nlohmann::json qwen35_gguf_config(const io::GgufFile& f) {
  const std::string a = "qwen35.";
  nlohmann::json c = gguf_base_config(f, "qwen3_5_text");
  const int64_t value_heads = gguf_key(f, a + "ssm.time_step_rank").get<int64_t>();
  if (value_heads <= 0) fail(ErrorKind::kInput, f.path() + ": qwen35.ssm.time_step_rank must be positive");
  c["linear_num_key_heads"] = gguf_key(f, a + "ssm.group_count");
  c["linear_num_value_heads"] = value_heads;
  c["linear_key_head_dim"] = gguf_key(f, a + "ssm.state_size");
  c["linear_value_head_dim"] = gguf_key(f, a + "ssm.inner_size").get<int64_t>() / value_heads;
  c["linear_conv_kernel_dim"] = gguf_key(f, a + "ssm.conv_kernel");
  const int64_t n_layers = c["num_hidden_layers"].get<int64_t>();
  if (f.metadata().contains(a + "attention.recurrent_layers")) {
    const nlohmann::json& recurrent = f.metadata()[a + "attention.recurrent_layers"];
    if (!recurrent.is_array() || int64_t(recurrent.size()) != n_layers)
      fail(ErrorKind::kInput, f.path() + ": qwen35.attention.recurrent_layers needs one entry per layer");
    c["layer_types"] = nlohmann::json::array();
    for (const nlohmann::json& r : recurrent)
      c["layer_types"].push_back((r.is_boolean() ? r.get<bool>() : r.get<int64_t>() != 0) ? "linear_attention"
                                                                                          : "full_attention");
  } else {
    c["full_attention_interval"] = int64_t(gguf_number(f, a + "full_attention_interval", 4));
  }
  return c;
}

// The DeltaNet sizes a cut changed (every linear layer alike: the config holds one).
void write_qwen3_5_config(const ModelSpec& s, nlohmann::json& c) {
  for (const LayerSpec& l : s.layers) {
    if (l.kind != LayerKind::kLinearAttention) continue;
    c["linear_num_key_heads"] = l.deltanet.key_heads;
    c["linear_num_value_heads"] = l.deltanet.value_heads;
    c["linear_key_head_dim"] = l.deltanet.key_dim;
    c["linear_value_head_dim"] = l.deltanet.value_dim;
    c["linear_conv_kernel_dim"] = l.deltanet.conv_kernel;
    return;
  }
}

// transformers Qwen3_5TextConfig defaults (the 9B).
constexpr const char* kQwen3_5Defaults = R"({"vocab_size": 248320, "hidden_size": 4096, "intermediate_size": 12288,
  "num_hidden_layers": 32, "num_attention_heads": 16, "num_key_value_heads": 4, "head_dim": 256,
  "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_value_head_dim": 128,
  "linear_num_key_heads": 16, "linear_num_value_heads": 32, "partial_rotary_factor": 0.25,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
  "attention_bias": false, "tie_word_embeddings": false})";

}  // namespace

extern const Family kQwen3_5Family{"qwen3_5",
                                   {"qwen3_5_text", "qwen3_5", "qwen3_5_moe_text", "qwen3_5_moe"},
                                   kQwen3_5Defaults,
                                   configure_qwen3_5,
                                   qwen3_5_layer_types,
                                   llama_global_names(),
                                   qwen3_5_layer_names(),
                                   qwen3_5_fusions(),
                                   qwen3_5_gguf,
                                   {"qwen35"},
                                   qwen35_gguf_config,
                                   write_qwen3_5_config};

}  // namespace bespoke::model
