#include "bespoke/export/gguf_export.h"

#include <cmath>
#include <map>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_vocab.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::exporter {
namespace {

using model::LayerSpec;
using model::ModelSpec;

// How one family becomes a llama.cpp architecture.
struct ArchExport {
  const char* family;
  const char* arch;
  bool norm_rope;          // llama.cpp rotates interleaved pairs: permute Q/K rows
  int swa_default_period;  // gemma: llama.cpp infers local layers from a period; 0 = none
  void (*keys)(const ModelSpec& spec, const std::string& arch, io::GgufWriter& out);
  bool per_layer_shapes = false;  // deci, openelm, gemma4: head counts and FFN widths as arrays
  bool fused_qkv = false;         // openelm: one attn_qkv tensor, Q rows then K then V
  bool fold_multipliers = false;  // Granite as deci: its four multipliers go into the weights
  bool fused_gate_up = false;     // phi3: one ffn_up tensor, gate rows then up rows
  // deci: a layer with attention and no FFN gets a 1-wide FFN whose weights are 0 (exact: it
  // adds 0), since llama.cpp's deci graph drops a layer's attention where n_ff is 0; so does
  // the last layer, where n_ff = 0 would also skip the graph's selection of the output rows.
  bool stub_ffn = false;
};

// The width written for layer i's FFN.
int64_t written_ffn(const ArchExport& ax, const ModelSpec& s, int64_t i) {
  const LayerSpec& l = s.layers[i];
  return ax.stub_ffn && l.ffn_dim == 0 && (l.n_heads > 0 || i + 1 == s.n_layers()) ? 1 : l.ffn_dim;
}

void no_keys(const ModelSpec&, const std::string&, io::GgufWriter&) {}

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

void granite_keys(const ModelSpec& s, const std::string& a, io::GgufWriter& out) {
  out.add_float32(a + ".logit_scale", float(s.logit_divisor));
  out.add_float32(a + ".residual_scale", float(s.residual_scale));
  out.add_float32(a + ".embedding_scale", float(s.embedding_scale));
  out.add_float32(a + ".attention.scale", float(s.attn_scale));
}

// Phi-3's own architecture: partial rotary and longrope's two factor sets, which llama.cpp
// picks by context size (long above the original context), where Bespoke and transformers
// pick by sequence length.
void phi3_keys(const ModelSpec& s, const std::string& a, io::GgufWriter& out) {
  const model::RopeSpec& r = s.layers[0].rope;
  out.add_uint32(a + ".attention.sliding_window", 0);
  if (r.type != model::RopeType::kLongRope) return;
  out.add_uint32(a + ".rope.scaling.original_context_length", uint32_t(r.original_context));
  out.add_float32(a + ".rope.scaling.attn_factor", float(r.attention_factor));
}

ArchExport phi3_arch() {
  ArchExport a{"phi3", "phi3", false, 0, phi3_keys};
  a.fused_qkv = a.fused_gate_up = true;
  return a;
}

// The first layer of each attention kind: llama.cpp's gemma4 holds one head size, rope and
// rotary width per kind.
std::pair<const LayerSpec*, const LayerSpec*> gemma4_kinds(const ModelSpec& s) {
  const LayerSpec *local = nullptr, *global = nullptr;
  for (const LayerSpec& l : s.layers) {
    const LayerSpec*& first = l.window > 0 ? local : global;
    if (!first) first = &l;
  }
  return {local, global};
}

void gemma4_keys(const ModelSpec& s, const std::string& a, io::GgufWriter& out) {
  const auto [local, global] = gemma4_kinds(s);
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
void check_gemma4(const ModelSpec& s) {
  const auto [local, global] = gemma4_kinds(s);
  if (!local || !global) fail(ErrorKind::kUnsupported, "llama.cpp's gemma4 needs both sliding and global layers");
  if (local->rope.type != model::RopeType::kDefault ||
      (global->rope.type != model::RopeType::kDefault && global->rope.type != model::RopeType::kProportional))
    fail(ErrorKind::kUnsupported, "llama.cpp's gemma4 takes default rope on sliding layers and proportional rope on global ones");
  if (s.per_layer_input_dim > 0 && s.per_layer_vocab_size != s.vocab_size)
    fail(ErrorKind::kUnsupported, "llama.cpp's gemma4 needs the per-layer embedding table to cover the vocabulary");
  int64_t first_shared = s.n_layers();
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    const LayerSpec& kind = l.window > 0 ? *local : *global;
    const std::string at = "layer " + std::to_string(i) + ": llama.cpp's gemma4 ";
    if (l.head_dim != kind.head_dim || !(l.rope == kind.rope) || l.window != kind.window)
      fail(ErrorKind::kUnsupported, at + "needs every " + (l.window > 0 ? "sliding" : "global") + " layer to share head size, rope and window");
    if (l.kv_source >= 0) first_shared = std::min(first_shared, i);
    else if (first_shared < s.n_layers()) fail(ErrorKind::kUnsupported, at + "shares KV only in the last layers");
  }
  for (int64_t i = first_shared; i < s.n_layers(); ++i) {
    const int64_t theirs = first_shared - (s.layers[i].window > 0 ? 2 : 1);
    if (theirs < 0 || s.layers[i].kv_source != theirs || (s.layers[theirs].window > 0) != (s.layers[i].window > 0))
      fail(ErrorKind::kUnsupported, "layer " + std::to_string(i) + ": llama.cpp's gemma4 would read the keys and values of layer " +
                                        std::to_string(theirs) + ", this model reads layer " + std::to_string(s.layers[i].kv_source));
  }
}

// Gemma 4's proportional rope as ggml's per-pair frequency divisors: 1 (or the rope factor) for
// the pairs that turn, 1e30 (no rotation) for the rest.
torch::Tensor proportional_rope_freqs(const model::RopeSpec& r, int64_t head_dim) {
  const int64_t turning = int64_t(r.partial_rotary_factor * head_dim / 2);
  std::vector<float> out(head_dim / 2, 1e30f);
  for (int64_t i = 0; i < turning; ++i) out[i] = float(r.factor);
  return torch::tensor(out);
}

const ArchExport kArches[] = {
    {"llama", "llama", true, 0, no_keys},       {"mistral", "llama", true, 0, no_keys},
    {"qwen2", "qwen2", false, 0, no_keys},      {"qwen3", "qwen3", false, 0, no_keys},
    {"gemma2", "gemma2", false, 2, gemma_keys}, {"gemma3", "gemma3", false, 6, gemma_keys},
    // Phi-3 with plain rope is a Llama; partial rotary and longrope need phi3_arch().
    {"phi3", "llama", true, 0, no_keys},        {"olmo2", "olmo2", false, 0, no_keys},
    {"granite", "granite", true, 0, granite_keys},      {"gemma4", "gemma4", false, 0, gemma4_keys},
};

const ArchExport& arch_for(const ModelSpec& s) {
  for (const ArchExport& a : kArches)
    if (s.family == a.family) return a;
  fail(ErrorKind::kUnsupported, "GGUF export of the " + s.family + " family is not supported yet");
}

// The first layer whose heads, kv heads or FFN width (or head size, where the architecture
// has one) differ from layer 0's, or -1.
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

// Most architectures size every layer from layer 0; llama.cpp's `deci` (Llama-shaped),
// `openelm` (per-head q/k norms, tied output) and `gemma4` read per-layer head counts and FFN
// widths, so a pruned model keeps its savings. Returns the architecture to write.
ArchExport choose_arch(const ModelSpec& s) {
  const ArchExport& native = arch_for(s);
  const int64_t irregular = first_irregular_layer(s, s.family != "gemma4");  // gemma4: one size per layer kind
  const model::RopeSpec& rope = s.layers[0].rope;
  if (s.family == "phi3" && (rope.type == model::RopeType::kLongRope || rope.partial_rotary_factor != 1.0)) {
    if (irregular >= 0)
      fail(ErrorKind::kUnsupported, "layer " + std::to_string(irregular) + ": llama.cpp's phi3 architecture sizes every layer like layer 0 "
                                        "and deci cannot rotate part of a head or switch longrope factors; use --pad-uniform");
    return phi3_arch();
  }
  if (irregular < 0) return native;
  if (s.family == "gemma4") {  // its loader sizes each layer from per-layer arrays
    ArchExport a = native;
    a.per_layer_shapes = true;
    return a;
  }
  const bool llama_shaped =
      s.family == "llama" || s.family == "mistral" || s.family == "qwen2" || s.family == "phi3" || s.family == "granite";
  const bool openelm = s.family == "qwen3" && s.tie_embeddings;
  if (!llama_shaped && !openelm)
    fail(ErrorKind::kUnsupported, "layer " + std::to_string(irregular) + ": llama.cpp's " + native.arch +
                                      " architecture sizes every layer like layer 0" +
                                      (s.family == "qwen3" ? " (openelm would need tied embeddings)" : "") +
                                      "; export with --pad-uniform (zero-padded: exact, but no savings)");
  const std::string arch = openelm ? "openelm" : "deci";
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    const std::string at = "layer " + std::to_string(i) + ": " + arch + " ";
    if (l.n_heads > 0 && l.head_dim != s.layers[0].head_dim) fail(ErrorKind::kUnsupported, at + "needs one head_dim for every layer");
    // deci (llama.cpp's graph): 0 heads skips attention and its norm, 0 FFN width skips the
    // rest of the layer, so a layer with neither is the identity; a layer with attention and no
    // FFN would lose its attention too, so it gets a zero 1-wide FFN (stub_ffn). Layer 0 sets
    // the head size.
    if (openelm && (l.ffn_dim == 0 || l.n_heads == 0))
      fail(ErrorKind::kUnsupported, at + "cannot hold a layer without attention heads or FFN units; use --pad-uniform");
    if (l.n_heads == 0 && i == 0)
      fail(ErrorKind::kUnsupported, at + "cannot hold a first layer without attention heads (it sets the head size); use --pad-uniform");
  }
  ArchExport a{s.family.c_str(), openelm ? "openelm" : "deci", !openelm, 0, no_keys};
  a.per_layer_shapes = true;
  a.fused_qkv = openelm;
  a.fold_multipliers = s.family == "granite";
  a.stub_ffn = !openelm;
  return a;
}

