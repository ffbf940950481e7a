// Training data: JSONL records tokenized into examples with a loss mask, then batches of
// rows. One example per row, padded (not packed): attention never crosses documents and
// positions start at 0 in every row. A document longer than a row (a text or ids record) is
// split into windows of a row each (split_documents); a longer chat or prompt/completion
// example is cut at the row length, since its reply belongs with its prompt.
//
// One JSON object per line, of the record shapes text/encoder.h lists.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bespoke/text/encoder.h"

namespace bespoke::train {

// Reads and tokenizes every line of `path`. Throws Error(kInput) naming the file and line for
// anything that is not one of the record shapes.
std::vector<text::Example> read_examples(const std::string& path, const text::Encoder& encoder);

// Each example whose every token is trained (a text or ids record) and that is longer than
// `window` positions becomes consecutive examples of window + 1 tokens, overlapping by one, so
// every token after the first is a target exactly once; the rest stay as they are.
std::vector<text::Example> split_documents(const std::vector<text::Example>& examples, int64_t window);

// A hash of the examples' tokens, loss masks and domains: 16 hex digits.
std::string tokens_hash(const std::vector<text::Example>& examples);

// Throws Error(kInput), naming `source`, for a token id the model's embedding does not have
// (an "ids" record, or a tokenizer larger than the model).
void check_token_ids(const std::vector<text::Example>& examples, int64_t vocab_size, const std::string& source);

struct Batch {
  torch::Tensor ids;      // [B, L] int64, padded with 0; L <= seq_len
  torch::Tensor targets;  // [B, L] int64: ids shifted left by one
  torch::Tensor mask;     // [B, L] bool: where targets are trained
  int64_t tokens = 0;     // trained targets in the batch
  int64_t positions = 0;  // non-padding positions
};

// `examples[rows[i]]` as row i of a batch as long as its longest row, at most `seq_len`.
Batch make_batch(const std::vector<text::Example>& examples, const std::vector<int64_t>& rows, int64_t seq_len);

// The trained targets of those rows: make_batch(...).tokens without making the batch.
int64_t trained_targets(const std::vector<text::Example>& examples, const std::vector<int64_t>& rows, int64_t seq_len);

// The visiting order of `n` examples in epoch `epoch`: a permutation fixed by (seed, epoch), so
// a resumed run needs only the epoch and the position to continue exactly.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch);

}  // namespace bespoke::train
