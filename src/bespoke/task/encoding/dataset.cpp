#include "bespoke/task/encoding/dataset.h"

#include <algorithm>
#include <fstream>

#include "bespoke/core/error.h"
#include "bespoke/task/encoding/extract.h"
#include "bespoke/task/encoding/python_json.h"

namespace bespoke::task::encoding {
namespace {

// Each line of a JSONL file as an object; `what` names the records in errors.
template <typename F>
void for_each_record(const std::string& path, F&& take) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kInput, path + ": cannot open");
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const Json record = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string where = path + ":" + std::to_string(n) + ": ";
    if (record.is_discarded() || !record.is_object()) fail(ErrorKind::kInput, where + "not a JSON object");
    if (!record.contains("id") || !(record["id"].is_number_integer() || record["id"].is_string()))
      fail(ErrorKind::kInput, where + "needs an \"id\" (an integer or a string)");
    take(record, where);
  }
}

std::string string_field(const Json& record, const char* key, const std::string& fallback, const std::string& where) {
  if (!record.contains(key)) return fallback;
  if (!record[key].is_string()) fail(ErrorKind::kInput, where + "\"" + key + "\" is not a string");
  return record[key].get<std::string>();
}

}  // namespace

Role Item::role() const {
  if (id_role) return *id_role;
  if (category == "minimal") return Role::kMinimal;
  if (category == "dense-numbers") return Role::kDenseNumbers;
  if (category == "adversarial-twin") return Role::kTwin;
  return Role::kPlain;
}

std::vector<Item> load_items(const std::string& path) {
  std::vector<Item> items;
  for_each_record(path, [&](const Json& r, const std::string& where) {
    Item item;
    item.id = r["id"];
    if (!r.contains("raw_input")) fail(ErrorKind::kInput, where + "needs \"raw_input\"");
    item.raw_input = string_field(r, "raw_input", "", where);
    item.source = string_field(r, "source", item.source, where);
    item.type = string_field(r, "type", item.type, where);
    item.category = string_field(r, "category", item.category, where);
    item.pair = string_field(r, "pair", "", where);
    if (item.role() == Role::kTwin && item.pair.empty()) fail(ErrorKind::kInput, where + "a twin needs a \"pair\"");
    if (r.contains("gold_output")) item.gold = r["gold_output"];
    items.push_back(std::move(item));
  });
  if (items.empty()) fail(ErrorKind::kInput, path + ": no items");
  const bool numeric = items.front().id.is_number();
  for (const Item& item : items)
    if (item.id.is_number() != numeric) fail(ErrorKind::kInput, path + ": ids mix numbers and strings");
  // The last record of an id wins; then id order.
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
  std::vector<Item> unique;
  for (Item& item : items) {
    if (!unique.empty() && unique.back().id == item.id)
      unique.back() = std::move(item);
    else
      unique.push_back(std::move(item));
  }
  const bool probe_layout = numeric && std::none_of(unique.begin(), unique.end(), [](const Item& item) {
                              return !item.pair.empty() || item.role() != Role::kPlain;
                            });
  if (probe_layout)
    for (Item& item : unique) {
      // The scorer's ADVERSARIAL_PAIRS, MINIMAL_IDS and DENSE_NUMBER_IDS.
      if (!item.id.is_number_integer()) continue;
      const int64_t id = item.id.get<int64_t>();
      if (id >= 9 && id <= 14) {
        item.id_role = Role::kTwin;
        const int64_t first = id - (id - 9) % 2;
        item.pair = std::to_string(first) + "-" + std::to_string(first + 1);
      } else if (id >= 15 && id <= 17) {
        item.id_role = Role::kMinimal;
      } else if (id == 18 || id == 19) {
        item.id_role = Role::kDenseNumbers;
      } else {
        item.id_role = Role::kPlain;
      }
    }
  return unique;
}

std::map<std::string, std::optional<Json>> load_predictions(const std::string& path) {
  std::map<std::string, std::optional<Json>> out;
  for_each_record(path, [&](const Json& r, const std::string&) {
    Json output = r.contains("output") ? r["output"] : Json();
    // The scorer reads `output or gold_output`: an empty output scores the gold.
    if (!python_truthy(output)) output = r.contains("gold_output") ? r["gold_output"] : Json();
    std::optional<Json> parsed;
    if (output.is_string())
      parsed = extract_json(output.get<std::string>());
    else if (output.is_object())
      parsed = output;
    out[id_key(r["id"])] = parsed;
  });
  return out;
}

}  // namespace bespoke::task::encoding