// llama.cpp's Gemma graphs mark layer i local when i % period < period - 1.
void require_period(const ModelSpec& s, int period) {
  for (int64_t i = 0; i < s.n_layers(); ++i)
    if ((s.layers[i].window > 0) != (i % period < period - 1))
      fail(ErrorKind::kUnsupported, "layer " + std::to_string(i) + ": llama.cpp would make it " +
                                        (i % period < period - 1 ? "local" : "global") + " (period " + std::to_string(period) + ")");
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

// HF "rotate half" rows -> interleaved pairs, per head: new row 2i+j = old row j*hd/2 + i.
torch::Tensor permute_rows(const torch::Tensor& w, int64_t heads, int64_t head_dim) {
  const auto rest = w.sizes().slice(1).vec();
  std::vector<int64_t> shape = {heads, 2, head_dim / 2};
  shape.insert(shape.end(), rest.begin(), rest.end());
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes());
}

// Llama 3.1's per-pair frequency divisors, stored as rope_freqs.
torch::Tensor llama3_rope_freqs(const model::RopeSpec& r, int64_t head_dim) {
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double freq = std::pow(r.theta, -2.0 * i / head_dim), wavelen = 2 * M_PI / freq;
    if (wavelen < r.original_context / r.high_freq_factor) out.push_back(1.0f);
    else if (wavelen > r.original_context / r.low_freq_factor) out.push_back(float(r.factor));
    else {
      const double smooth = (r.original_context / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
      out.push_back(float(1.0 / ((1 - smooth) / r.factor + smooth)));
    }
  }
  return torch::tensor(out);
}

