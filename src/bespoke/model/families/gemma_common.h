// What Gemma 2, 3 and 4 share (defined in gemma.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "bespoke/model/family.h"

namespace bespoke::model {

// Sandwich norms, (1 + w) norms, sqrt(hidden) embedding scale, soft-caps, tied output.
void configure_gemma_common(const nlohmann::json& config, ModelSpec& spec);
// Embeddings times sqrt(hidden), recomputed by transformers from the config's hidden_size.
void gemma_resize_hidden(ModelSpec& spec);
// Llama names with the four Gemma norms.
std::vector<NameRule> gemma_layer_names();

}  // namespace bespoke::model
