#include "bespoke/export/gguf_export.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_vocab.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::exporter {
namespace {

using model::LayerSpec;
using model::ModelSpec;

using model::GgufArch;

// Each family's file picks its architecture (gguf_arch.h); this file writes any of them.
GgufArch arch_for(const ModelSpec& s) {
  const model::Family& family = model::family_named(s.family);
  if (!family.gguf_arch)
    fail(ErrorKind::kUnsupported, "GGUF export of the " + s.family + " family is not supported yet");
  return family.gguf_arch(s);
}

// llama.cpp's Gemma graphs mark layer i local when i % period < period - 1.
void require_period(const ModelSpec& s, int period) {
  for (int64_t i = 0; i < s.n_layers(); ++i)
    if ((s.layers[i].window > 0) != (i % period < period - 1))
      fail(ErrorKind::kUnsupported, "layer " + std::to_string(i) + ": llama.cpp would make it " +
                                        (i % period < period - 1 ? "local" : "global") + " (period " +
                                        std::to_string(period) + ")");
}

// A sliding-window period that reproduces every layer's local/global kind, or 0.
int swa_period(const ModelSpec& s) {
  for (int p = 2; p <= s.n_layers() + 1; ++p) {
    bool ok = true;
    for (int64_t i = 0; i < s.n_layers() && ok; ++i) ok = (s.layers[i].window > 0) == (i % p < p - 1);
    if (ok) return p;
  }
  return 0;
}

// The global layers' rope and head size (llama.cpp's rope keys and rope tensors are theirs;
// local layers get freq_base_swa).
const LayerSpec& global_layer(const ModelSpec& s) {
  for (const LayerSpec& l : s.layers)
    if (l.window == 0) return l;
  return s.layers[0];
}

// HF "rotate half" rows -> interleaved pairs, per head: new row 2i+j = old row j*hd/2 + i.
torch::Tensor permute_rows(const torch::Tensor& w, int64_t heads, int64_t head_dim) {
  const auto rest = w.sizes().slice(1).vec();
  std::vector<int64_t> shape = {heads, 2, head_dim / 2};
  shape.insert(shape.end(), rest.begin(), rest.end());
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes());
}

// Proportional rope (Gemma 4) as ggml's per-pair frequency divisors: 1 (or the rope factor)
// for the pairs that turn, 1e30 (no rotation) for the rest.
torch::Tensor proportional_rope_freqs(const model::RopeSpec& r, int64_t head_dim) {
  const int64_t turning = int64_t(r.partial_rotary_factor * head_dim / 2);
  std::vector<float> out(head_dim / 2, 1e30f);
  for (int64_t i = 0; i < turning; ++i) out[i] = float(r.factor);
  return torch::tensor(out);
}

// Llama 3.1's per-pair frequency divisors, stored as rope_freqs.
torch::Tensor llama3_rope_freqs(const model::RopeSpec& r, int64_t head_dim) {
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double freq = std::pow(r.theta, -2.0 * i / head_dim), wavelen = 2 * M_PI / freq;
    if (wavelen < r.original_context / r.high_freq_factor)
      out.push_back(1.0f);
    else if (wavelen > r.original_context / r.low_freq_factor)
      out.push_back(float(r.factor));
    else {
      const double smooth =
          (r.original_context / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
      out.push_back(float(1.0 / ((1 - smooth) / r.factor + smooth)));
    }
  }
  return torch::tensor(out);
}

// The layer whose attention sizes the scalar head keys give: the first with attention (a
// hybrid's first layers may have none).
const LayerSpec& first_attention_layer(const ModelSpec& s) {
  for (const LayerSpec& l : s.layers)
    if (l.n_heads > 0) return l;
  return s.layers[0];
}

