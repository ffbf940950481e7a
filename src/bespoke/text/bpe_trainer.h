// Learning byte-level BPE merges from a corpus: a task's own tokenizer, whose common strings
// (a record's keys, its punctuation, the prompt's wording) become single tokens, so the same
// text takes fewer positions to train on and to generate.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bespoke::text {

// A tokenizer.json with `base`'s normalizer, pre-tokenizer, decoder and added tokens, and a BPE
// model learned from `texts`: the base's added tokens first (ids 0..k-1, in their old order),
// then the 256 byte characters, then one token per merge. Each merge joins the most frequent
// adjacent pair (ties: the smaller pair of strings), until `vocab_size` tokens or no pair occurs
// twice. Throws Error(kUnsupported) unless `base` is a byte-level BPE tokenizer.
//
// `digits` 3 pre-tokenizes numbers into runs of up to three digits (LLaMA 3's rule) in place of
// the base's single digits (Qwen2's): "318932" is then "318" "932", tokens a model copies from
// its input in fewer, less ambiguous steps. 0 keeps the base's rule; only those two rules have
// a llama.cpp pre-tokenizer, so any other value, or a base with neither, is Error(kUnsupported).
nlohmann::json train_byte_level_bpe(const nlohmann::json& base, const std::vector<std::string>& texts,
                                    int32_t vocab_size, int32_t digits = 0);

}  // namespace bespoke::text
