#include "bespoke/model/gguf_load.h"

#include <algorithm>
#include <map>
#include <set>

#include "bespoke/core/error.h"
#include "bespoke/core/shape.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_arch.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::model {
namespace {

// Inverse of the exporter's row permutation: interleaved pairs -> rotate-half layout.
torch::Tensor unpermute_rows(const torch::Tensor& w, int64_t heads, int64_t head_dim) {
  const auto rest = w.sizes().slice(1).vec();
  std::vector<int64_t> shape = {heads, head_dim / 2, 2};
  shape.insert(shape.end(), rest.begin(), rest.end());
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes());
}

// llama.cpp divides the frequencies of plain-rope global layers by rope_freqs (Llama 3.1's
// scaling); Gemma 4's global layers read it as their proportional rope, from the config.
void apply_rope_freqs(const io::GgufFile& f, ModelSpec& s) {
  if (!f.has("rope_freqs.weight")) return;
  const torch::Tensor d = f.get("rope_freqs.weight").contiguous();
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    LayerSpec& l = s.layers[i];
    if (l.window > 0 || l.rope.type != RopeType::kDefault || l.n_heads == 0) continue;
    if (d.numel() != l.head_dim / 2)
      fail(ErrorKind::kInput, f.path() + ": rope_freqs.weight has " + std::to_string(d.numel()) + " entries, layer " +
                                  std::to_string(i) + " turns " + std::to_string(l.head_dim / 2) + " pairs");
    l.rope.freq_divisors.assign(d.data_ptr<float>(), d.data_ptr<float>() + d.numel());
  }
}

}  // namespace

ModelSpec spec_from_gguf(const io::GgufFile& f) {
  const nlohmann::json& arch = gguf_key(f, "general.architecture");
  if (!arch.is_string()) fail(ErrorKind::kInput, f.path() + ": general.architecture is not a string");
  const nlohmann::json config = family_for_gguf_arch(arch.get<std::string>()).gguf_config(f);
  ModelSpec s;
  try {
    s = spec_from_hf_config(config);
  } catch (const Error& e) {
    throw with_context(e, f.path());
  }
  apply_rope_freqs(f, s);
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
  const bool interleaved = interleaved_rope(arch);
  // The names and transforms the file was written with, where its architecture has its own.
  const GgufArch written = family_for_gguf_arch(arch).gguf_arch(s);
  const bool own = written.name == arch;
  const std::vector<TensorInfo> table = tensor_table(s);
  std::map<std::string, const TensorInfo*> by_name;
  for (const TensorInfo& t : table) by_name[t.name] = &t;
  // A layer tensor as stored: under the architecture's name, or its rows of a fused tensor.
  const auto stored = [&](const TensorInfo& info) {
    const std::string suffix = layer_tensor_suffix(info.name);
    for (const GgufFusion& fusion : own&& info.layer >= 0 ? written.fusions : std::vector<GgufFusion>{}) {
      if (std::find(fusion.parts.begin(), fusion.parts.end(), suffix) == fusion.parts.end()) continue;
      int64_t offset = 0;
      for (const std::string& part : fusion.parts) {
        const int64_t rows = by_name.at(layer_tensor_name(info.layer, part))->shape[0];
        if (part == suffix) return read(layer_tensor_name(info.layer, fusion.name)).narrow(0, offset, rows);
        offset += rows;
      }
    }
    const bool renamed = own && written.tensor_name && info.layer >= 0;
    return read(renamed ? layer_tensor_name(info.layer, written.tensor_name(suffix)) : info.name);
  };
  for (const TensorInfo& info : table) {
    const std::string suffix = layer_tensor_suffix(info.name);
    const bool fused_qkv = info.layer >= 0 && f.has(layer_tensor_name(info.layer, "attn_qkv.weight"));
    const bool fused_gate_up = info.layer >= 0 && !f.has(layer_tensor_name(info.layer, "ffn_gate.weight"));
    torch::Tensor t;
    if (fused_gate_up && (suffix == "ffn_gate.weight" || suffix == "ffn_up.weight")) {
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
      t = stored(info);
      if (own && written.read_weight) t = written.read_weight(s, suffix, t);
    }
    if (t.sizes().vec() != info.shape)
      fail(ErrorKind::kInput, path + ": tensor '" + info.name + "': shape " + shape_string(t.sizes().vec()) +
                                  " != " + shape_string(info.shape));
    if (s.norm_weight_offset != 0 && suffix.find("norm.weight") != std::string::npos) t = t - s.norm_weight_offset;
    if (interleaved && info.layer >= 0) {
      const LayerSpec& l = s.layers[info.layer];
      if (suffix == "attn_q.weight" || suffix == "attn_q.bias") t = unpermute_rows(t, l.n_heads, l.head_dim);
      if (suffix == "attn_k.weight" || suffix == "attn_k.bias") t = unpermute_rows(t, l.n_kv_heads, l.head_dim);
    }
    params.find(info.name)->copy_(t);
  }
  if (used.size() != f.tensors().size())
    fail(ErrorKind::kInput, path + ": holds tensors this " + arch + " model does not use");
  return net;
}

}  // namespace bespoke::model
