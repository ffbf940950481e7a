// How a model is written as a llama.cpp GGUF architecture, and read back. Each family's file
// says which architecture it becomes (its own, or deci / openelm for per-layer shapes), which
// keys and weight transforms that needs, and which config.json a GGUF of its architectures
// stands for; the exporter and the GGUF loader hold no family names.
#pragma once

#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bespoke/io/gguf_reader.h"
#include "bespoke/io/gguf_writer.h"
#include "bespoke/model/spec.h"

namespace bespoke::model {

// Canonical layer tensors written as one, stacked along dim 0 in this order.
struct GgufFusion {
  std::string name;                // the written tensor's layer-relative name
  std::vector<std::string> parts;  // canonical suffixes
};

struct GgufArch {
  std::string name;               // general.architecture
  bool per_layer_shapes = false;  // head counts and FFN widths as per-layer arrays
  bool fused_qkv = false;         // one attn_qkv tensor: Q rows, then K, then V
  bool fused_gate_up = false;     // one ffn_up tensor: gate rows, then up rows
  bool stub_ffn = false;          // deci: see written_ffn()
  bool longrope = false;          // llama.cpp switches longrope's two factor sets (phi3)
  bool untie = false;             // a tied head is written as its own output.weight
  int swa_default_period = 0;     // gemma2/3: llama.cpp marks layer i local when i % period < period - 1
  // The family's own keys, after the generic ones.
  void (*keys)(const ModelSpec& spec, const std::string& arch, io::GgufWriter& out) = nullptr;
  // Replaces the generic head-size and rope keys (gemma4: one head size and rope per layer kind).
  bool own_head_keys = false;
  // A weight as this architecture's graph needs it (`suffix`: the canonical layer-relative name);
  // null keeps every weight.
  torch::Tensor (*weight)(const ModelSpec& spec, const std::string& suffix, const torch::Tensor& w) = nullptr;
  // The inverse of `weight`, for reading a file of this architecture back; null where `weight`
  // changes nothing that is read back.
  torch::Tensor (*read_weight)(const ModelSpec& spec, const std::string& suffix, const torch::Tensor& w) = nullptr;
  // The architecture's name for a layer tensor (canonical suffix in, llama.cpp's out) where it
  // differs; null keeps the canonical names.
  std::string (*tensor_name)(const std::string& suffix) = nullptr;
  // Layer tensors stored fused (Qwen 3.5's attn_qkv of a DeltaNet), each part as `weight` gives it.
  std::vector<GgufFusion> fusions = {};
  // Tensors of more than one dimension that llama.cpp reads only in F32, by the names written.
  std::vector<std::string> f32_tensors = {};
};

// Whether llama.cpp rotates interleaved pairs for `arch` (LLAMA_ROPE_TYPE_NORM), so that Q and
// K rows are permuted from transformers' rotate-half layout.
bool interleaved_rope(const std::string& arch);

// The first layer whose heads, kv heads or FFN width (or head size, where `one_head_size`)
// differ from layer 0's, or -1.
int64_t first_irregular_layer(const ModelSpec& s, bool one_head_size = true);

// `native` where every layer is sized like layer 0, else llama.cpp's deci.
GgufArch native_or_deci(const ModelSpec& s, GgufArch native);
// deci: per-layer head counts and FFN widths for Llama-shaped layers; refuses what it cannot hold.
GgufArch deci_arch(const ModelSpec& s);
// openelm: per-layer shapes with per-head q/k norms and a tied output (Qwen 3).
GgufArch openelm_arch(const ModelSpec& s);
// `native` where every layer is sized like layer 0; otherwise refuses, pointing to --pad-uniform.
GgufArch native_only(const ModelSpec& s, GgufArch native, const std::string& why = "");

// The width written for layer i's FFN: deci drops a layer's attention where n_ff is 0, and its
// last layer's n_ff = 0 would skip the graph's selection of the output rows, so such layers get
// a 1-wide FFN of zeros (exact: it adds 0).
int64_t written_ffn(const GgufArch& arch, const ModelSpec& s, int64_t layer);

// Reading a GGUF back. A key the file must hold (refused naming it), a number with a fallback,
// and a scalar-or-per-layer-array entry.
const nlohmann::json& gguf_key(const io::GgufFile& f, const std::string& key);
double gguf_number(const io::GgufFile& f, const std::string& key, double fallback);
int64_t gguf_per_layer(const io::GgufFile& f, const std::string& key, int64_t layer);
// Whether some layer holds `suffix` ("attn_q.bias").
bool gguf_has_layer_tensor(const io::GgufFile& f, const std::string& suffix);

// The config.json keys every architecture's metadata gives, under `model_type`: sizes, head
// counts and FFN widths (per layer in `bespoke_layers` where they vary), head size and rotary
// width, rope base and linear scaling, norm epsilon, context, vocabulary and tying.
nlohmann::json gguf_base_config(const io::GgufFile& f, const std::string& model_type);

}  // namespace bespoke::model
