// In-process greedy generation of an encoding record, optionally held to the record's grammar
// (grammar.h), for evaluating a model without a server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bespoke/model/transformer.h"
#include "bespoke/text/tokenizer.h"

namespace bespoke::task::encoding {

struct DecodeOptions {
  int64_t max_new_tokens = 2048;
  bool constrained = false;
};

// Greedy continuation of `prompt` (token ids, batch of one) through the KV cache until a stop
// token or max_new_tokens; returns the generated text, the stop token excluded.
//
// With `constrained`, each step takes the highest-scoring token whose bytes keep the record
// grammatical and leave its shortest completion within the tokens still to come, and decoding
// ends as soon as the record is whole (only a stop token could follow it). Special tokens and
// stop tokens never appear inside the record. The result is then always a record with empty
// violations(), provided max_new_tokens >= RecordGrammar().completion_length() (about 230
// bytes; Error(kInput) otherwise) and the vocabulary has a token for every single byte, as
// byte-level BPE and SentencePiece with byte fallback do: the shortest completion can then
// always be written a byte per token (Error(kUnsupported) if a byte has none).
std::string generate_text(model::Transformer& model, const text::Tokenizer& tokenizer,
                          const std::vector<int32_t>& prompt, const std::vector<int32_t>& stop_ids,
                          const DecodeOptions& options);

}  // namespace bespoke::task::encoding
