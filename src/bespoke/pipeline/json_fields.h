// Tolerant reads of a report's JSON: a section that is missing or null reads as nothing, so a
// chart or table draws what there is.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

namespace bespoke::pipeline {

// `j[key]`, or null when `j` is not an object or has no such key.
inline const nlohmann::ordered_json& field(const nlohmann::ordered_json& j, const char* key) {
  static const nlohmann::ordered_json none;
  if (!j.is_object()) return none;
  const auto it = j.find(key);
  return it == j.end() ? none : *it;
}

// A finite number, or nothing.
inline std::optional<double> number(const nlohmann::ordered_json& v) {
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

}  // namespace bespoke::pipeline
