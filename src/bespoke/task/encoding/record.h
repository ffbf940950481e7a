// mnemonic's encoding record: the fixed JSON a model writes for one raw memory. Ten keys in a
// fixed order, production enums, and the limits the daemon and its scorer apply.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <vector>

namespace bespoke::task::encoding {

// Records keep their keys in the order written: the order is part of the schema, and the
// scorer searches the record re-serialised in that order.
using Json = nlohmann::ordered_json;

inline constexpr std::array<const char*, 10> kKeys = {
    "gist",         "summary",        "content", "narrative", "concepts", "structured_concepts",
    "significance", "emotional_tone", "outcome", "salience"};
inline constexpr std::array<const char*, 4> kSignificance = {"routine", "notable", "important", "critical"};
inline constexpr std::array<const char*, 5> kEmotionalTone = {"neutral", "satisfying", "frustrating", "exciting",
                                                              "concerning"};
inline constexpr std::array<const char*, 4> kOutcome = {"success", "failure", "ongoing", "unknown"};
inline constexpr size_t kGistMax = 60, kSummaryMax = 400;  // code points

// structured_concepts' four lists and the string fields of their items, in order.
struct ItemKind {
  const char* list;
  std::vector<const char*> fields;
};
const std::vector<ItemKind>& item_kinds();

// Every way `record` departs from the strict schema (the daemon's JSON schema and grammar):
// missing, extra or out-of-order keys, wrong types, enums outside the production sets,
// salience outside [0, 1], gist/summary over their limits, structured_concepts not exactly
// {topics, entities, actions, causality} of objects with exactly their string fields.
// Empty: the record is valid. Each entry names the field ("structured_concepts.entities[2].name").
std::vector<std::string> violations(const Json& record);

// The SC metric of mnemonic's scorer, which is looser than the schema: the 10 keys present;
// significance / emotional_tone / outcome, when non-empty, in the production enums; salience
// a number in [0, 1], a bool counting as 1 or 0 (missing fails); gist <= 60 and summary <= 400
// code points; structured_concepts null or with its four keys present and lists; concepts a list
// of strings.
bool schema_compliant(const Json& record);

// The JSON schema the daemon sends as response_format (name "encoding_response", strict): every
// key required, no others, types only (no enums or ranges).
Json json_schema();

}  // namespace bespoke::task::encoding