void write_keys(const ModelSpec& s, const GgufArch& ax, io::GgmlType type, io::GgufWriter& out) {
  const std::string& a = ax.name;
  const LayerSpec& l0 = first_attention_layer(s);
  const std::map<io::GgmlType, uint32_t> file_type = {{io::GgmlType::kF32, 0},
                                                      {io::GgmlType::kF16, 1},
                                                      {io::GgmlType::kQ4_0, 2},
                                                      {io::GgmlType::kQ8_0, 7},
                                                      {io::GgmlType::kBF16, 32}};
  out.add_string("general.architecture", a);
  out.add_string("general.type", "model");
  // A name mentioning a model family can switch on llama.cpp vocabulary quirks (e.g. "phi3").
  out.add_string("general.name", "bespoke export");
  out.add_uint32("general.file_type", file_type.at(type));
  out.add_uint32("general.quantization_version", 2);
  out.add_uint32(a + ".context_length", uint32_t(s.max_position));
  out.add_uint32(a + ".embedding_length", uint32_t(s.hidden_size));
  out.add_uint32(a + ".block_count", uint32_t(s.n_layers()));
  if (ax.per_layer_shapes) {  // arrays, as llama.cpp's deci converter writes them
    std::vector<int32_t> heads, kv_heads, ffn;
    for (int64_t i = 0; i < s.n_layers(); ++i) {
      const LayerSpec& l = s.layers[i];
      heads.push_back(int32_t(l.n_heads)), kv_heads.push_back(int32_t(l.n_kv_heads)),
          ffn.push_back(int32_t(written_ffn(ax, s, i)));
    }
    out.add_int32_array(a + ".feed_forward_length", ffn);
    out.add_int32_array(a + ".attention.head_count", heads);
    out.add_int32_array(a + ".attention.head_count_kv", kv_heads);
  } else {
    out.add_uint32(a + ".feed_forward_length", uint32_t(l0.ffn_dim));
    out.add_uint32(a + ".attention.head_count", uint32_t(l0.n_heads));
    out.add_uint32(a + ".attention.head_count_kv", uint32_t(l0.n_kv_heads));
  }
  out.add_float32(a + ".attention.layer_norm_rms_epsilon", float(s.norm_eps));
  out.add_uint32(a + ".vocab_size", uint32_t(s.vocab_size));
  if (ax.own_head_keys) return ax.keys(s, a, out);
  out.add_uint32(a + ".attention.key_length", uint32_t(l0.head_dim));
  out.add_uint32(a + ".attention.value_length", uint32_t(l0.head_dim));
  const LayerSpec& global = global_layer(s);
  if (model::interleaved_rope(a) && global.rope.partial_rotary_factor != 1.0)
    fail(ErrorKind::kUnsupported,
         "llama.cpp's " + a + " architecture rotates whole heads; partial rotary is not supported");
  out.add_uint32(a + ".rope.dimension_count", uint32_t(l0.head_dim * global.rope.partial_rotary_factor));
  out.add_float32(a + ".rope.freq_base", float(global.rope.theta));
  if (global.rope.type == model::RopeType::kLinear) {
    out.add_string(a + ".rope.scaling.type", "linear");
    out.add_float32(a + ".rope.scaling.factor", float(global.rope.factor));
  } else if (global.rope.type != model::RopeType::kDefault && global.rope.type != model::RopeType::kLlama3 &&
             !(global.rope.type == model::RopeType::kLongRope && ax.longrope)) {
    fail(ErrorKind::kUnsupported, std::string("GGUF export of ") + model::rope_type_names().name(global.rope.type) +
                                      " rope is not supported yet");
  }
  if (ax.swa_default_period > 0) {
    const int period = swa_period(s);
    if (period == 0) require_period(s, ax.swa_default_period);
    out.add_uint32(a + ".attention.sliding_window_pattern", uint32_t(period ? period : ax.swa_default_period));
  }
  if (ax.keys) ax.keys(s, a, out);
}

// The frequency tensors llama.cpp reads beside the weights, from the global layers' rope:
// Llama 3's or proportional rope's per-pair divisors, or longrope's two factor sets.
std::vector<std::pair<std::string, torch::Tensor>> rope_tensors(const ModelSpec& s) {
  const LayerSpec& global = global_layer(s);
  const model::RopeSpec& r = global.rope;
  if (r.type == model::RopeType::kLlama3) return {{"rope_freqs.weight", llama3_rope_freqs(r, global.head_dim)}};
  if (r.type == model::RopeType::kProportional)
    return {{"rope_freqs.weight", proportional_rope_freqs(r, global.head_dim)}};
  if (r.type == model::RopeType::kLongRope) {
    const auto factors = [](const std::vector<double>& f) {
      return torch::tensor(f, torch::kFloat64).to(torch::kFloat32);
    };
    return {{"rope_factors_long.weight", factors(r.long_factor)},
            {"rope_factors_short.weight", factors(r.short_factor)}};
  }
  return {};
}

}  // namespace

