// Human- and machine-readable descriptions of a ModelSpec (`bespoke inspect`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bespoke/model/spec.h"

namespace bespoke::model {

// {family, vocab_size, hidden_size, n_params, n_layers, tie_embeddings, ...,
//  layers: [{kind, n_head, n_kv_head, head_dim, ffn, window, kv_source, k_eq_v, rope_type, rope_theta}]}
nlohmann::json describe_json(const ModelSpec& spec);

// A summary followed by one table row per layer.
std::string describe_table(const ModelSpec& spec);

}  // namespace bespoke::model
