// Hugging Face config.json -> ModelSpec, in both the older (rope_theta, rope_scaling) and the
// newer (rope_parameters, layer_types) layouts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bespoke/model/spec.h"

namespace bespoke::io {

// Reads `<dir>/config.json`. Throws Error(kInput) naming the file and the key on bad input,
// Error(kUnsupported) for an unknown model_type (listing the supported ones).
model::ModelSpec read_hf_config(const std::string& dir);

// The same from parsed JSON. Multimodal configs are read through their `text_config`.
model::ModelSpec spec_from_hf_config(const nlohmann::json& config);

// Typed access to config keys with one-line errors naming the key.
int64_t config_int(const nlohmann::json& c, const char* key);
int64_t config_int(const nlohmann::json& c, const char* key, int64_t fallback);
double config_double(const nlohmann::json& c, const char* key, double fallback);
bool config_bool(const nlohmann::json& c, const char* key, bool fallback);

}  // namespace bespoke::io
