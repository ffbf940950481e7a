// Importance on disk, so that pruning can run apart from measuring:
//   DIR/importance.safetensors  every score, float64. Per-layer vectors of different lengths are
//     concatenated layer by layer, with "<name>.offsets" [n_layers + 1] int64 marking where each
//     layer's starts: heads, kv, ffn, entropy. Then layers, residual, drift, skip_loss (when
//     measured) [n_layers] and hidden [hidden_size]. The header's metadata holds the method,
//     the tokens seen and the model's shape fingerprint.
//   DIR/importance.json  the same for people: method, tokens, the fingerprint, the profile per
//     layer and the rankings (most important first; query heads within each KV group).
// Both are written atomically (a temporary file, then a rename).
#pragma once

#include <string>

#include "bespoke/model/spec.h"
#include "bespoke/prune/importance.h"

namespace bespoke::prune {

// 16 hex digits naming every size a score is laid out by: hidden, vocab, and per layer the
// heads, KV groups, head_dim, FFN width and KV source.
std::string shape_fingerprint(const model::ModelSpec& spec);

// Writes DIR/importance.safetensors and DIR/importance.json, creating DIR. Throws Error(kIo).
void write_importance(const std::string& dir, const Importance& importance, const model::ModelSpec& spec);

// Reads what write_importance wrote for a model of `spec`. Throws Error(kInput) in one line for
// a missing or corrupt file and for a file from a model of another shape.
Importance read_importance(const std::string& dir, const model::ModelSpec& spec);

}  // namespace bespoke::prune
