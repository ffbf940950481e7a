// A Llama shape wide enough for the pruning tests' kernel-sized steps: 4 layers, 8 query heads
// in 2 KV groups of head_dim 16, FFN 512, vocabulary 256; the hidden size and norm epsilon given.
#pragma once

#include "bespoke/model/hf_config.h"

namespace bespoke::test {

inline model::ModelSpec wide_llama(int64_t hidden, double norm_eps) {
  return model::spec_from_hf_config({{"model_type", "llama"},
                                     {"hidden_size", hidden},
                                     {"num_hidden_layers", 4},
                                     {"num_attention_heads", 8},
                                     {"num_key_value_heads", 2},
                                     {"head_dim", 16},
                                     {"intermediate_size", 512},
                                     {"vocab_size", 256},
                                     {"max_position_embeddings", 128},
                                     {"rms_norm_eps", norm_eps},
                                     {"tie_word_embeddings", false}});
}

}  // namespace bespoke::test
