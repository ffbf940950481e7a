// Hugging Face config.json -> ModelSpec, in both the older (rope_theta, rope_scaling) and the
// newer (rope_parameters, layer_types) layouts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bespoke/model/spec.h"

namespace bespoke::model {

// Reads `<dir>/config.json`. Throws Error(kInput) naming the file and the key on bad input,
// Error(kUnsupported) for an unknown model_type (listing the supported ones).
ModelSpec read_hf_config(const std::string& dir);

// The same from parsed JSON. Multimodal configs are read through their `text_config`.
ModelSpec spec_from_hf_config(const nlohmann::json& config);

}  // namespace bespoke::model
