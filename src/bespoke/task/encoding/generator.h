// Synthetic training and evaluation records for the encoding task. Every raw memory is built
// from slot-filled facts, and its gold record is written from the same facts (never by reading
// the text back), so the gold keeps every name, number and path of the input byte-exact and
// names nothing the input does not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bespoke/task/encoding/prompt.h"
#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding {

// The "category" (and "domain") values a record can have.
inline constexpr const char* kCategories[] = {"developer",       "stack-trace",   "out-of-domain",  "adversarial-twin",
                                              "minimal",         "dense-numbers", "multi-person",   "non-english",
                                              "code-html-emoji", "handoff",       "self-correction"};

struct GeneratorOptions {
  int64_t n = 100;
  uint64_t seed = 0;
};

// `n` records with ids 1..n, the same bytes for the same seed on every platform. Each is
//   {"id", "raw_input", "source", "type", "category", ["pair", "side",] "gold_output", "domain",
//    "messages": [system, user, assistant]}
// where the system and user messages are prompt_messages(prompt, ...) (no system message when
// the template has none), the assistant message is the gold record as Python's json.dumps
// writes it, and "domain" repeats the category for data mixing.
// The mix follows mnemonic's v7 data: about a third developer notes, then out-of-domain prose,
// adversarial twin pairs (always both sides, "pair" shared, "side" A then B), minimal inputs,
// dense numbers and the edge cases. Every category appears in the first 12 records.
std::vector<Json> generate_encoding_records(const GeneratorOptions& options,
                                            const PromptTemplate& prompt = PromptTemplate::builtin());

}  // namespace bespoke::task::encoding
