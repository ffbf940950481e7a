#include "bespoke/core/json.h"

#include <fstream>

#include "bespoke/core/error.h"

namespace bespoke {

using nlohmann::json;

namespace {

bool has(const json& c, const char* key) {
  return c.contains(key) && !c[key].is_null();
}

}  // namespace

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kIo, path + ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception&) {
    fail(ErrorKind::kInput, path + ": not valid JSON");
  } catch (const std::ios_base::failure&) {  // a directory, say: it opens, but reads fail
    fail(ErrorKind::kIo, path + ": cannot read");
  }
}

int64_t config_int(const json& c, const char* key) {
  if (!has(c, key)) fail(ErrorKind::kInput, std::string("missing key '") + key + "'");
  if (!c[key].is_number_integer()) fail(ErrorKind::kInput, std::string("key '") + key + "' is not an integer");
  return c[key].get<int64_t>();
}

int64_t config_int(const json& c, const char* key, int64_t fallback) {
  return has(c, key) ? config_int(c, key) : fallback;
}

double config_double(const json& c, const char* key, double fallback) {
  if (!has(c, key)) return fallback;
  if (!c[key].is_number()) fail(ErrorKind::kInput, std::string("key '") + key + "' is not a number");
  return c[key].get<double>();
}

bool config_bool(const json& c, const char* key, bool fallback) {
  if (!has(c, key)) return fallback;
  if (!c[key].is_boolean()) fail(ErrorKind::kInput, std::string("key '") + key + "' is not a boolean");
  return c[key].get<bool>();
}

std::string config_string(const json& c, const char* key, const std::string& fallback) {
  if (!has(c, key)) return fallback;
  if (!c[key].is_string()) fail(ErrorKind::kInput, std::string("key '") + key + "' is not a string");
  return c[key].get<std::string>();
}

std::vector<double> config_doubles(const json& c, const char* key) {
  if (!has(c, key) || !c[key].is_array())
    fail(ErrorKind::kInput, std::string("key '") + key + "' must be a list of numbers");
  std::vector<double> out;
  for (const auto& v : c[key]) {
    if (!v.is_number()) fail(ErrorKind::kInput, std::string("key '") + key + "' must be a list of numbers");
    out.push_back(v.get<double>());
  }
  return out;
}

}  // namespace bespoke
