#include "bespoke/model/describe.h"

#include <cstdio>

namespace bespoke::model {

nlohmann::json describe_json(const ModelSpec& s) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerSpec& l : s.layers) {
    layers.push_back({{"kind", layer_kind_names().name(l.kind)},
                      {"n_head", l.n_heads},
                      {"n_kv_head", l.n_kv_heads},
                      {"head_dim", l.head_dim},
                      {"ffn", l.ffn_dim},
                      {"window", l.window},
                      {"kv_source", l.kv_source},
                      {"k_eq_v", l.k_eq_v},
                      {"rope_type", rope_type_names().name(l.rope.type)},
                      {"rope_theta", l.rope.theta},
                      {"partial_rotary_factor", l.rope.partial_rotary_factor}});
    if (l.kind == LayerKind::kLinearAttention)
      layers.back()["deltanet"] = {{"key_heads", l.deltanet.key_heads},
                                   {"value_heads", l.deltanet.value_heads},
                                   {"key_dim", l.deltanet.key_dim},
                                   {"value_dim", l.deltanet.value_dim},
                                   {"conv_kernel", l.deltanet.conv_kernel}};
  }
  return {{"family", s.family},
          {"vocab_size", s.vocab_size},
          {"hidden_size", s.hidden_size},
          {"n_layers", s.n_layers()},
          {"n_params", parameter_count(s)},
          {"max_position", s.max_position},
          {"tie_embeddings", s.tie_embeddings},
          {"activation", activation_names().name(s.activation)},
          {"norm_eps", s.norm_eps},
          {"norm_weight_offset", s.norm_weight_offset},
          {"qk_norm", qk_norm_names().name(s.qk_norm)},
          {"embedding_scale", s.embedding_scale},
          {"attn_softcap", s.attn_softcap},
          {"final_softcap", s.final_softcap},
          {"per_layer_input_dim", s.per_layer_input_dim},
          {"layers", layers}};
}

std::string describe_table(const ModelSpec& s) {
  char line[256];
  std::string out;
  std::snprintf(line, sizeof line, "family %s  vocab %lld  hidden %lld  layers %lld  params %lld%s\n", s.family.c_str(),
                (long long)s.vocab_size, (long long)s.hidden_size, (long long)s.n_layers(),
                (long long)parameter_count(s), s.tie_embeddings ? "  (tied embeddings)" : "");
  out += line;
  out += "layer  kind              heads  kv  head_dim    ffn  window  rope\n";
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const LayerSpec& l = s.layers[i];
    if (l.kind == LayerKind::kLinearAttention) {  // value heads in key heads, their head sizes
      const DeltaNetSpec& d = l.deltanet;
      std::snprintf(line, sizeof line, "%5lld  %-16s %6lld %3lld %5lld/%-3lld %6lld %7s  conv %lld\n", (long long)i,
                    layer_kind_names().name(l.kind), (long long)d.value_heads, (long long)d.key_heads,
                    (long long)d.key_dim, (long long)d.value_dim, (long long)l.ffn_dim, "-", (long long)d.conv_kernel);
      out += line;
      continue;
    }
    std::snprintf(line, sizeof line, "%5lld  %-16s %6lld %3lld %9lld %6lld %7lld  %s %g%s\n", (long long)i,
                  layer_kind_names().name(l.kind), (long long)l.n_heads, (long long)l.n_kv_heads, (long long)l.head_dim,
                  (long long)l.ffn_dim, (long long)l.window, rope_type_names().name(l.rope.type), l.rope.theta,
                  l.kv_source >= 0 ? ("  kv from " + std::to_string(l.kv_source)).c_str() : "");
    out += line;
  }
  return out;
}

}  // namespace bespoke::model
