// The JSON object in a model's raw output, found the way mnemonic's scorer finds it: only the
// text after the last </think>; code-fence lines dropped when the text starts with a fence;
// Gemma turn markers removed; the whole text parsed, else the first balanced {...}
// (string- and escape-aware).
#pragma once


#include <optional>
#include <string>

#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding {

// The parsed object, or nullopt if there is none (such items are left out of the averages).
std::optional<Json> extract_json(const std::string& raw);

}  // namespace bespoke::task::encoding
