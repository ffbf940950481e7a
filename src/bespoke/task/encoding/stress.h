// The hallucination stress test: seven hard inputs (a race-condition narrative, dense
// benchmark numbers, three unrelated topics in one note, a stack trace, an ambiguous short
// input, a Japanese technical note, a config dump), each with terms the record must keep. The
// prompt differs from production: a short system message and the raw input alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bespoke/task/encoding/record.h"
#include "bespoke/text/chat_template.h"

namespace bespoke::task::encoding {

struct StressCase {
  std::string name;
  std::string input;
  std::vector<std::string> must_contain;
};

const std::vector<StressCase>& stress_cases();

std::vector<text::ChatMessage> stress_messages(const StressCase& c);

// outputs[i] answers stress_cases()[i]. A case passes when its output parses and every term
// occurs, ignoring case, in the record's ASCII-escaped serialisation. Returns {passed, total,
// cases: [{name, valid_json, pass, missing}]}.
Json score_stress(const std::vector<std::optional<Json>>& outputs);

}  // namespace bespoke::task::encoding