void export_gguf(model::Transformer& net, const std::string& model_dir, const std::string& out_path,
                 io::GgmlType type, const std::string& description) {
  const ModelSpec& s = net->spec();
  const GgufArch ax = arch_for(s);
  const bool interleaved = model::interleaved_rope(ax.name);
  io::GgufWriter out;
  write_keys(s, ax, type, out);
  if (!description.empty()) out.add_string("general.description", description);
  write_vocab(model_dir, s.vocab_size, out);

  torch::NoGradGuard no_grad;
  auto params = net->named_parameters();
  const auto param = [&](const std::string& name) { return params.find(name)->detach().to(torch::kFloat32); };
  auto emit = [&](const std::string& canonical, torch::Tensor t) {
    const std::string suffix = model::layer_tensor_suffix(canonical);
    const std::string name = ax.tensor_name && suffix != canonical
                                 ? canonical.substr(0, canonical.size() - suffix.size()) + ax.tensor_name(suffix)
                                 : canonical;
    t = t.to(torch::kFloat32);
    // Norms and other 1-D tensors stay F32; Q8_0 needs rows in 32-value blocks.
    const bool small = t.dim() == 1 || name.find("_norm") != std::string::npos ||
                       std::find(ax.f32_tensors.begin(), ax.f32_tensors.end(), model::layer_tensor_suffix(name)) !=
                           ax.f32_tensors.end();
    const bool blocked = type == io::GgmlType::kQ8_0 || type == io::GgmlType::kQ4_0;
    const io::GgmlType tt = small ? io::GgmlType::kF32 : (blocked && t.size(-1) % 32 != 0) ? io::GgmlType::kF16 : type;
    out.add_tensor(name, t, tt);
  };
  // A weight as the architecture's graph reads it.
  const auto written = [&](const model::TensorInfo& info) {
    torch::Tensor t = param(info.name);
    const std::string suffix = model::layer_tensor_suffix(info.name);
    if (s.norm_weight_offset != 0 && suffix.find("norm.weight") != std::string::npos) t = t + s.norm_weight_offset;
    if (interleaved && info.layer >= 0) {
      const LayerSpec& l = s.layers[info.layer];
      if (suffix == "attn_q.weight" || suffix == "attn_q.bias") t = permute_rows(t, l.n_heads, l.head_dim);
      if (suffix == "attn_k.weight" || suffix == "attn_k.bias") t = permute_rows(t, l.n_kv_heads, l.head_dim);
    }
    return ax.weight ? ax.weight(s, suffix, t) : t;
  };
  for (const auto& [name, t] : rope_tensors(s)) emit(name, t);
  std::vector<model::GgufFusion> fusions = ax.fusions;
  if (ax.fused_qkv) fusions.push_back({"attn_qkv.weight", {"attn_q.weight", "attn_k.weight", "attn_v.weight"}});
  if (ax.fused_gate_up) fusions.push_back({"ffn_up.weight", {"ffn_gate.weight", "ffn_up.weight"}});
  const auto fusion_of = [&](const std::string& suffix) -> const model::GgufFusion* {
    for (const model::GgufFusion& f : fusions)
      if (std::find(f.parts.begin(), f.parts.end(), suffix) != f.parts.end()) return &f;
    return nullptr;
  };
  std::map<std::string, torch::Tensor> parts;  // a fused tensor's parts so far, by name
  for (const model::TensorInfo& info : model::tensor_table(s)) {
    const std::string suffix = model::layer_tensor_suffix(info.name);
    const model::GgufFusion* fusion = info.layer >= 0 ? fusion_of(suffix) : nullptr;
    if (!fusion) {
      emit(info.name, written(info));
      continue;
    }
    parts[info.name] = written(info);
    if (suffix != fusion->parts.back()) continue;  // the table lists a fusion's parts in its order
    std::vector<torch::Tensor> stacked;
    for (const std::string& part : fusion->parts)
      stacked.push_back(parts.at(model::layer_tensor_name(info.layer, part)));
    emit(model::layer_tensor_name(info.layer, fusion->name), torch::cat(stacked));
  }
  for (int64_t i = 0; i < s.n_layers(); ++i)
    if (written_ffn(ax, s, i) != s.layers[i].ffn_dim) {
      const int64_t E = s.hidden_size;
      emit(model::layer_tensor_name(i, "ffn_norm.weight"), torch::ones({E}));
      emit(model::layer_tensor_name(i, "ffn_gate.weight"), torch::zeros({1, E}));
      emit(model::layer_tensor_name(i, "ffn_up.weight"), torch::zeros({1, E}));
      emit(model::layer_tensor_name(i, "ffn_down.weight"), torch::zeros({E, 1}));
    }
  if (ax.untie && s.tie_embeddings)
    emit("output.weight",
         ax.weight ? ax.weight(s, "output.weight", param("token_embd.weight")) : param("token_embd.weight"));
  out.write(out_path);
}

}  // namespace bespoke::exporter
