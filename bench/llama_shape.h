// A Llama-shaped config.json for the benchmarks: the sizes given, the rest as Llama's.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace bench {

struct LlamaShape {
  int64_t hidden, layers, heads, kv_heads, ffn, vocab, context;
  double rope_theta;
};

// Llama 3 8B, the size the plan's sources start from.
constexpr LlamaShape kLlama3_8B{4096, 32, 32, 8, 14336, 128256, 8192, 500000.0};

inline nlohmann::json llama_config(const LlamaShape& s) {
  return {{"model_type", "llama"},
          {"hidden_size", s.hidden},
          {"num_hidden_layers", s.layers},
          {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads},
          {"intermediate_size", s.ffn},
          {"vocab_size", s.vocab},
          {"max_position_embeddings", s.context},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", s.rope_theta},
          {"tie_word_embeddings", false},
          {"hidden_act", "silu"}};
}

}  // namespace bench