void write_keys(const ModelSpec& s, const ArchExport& ax, io::GgmlType type, io::GgufWriter& out) {
  const std::string a = ax.arch;
  const LayerSpec& l0 = s.layers[0];
  const std::map<io::GgmlType, uint32_t> file_type = {
      {io::GgmlType::kF32, 0}, {io::GgmlType::kF16, 1}, {io::GgmlType::kQ4_0, 2}, {io::GgmlType::kQ8_0, 7},
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
      heads.push_back(int32_t(l.n_heads)), kv_heads.push_back(int32_t(l.n_kv_heads)), ffn.push_back(int32_t(written_ffn(ax, s, i)));
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
  if (a == "gemma4") return ax.keys(s, a, out);  // two head sizes and ropes, one per layer kind
  out.add_uint32(a + ".attention.key_length", uint32_t(l0.head_dim));
  out.add_uint32(a + ".attention.value_length", uint32_t(l0.head_dim));
  // The global layers' rope; Gemma's local layers get freq_base_swa.
  const LayerSpec* global = &l0;
  for (const LayerSpec& l : s.layers)
    if (l.window == 0) global = &l;
  if (ax.norm_rope && global->rope.partial_rotary_factor != 1.0)
    fail(ErrorKind::kUnsupported, std::string("llama.cpp's ") + a + " architecture rotates whole heads; partial rotary is not supported");
  out.add_uint32(a + ".rope.dimension_count", uint32_t(l0.head_dim * global->rope.partial_rotary_factor));
  out.add_float32(a + ".rope.freq_base", float(global->rope.theta));
  if (global->rope.type == model::RopeType::kLinear) {
    out.add_string(a + ".rope.scaling.type", "linear");
    out.add_float32(a + ".rope.scaling.factor", float(global->rope.factor));
  } else if (global->rope.type != model::RopeType::kDefault && global->rope.type != model::RopeType::kLlama3 &&
             !(global->rope.type == model::RopeType::kLongRope && std::string(ax.arch) == "phi3")) {
    fail(ErrorKind::kUnsupported, std::string("GGUF export of ") + model::rope_type_names().name(global->rope.type) + " rope is not supported yet");
  }
  if (ax.swa_default_period > 0) {
    const int period = swa_period(s);
    if (period == 0) require_period(s, ax.swa_default_period);
    out.add_uint32(a + ".attention.sliding_window_pattern", uint32_t(period ? period : ax.swa_default_period));
  }
  ax.keys(s, a, out);
}

// llama.cpp's Gemma graphs scale scores by 1/sqrt(head_dim), or 1/sqrt(E / n_head) for the
// 27B layer counts, and ignore query_pre_attn_scalar: fold the difference into W_q.
double gemma_query_factor(const ModelSpec& s) {
  const LayerSpec& l0 = s.layers[0];
  const bool big = (s.family == "gemma2" && s.n_layers() == 46) || (s.family == "gemma3" && s.n_layers() == 62);
  const double theirs = big ? 1.0 / std::sqrt(double(s.hidden_size) / l0.n_heads) : 1.0 / std::sqrt(double(l0.head_dim));
  const double ours = s.attn_scale > 0 ? s.attn_scale : 1.0 / std::sqrt(double(l0.head_dim));
  return ours / theirs;
}

// Granite scales the embeddings, the attention scores, both residual branches and the logits;
// deci has none of these, and each is linear in one weight, so it moves into that weight.
double granite_factor(const ModelSpec& s, const std::string& suffix) {
  const LayerSpec& l0 = s.layers[0];
  if (suffix == "token_embd.weight") return s.embedding_scale;
  if (suffix == "output.weight") return 1.0 / s.logit_divisor;
  const double scale = s.attn_scale > 0 ? s.attn_scale : 1.0 / std::sqrt(double(l0.head_dim));
  if (suffix == "attn_q.weight" || suffix == "attn_q.bias") return scale * std::sqrt(double(l0.head_dim));
  if (suffix == "attn_output.weight" || suffix == "attn_output.bias" || suffix == "ffn_down.weight" || suffix == "ffn_down.bias")
    return s.residual_scale;
  return 1.0;
}

// The frequency tensors llama.cpp reads beside the weights: Llama 3's per-pair divisors,
// Gemma 4's proportional rope as divisors, or longrope's two factor sets.
std::vector<std::pair<std::string, torch::Tensor>> rope_tensors(const ModelSpec& s) {
  const model::RopeSpec& r = s.layers[0].rope;
  if (r.type == model::RopeType::kLlama3) return {{"rope_freqs.weight", llama3_rope_freqs(r, s.layers[0].head_dim)}};
  if (s.family == "gemma4") {
    const LayerSpec& global = *gemma4_kinds(s).second;
    return {{"rope_freqs.weight", proportional_rope_freqs(global.rope, global.head_dim)}};
  }
  if (r.type == model::RopeType::kLongRope) {
    const auto factors = [](const std::vector<double>& f) { return torch::tensor(f, torch::kFloat64).to(torch::kFloat32); };
    return {{"rope_factors_long.weight", factors(r.long_factor)}, {"rope_factors_short.weight", factors(r.short_factor)}};
  }
  return {};
}

}  // namespace

