#include "bespoke/model/spec.h"

#include "bespoke/core/error.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::model {

const NameTable<LayerKind>& layer_kind_names() {
  static const NameTable<LayerKind> t(
      "layer kind", {{LayerKind::kAttention, "attention"}, {LayerKind::kLinearAttention, "linear_attention"}});
  return t;
}

const NameTable<Activation>& activation_names() {
  static const NameTable<Activation> t("activation", {{Activation::kSilu, "silu"},
                                                      {Activation::kGeluTanh, "gelu_tanh"},
                                                      {Activation::kGeluTanhFp16, "gelu_tanh_fp16"}});
  return t;
}

const NameTable<QkNorm>& qk_norm_names() {
  static const NameTable<QkNorm> t(
      "qk norm", {{QkNorm::kNone, "none"}, {QkNorm::kPerHead, "per_head"}, {QkNorm::kFullWidth, "full_width"}});
  return t;
}

const NameTable<RopeType>& rope_type_names() {
  static const NameTable<RopeType> t("rope type", {{RopeType::kDefault, "default"},
                                                   {RopeType::kLinear, "linear"},
                                                   {RopeType::kLlama3, "llama3"},
                                                   {RopeType::kLongRope, "longrope"},
                                                   {RopeType::kProportional, "proportional"}});
  return t;
}

int64_t parameter_count(const ModelSpec& spec) {
  int64_t n = 0;
  for (const TensorInfo& t : tensor_table(spec)) {
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    n += numel;
  }
  return n;
}

void validate(const ModelSpec& s) {
  auto check = [](bool ok, const std::string& what) {
    if (!ok) fail(ErrorKind::kInput, what);
  };
  // Bounds far above any real model keep every size and product inside int64.
  constexpr int64_t kMaxDim = int64_t(1) << 24, kMaxLayers = 4096;
  check(s.vocab_size > 0 && s.vocab_size <= kMaxDim, "vocab_size must be in [1, 2^24]");
  check(s.hidden_size > 0 && s.hidden_size <= kMaxDim, "hidden_size must be in [1, 2^24]");
  check(!s.layers.empty() && s.n_layers() <= kMaxLayers, "the model needs 1 to 4096 layers");
  check(s.per_layer_input_dim == 0 ||
            (s.per_layer_vocab_size > 0 && s.per_layer_vocab_size <= kMaxDim && s.per_layer_input_dim <= kMaxDim),
        "per-layer inputs need a positive vocabulary");
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    const std::string at = "layer " + std::to_string(i) + ": ";
    if (l.kind == LayerKind::kLinearAttention) {
      const DeltaNetSpec& d = l.deltanet;
      check(l.n_heads == 0 && l.n_kv_heads == 0 && l.kv_source < 0,
            at + "a linear-attention layer has no attention heads");
      check(d.key_heads > 0 && d.value_heads > 0 && d.key_dim > 0 && d.value_dim > 0 && d.conv_kernel > 0,
            at + "a linear-attention layer needs positive head counts, head sizes and conv kernel");
      check(d.key_heads <= kMaxDim && d.value_heads <= kMaxDim && d.key_dim <= kMaxDim && d.value_dim <= kMaxDim &&
                d.conv_kernel <= 64,
            at + "a linear-attention size is out of range");
      check(d.value_heads % d.key_heads == 0, at + "value heads must be a multiple of key heads");
    }
    // 0 query heads: no attention (nor its norms); 0 FFN width: no MLP. Either may be absent.
    check(l.n_heads >= 0 && l.n_kv_heads >= 0 && l.head_dim >= 0 && l.ffn_dim >= 0, at + "a size is negative");
    check(l.n_heads <= kMaxDim && l.n_kv_heads <= kMaxDim && l.head_dim <= kMaxDim && l.ffn_dim <= kMaxDim,
          at + "a size is above 2^24");
    if (l.n_heads == 0) {
      check(l.n_kv_heads == 0 && l.kv_source < 0, at + "a layer without query heads has no kv heads either");
      continue;
    }
    check(l.n_kv_heads > 0 && l.head_dim > 0,
          at + "kv heads and head_dim must be positive where there are query heads");
    check(l.n_heads % l.n_kv_heads == 0, at + std::to_string(l.n_heads) + " query heads are not a multiple of " +
                                             std::to_string(l.n_kv_heads) + " kv heads");
    check(l.head_dim % 2 == 0, at + "head_dim must be even for rope");
    if (l.kv_source >= 0) {
      check(l.kv_source < i, at + "shares keys and values with a later layer");
      const LayerSpec& src = s.layers[l.kv_source];
      check(src.kv_source < 0 && src.n_heads > 0 && src.n_kv_heads == l.n_kv_heads && src.head_dim == l.head_dim,
            at + "kv source layer " + std::to_string(l.kv_source) + " has another kv shape");
    }
  }
}

}  // namespace bespoke::model
