// ModelSpec: the architecture of a decoder-only transformer as plain data.
// Everything that can differ between layers is per layer, so a pruned model is the same
// struct with other numbers. Family quirks are generic fields that one forward reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bespoke/core/name_table.h"

namespace bespoke::model {

enum class LayerKind { kAttention, kLinearAttention };
// kGeluTanhFp16 is llama.cpp's CPU GELU (input and result rounded to fp16 through its lookup
// table): not a model's activation, but a way to compute what llama.cpp computes from a file.
enum class Activation { kSilu, kGeluTanh, kGeluTanhFp16 };
enum class QkNorm { kNone, kPerHead, kFullWidth };  // RMSNorm of q and k before rope
enum class RopeType { kDefault, kLinear, kLlama3, kLongRope, kProportional };

const NameTable<LayerKind>& layer_kind_names();
const NameTable<Activation>& activation_names();
const NameTable<QkNorm>& qk_norm_names();
const NameTable<RopeType>& rope_type_names();

struct RopeSpec {
  RopeType type = RopeType::kDefault;
  double theta = 10000.0;
  double partial_rotary_factor = 1.0;  // fraction of head_dim that rotates
  double factor = 1.0;                 // linear, llama3, longrope
  double low_freq_factor = 1.0;        // llama3
  double high_freq_factor = 4.0;       // llama3
  int64_t original_context = 0;        // llama3, longrope
  std::vector<double> long_factor;     // longrope, one per rotated pair
  std::vector<double> short_factor;
  double attention_factor = 1.0;      // longrope: scales cos and sin
  std::vector<double> freq_divisors;  // one per rotated pair, applied last (GGUF rope_freqs)
};

// A Gated DeltaNet mixer (kLinearAttention: Qwen 3.5's linear_attention layers,
// model/gated_deltanet.h). Value head j reads key head j / (value_heads / key_heads).
struct DeltaNetSpec {
  int64_t key_heads = 0, value_heads = 0;
  int64_t key_dim = 0, value_dim = 0;  // per head
  int64_t conv_kernel = 0;             // the causal depthwise conv over q, k and v
  bool operator==(const DeltaNetSpec& o) const {
    return key_heads == o.key_heads && value_heads == o.value_heads && key_dim == o.key_dim &&
           value_dim == o.value_dim && conv_kernel == o.conv_kernel;
  }
};

struct LayerSpec {
  LayerKind kind = LayerKind::kAttention;  // kLinearAttention: no attention heads, a DeltaNet
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn_dim = 0;
  int64_t window = 0;      // sliding-window length in tokens; 0 = global attention
  int64_t kv_source = -1;  // >= 0: reuse the keys and values of that earlier layer
  bool k_eq_v = false;     // the values are the key projection before its norm and rope (no attn_v)
  RopeSpec rope;
  DeltaNetSpec deltanet;  // kLinearAttention layers

  // The head units a cut selects among, and the groups they sit in: query heads in KV groups,
  // or a DeltaNet's value heads in key heads.
  int64_t head_units() const { return kind == LayerKind::kLinearAttention ? deltanet.value_heads : n_heads; }
  int64_t group_units() const { return kind == LayerKind::kLinearAttention ? deltanet.key_heads : n_kv_heads; }
};

struct ModelSpec {
  std::string family;  // the Family record that reads and writes this checkpoint
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t max_position = 0;
  std::vector<LayerSpec> layers;

  // Norms: RMSNorm y = x / rms(x) * (norm_weight_offset + w).
  double norm_eps = 1e-6;
  double norm_weight_offset = 0.0;  // 1 for Gemma's (1 + w)
  // Where the weight multiplies: in fp32 before the cast back (Gemma, OLMo 2), or after the
  // normalized value is cast to the activation dtype (Llama and most others). Same in fp32.
  bool norm_weight_in_fp32 = false;
  bool attn_pre_norm = true;    // before attention
  bool attn_post_norm = false;  // on the attention output, before the residual add
  bool ffn_pre_norm = true;
  bool ffn_post_norm = false;
  QkNorm qk_norm = QkNorm::kNone;
  bool v_norm = false;  // weightless RMSNorm of v per head
  // q_proj gives each head [query | gate]; the attention output is multiplied by sigmoid(gate)
  // before o_proj (Qwen 3.5).
  bool attn_output_gate = false;

  Activation activation = Activation::kSilu;
  bool qkv_bias = false;
  bool o_bias = false;
  bool mlp_bias = false;
  bool tie_embeddings = false;

  double embedding_scale = 1.0;     // multiplies token embeddings (Gemma sqrt(d), Granite)
  double attn_scale = 0.0;          // score scale; 0 = 1/sqrt(head_dim)
  double attn_softcap = 0.0;        // cap * tanh(score / cap); 0 = off
  double final_softcap = 0.0;       // the same on logits
  double residual_scale = 1.0;      // multiplies each block output before the residual add
  double logit_divisor = 1.0;       // divides logits (Granite's logits_scaling)
  bool layer_output_scale = false;  // a learned scalar multiplies each layer's output

  // Per-layer token embeddings fed into every layer through a small gated projection
  // (Gemma 4); 0 = none.
  int64_t per_layer_input_dim = 0;
  int64_t per_layer_vocab_size = 0;

  int64_t n_layers() const { return static_cast<int64_t>(layers.size()); }
  // Token ids must be below this: the smaller of the two embedding tables.
  int64_t input_vocab_size() const {
    return per_layer_input_dim > 0 && per_layer_vocab_size < vocab_size ? per_layer_vocab_size : vocab_size;
  }
};

// Returns the exact number of parameters (elements of every weight tensor, tied ones once).
int64_t parameter_count(const ModelSpec& spec);

// Throws Error(kInput) if the spec is not a model Bespoke can build, naming the layer.
void validate(const ModelSpec& spec);

}  // namespace bespoke::model
