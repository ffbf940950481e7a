// JSON files and typed access to their keys, each failure one line naming the file or the key.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bespoke {

// Reads and parses the JSON file at `path`. Throws Error(kIo) "PATH: cannot open" for a file
// that is missing, "PATH: cannot read" for one that opens but does not read (a directory),
// Error(kInput) "PATH: not valid JSON" for one that does not parse.
nlohmann::json read_json(const std::string& path);

// Typed access to the keys of a JSON object (a config.json, say). A key that is absent or null
// takes the fallback; a key of the wrong type throws Error(kInput) naming it; so does a
// missing key where there is no fallback.
int64_t config_int(const nlohmann::json& c, const char* key);
int64_t config_int(const nlohmann::json& c, const char* key, int64_t fallback);
double config_double(const nlohmann::json& c, const char* key, double fallback);
bool config_bool(const nlohmann::json& c, const char* key, bool fallback);
std::string config_string(const nlohmann::json& c, const char* key, const std::string& fallback);
// A list of numbers; throws Error(kInput) when the key is missing or holds anything else.
std::vector<double> config_doubles(const nlohmann::json& c, const char* key);

}  // namespace bespoke