void export_gguf(model::Transformer& net, const std::string& model_dir, const std::string& out_path, io::GgmlType type) {
  const ModelSpec& s = net->spec();
  const ArchExport ax = choose_arch(s);
  if (s.family == "gemma4") check_gemma4(s);
  io::GgufWriter out;
  write_keys(s, ax, type, out);
  write_vocab(model_dir, s.vocab_size, out);

  torch::NoGradGuard no_grad;
  auto params = net->named_parameters();
  const LayerSpec& l0 = s.layers[0];
  const bool gemma = s.family == "gemma2" || s.family == "gemma3";
  auto emit = [&](const std::string& name, torch::Tensor t) {
    t = t.to(torch::kFloat32);
    // Norms and other 1-D tensors stay F32; Q8_0 needs rows in 32-value blocks.
    const bool small = t.dim() == 1 || name.find("_norm") != std::string::npos;
    const bool blocked = type == io::GgmlType::kQ8_0 || type == io::GgmlType::kQ4_0;
    const io::GgmlType tt = small ? io::GgmlType::kF32 : (blocked && t.size(-1) % 32 != 0) ? io::GgmlType::kF16 : type;
    out.add_tensor(name, t, tt);
  };
  for (const auto& [name, t] : rope_tensors(s)) emit(name, t);
  for (const model::TensorInfo& info : model::tensor_table(s)) {
    torch::Tensor t = params.find(info.name)->detach().to(torch::kFloat32);
    const std::string suffix = model::layer_tensor_suffix(info.name);
    if (s.norm_weight_offset != 0 && suffix.find("norm.weight") != std::string::npos) t = t + s.norm_weight_offset;
    const LayerSpec& l = info.layer >= 0 ? s.layers[info.layer] : l0;
    if (ax.norm_rope && (suffix == "attn_q.weight" || suffix == "attn_q.bias")) t = permute_rows(t, l.n_heads, l.head_dim);
    if (ax.norm_rope && (suffix == "attn_k.weight" || suffix == "attn_k.bias")) t = permute_rows(t, l.n_kv_heads, l.head_dim);
    if (gemma && (suffix == "attn_q.weight")) t = t * gemma_query_factor(s);
    if (ax.fold_multipliers) t = t * granite_factor(s, suffix);
    if (ax.fused_qkv && (suffix == "attn_k.weight" || suffix == "attn_v.weight")) continue;  // in attn_qkv
    if (ax.fused_gate_up && suffix == "ffn_gate.weight") continue;  // in ffn_up
    if (ax.fused_gate_up && suffix == "ffn_up.weight") {
      emit(info.name, torch::cat({params.find(model::layer_tensor_name(info.layer, "ffn_gate.weight"))->detach().to(torch::kFloat32), t}));
      continue;
    }
    if (ax.fused_qkv && suffix == "attn_q.weight") {
      const auto other = [&](const char* name) { return params.find(model::layer_tensor_name(info.layer, name))->detach().to(torch::kFloat32); };
      emit(model::layer_tensor_name(info.layer, "attn_qkv.weight"), torch::cat({t, other("attn_k.weight"), other("attn_v.weight")}));
      continue;
    }
    emit(info.name, t);
  }
  for (int64_t i = 0; i < s.n_layers(); ++i)
    if (written_ffn(ax, s, i) != s.layers[i].ffn_dim) {
      const int64_t E = s.hidden_size;
      emit(model::layer_tensor_name(i, "ffn_norm.weight"), torch::ones({E}));
      emit(model::layer_tensor_name(i, "ffn_gate.weight"), torch::zeros({1, E}));
      emit(model::layer_tensor_name(i, "ffn_up.weight"), torch::zeros({1, E}));
      emit(model::layer_tensor_name(i, "ffn_down.weight"), torch::zeros({E, 1}));
    }
  if (ax.fold_multipliers && s.tie_embeddings)  // the scaled embedding can no longer double as the head
    emit("output.weight", params.find("token_embd.weight")->detach().to(torch::kFloat32) / s.logit_divisor);
  out.write(out_path);
}

}  // namespace bespoke::exporter
