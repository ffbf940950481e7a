// Evaluation items for the encoding task, read from the generator's JSONL or from mnemonic's
// probe layout (id, raw_input, source, type, category, gold_output; a twin's `pair`).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding {

// What an item's category makes of it: MIH is scored on minimal items, "NP dense" on
// dense-number items, CCS on the two members of each twin pair.
enum class Role { kPlain, kMinimal, kDenseNumbers, kTwin };

struct Item {
  Json id;  // a number or a string, as the file has it
  std::string raw_input;
  std::string source = "mcp";
  std::string type = "general";
  std::string category = "unknown";
  std::string pair;  // twins only
  Json gold;         // null when the file has none
  // Set where the file is mnemonic's probe layout, whose roles come from fixed ids.
  std::optional<Role> id_role;
  Role role() const;
};

// Items in id order (numbers by value, strings by code point), a repeated id keeping its last
// record, as the scorer's dict does. A file with no `pair` and none of the role categories is
// mnemonic's probe layout: roles by id, as the scorer gives them (twins 9-10, 11-12, 13-14;
// minimal 15-17; dense numbers 18-19). Throws Error(kInput) naming file:line for a bad record.
std::vector<Item> load_items(const std::string& path);

// `id -> output` from a JSONL of {"id", "output"} (a raw model output string, or an already
// parsed object; an empty one falls back to "gold_output", as the scorer reads it). A string
// output is parsed with extract_json; nullopt where no object is found.
std::map<std::string, std::optional<Json>> load_predictions(const std::string& path);

// The key of an id in those maps: its JSON text.
inline std::string id_key(const Json& id) {
  return id.dump();
}

}  // namespace bespoke::task::encoding
