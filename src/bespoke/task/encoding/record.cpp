#include "bespoke/task/encoding/record.h"

#include <algorithm>

#include "bespoke/task/encoding/python_json.h"
#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {
namespace {

template <size_t N>
bool one_of(const std::string& v, const std::array<const char*, N>& set) {
  return std::any_of(set.begin(), set.end(), [&](const char* s) { return v == s; });
}

size_t code_points(const Json& s) {
  return text::utf8_chars(s.get<std::string>()).size();
}

void check_object_keys(const Json& o, const std::vector<const char*>& keys, const std::string& where,
                       std::vector<std::string>& out) {
  std::vector<std::string> have;
  for (const auto& [k, v] : o.items()) have.push_back(k);
  for (const char* k : keys)
    if (!o.contains(k)) out.push_back(where + ": missing \"" + k + "\"");
  for (const std::string& k : have)
    if (std::none_of(keys.begin(), keys.end(), [&](const char* want) { return k == want; }))
      out.push_back(where + ": unexpected key \"" + k + "\"");
}

void check_structured(const Json& sc, std::vector<std::string>& out) {
  if (!sc.is_object()) return out.push_back("structured_concepts: not an object");
  std::vector<const char*> lists;
  for (const ItemKind& kind : item_kinds()) lists.push_back(kind.list);
  check_object_keys(sc, lists, "structured_concepts", out);
  for (const ItemKind& kind : item_kinds()) {
    if (!sc.contains(kind.list)) continue;
    const std::string where = std::string("structured_concepts.") + kind.list;
    const Json& items = sc[kind.list];
    if (!items.is_array()) {
      out.push_back(where + ": not a list");
      continue;
    }
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string at = where + "[" + std::to_string(i) + "]";
      if (!items[i].is_object()) {
        out.push_back(at + ": not an object");
        continue;
      }
      check_object_keys(items[i], kind.fields, at, out);
      for (const char* f : kind.fields)
        if (items[i].contains(f) && !items[i][f].is_string()) out.push_back(at + "." + f + ": not a string");
    }
  }
}

}  // namespace

const std::vector<ItemKind>& item_kinds() {
  static const std::vector<ItemKind> kinds = {{"topics", {"label", "path"}},
                                              {"entities", {"name", "type", "context"}},
                                              {"actions", {"verb", "object", "details"}},
                                              {"causality", {"relation", "description"}}};
  return kinds;
}

std::vector<std::string> violations(const Json& r) {
  std::vector<std::string> out;
  if (!r.is_object()) return {"the record is not a JSON object"};
  std::vector<const char*> keys(kKeys.begin(), kKeys.end());
  check_object_keys(r, keys, "record", out);
  // Key order: the daemon's grammar writes them in this order.
  size_t next = 0;
  for (const auto& item : r.items()) {
    const std::string& k = item.key();
    const auto it = std::find_if(kKeys.begin(), kKeys.end(), [&](const char* want) { return k == want; });
    if (it == kKeys.end()) continue;
    if (size_t(it - kKeys.begin()) < next) out.push_back("record: \"" + k + "\" is out of order");
    next = std::max(next, size_t(it - kKeys.begin()));
  }
  for (const char* k : {"gist", "summary", "content", "narrative", "significance", "emotional_tone", "outcome"})
    if (r.contains(k) && !r[k].is_string()) out.push_back(std::string(k) + ": not a string");
  if (r.contains("gist") && r["gist"].is_string() && code_points(r["gist"]) > kGistMax)
    out.push_back("gist: over 60 characters");
  if (r.contains("summary") && r["summary"].is_string() && code_points(r["summary"]) > kSummaryMax)
    out.push_back("summary: over 400 characters");
  if (r.contains("content") && r["content"].is_string() && r["content"].get<std::string>().empty())
    out.push_back("content: empty");
  if (r.contains("concepts")) {
    if (!r["concepts"].is_array())
      out.push_back("concepts: not a list");
    else
      for (size_t i = 0; i < r["concepts"].size(); ++i)
        if (!r["concepts"][i].is_string()) out.push_back("concepts[" + std::to_string(i) + "]: not a string");
  }
  if (r.contains("structured_concepts")) check_structured(r["structured_concepts"], out);
  const auto check_enum = [&](const char* key, auto set) {
    if (r.contains(key) && r[key].is_string() && !one_of(r[key].get<std::string>(), set))
      out.push_back(std::string(key) + ": \"" + r[key].get<std::string>() + "\" is not one of the production values");
  };
  check_enum("significance", kSignificance);
  check_enum("emotional_tone", kEmotionalTone);
  check_enum("outcome", kOutcome);
  if (r.contains("salience")) {
    if (!r["salience"].is_number())
      out.push_back("salience: not a number");
    else if (r["salience"].get<double>() < 0 || r["salience"].get<double>() > 1)
      out.push_back("salience: outside [0, 1]");
  }
  return out;
}

