// The JSON object in a model's raw output, found the way mnemonic's scorer finds it: when the
// text holds a <think>, only what follows the last </think>; code-fence lines dropped when the
// text starts with a fence; Gemma 2/3 turn markers removed; the whole text parsed (a value that
// is not an object ends the search), else the first balanced {...} (string- and escape-aware).
// White space is trimmed as Python's str.strip() trims it.
#pragma once

#include <optional>
#include <string>

#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding {

// The parsed object, or nullopt if there is none (such items are left out of the averages).
std::optional<Json> extract_json(const std::string& raw);

}  // namespace bespoke::task::encoding