bool schema_compliant(const Json& r) {
  if (!r.is_object()) return false;
  for (const char* k : kKeys)
    if (!r.contains(k)) return false;
  // The scorer checks an enum only when the value is truthy in Python's sense.
  const auto enum_ok = [&](const char* key, auto set) {
    const Json& v = r[key];
    return !python_truthy(v) || (v.is_string() && one_of(v.get<std::string>(), set));
  };
  if (!enum_ok("significance", kSignificance) || !enum_ok("emotional_tone", kEmotionalTone) ||
      !enum_ok("outcome", kOutcome))
    return false;
  // Python's bool is an int: the scorer takes True as 1 and False as 0.
  const Json& salience = r["salience"];
  if (!salience.is_number() && !salience.is_boolean()) return false;
  const double s = salience.is_boolean() ? (salience.get<bool>() ? 1.0 : 0.0) : salience.get<double>();
  if (s < 0 || s > 1) return false;
  if (!r["gist"].is_string() || code_points(r["gist"]) > kGistMax) return false;
  if (!r["summary"].is_string() || code_points(r["summary"]) > kSummaryMax) return false;
  // The scorer looks inside structured_concepts only when it is not None: a null passes.
  const Json& sc = r["structured_concepts"];
  if (!sc.is_null()) {
    if (!sc.is_object()) return false;
    for (const ItemKind& kind : item_kinds())
      if (!sc.contains(kind.list) || !sc[kind.list].is_array()) return false;
  }
  if (!r["concepts"].is_array()) return false;
  return std::all_of(r["concepts"].begin(), r["concepts"].end(), [](const Json& c) { return c.is_string(); });
}

Json json_schema() {
  const auto object = [](const std::vector<std::pair<const char*, Json>>& properties) {
    Json o = {{"type", "object"},
              {"properties", Json::object()},
              {"required", Json::array()},
              {"additionalProperties", false}};
    for (const auto& [name, type] : properties) {
      o["properties"][name] = type;
      o["required"].push_back(name);
    }
    return o;
  };
  const Json str = {{"type", "string"}};
  const auto list_of = [](const Json& item) { return Json{{"type", "array"}, {"items", item}}; };
  std::vector<std::pair<const char*, Json>> structured;
  for (const ItemKind& kind : item_kinds()) {
    std::vector<std::pair<const char*, Json>> fields;
    for (const char* f : kind.fields) fields.emplace_back(f, str);
    structured.emplace_back(kind.list, list_of(object(fields)));
  }
  return object({{"gist", str},
                 {"summary", str},
                 {"content", str},
                 {"narrative", str},
                 {"concepts", list_of(str)},
                 {"structured_concepts", object(structured)},
                 {"significance", str},
                 {"emotional_tone", str},
                 {"outcome", str},
                 {"salience", {{"type", "number"}}}});
}

}  // namespace bespoke::task::encoding
