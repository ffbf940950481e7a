// Tokenizer metadata for GGUF (tokenizer.ggml.*), from a model directory's tokenizer.json,
// tokenizer_config.json and config.json, as llama.cpp's converter writes it.
#pragma once

#include <string>

#include "bespoke/io/gguf_writer.h"

namespace bespoke::exporter {

// Writes the vocabulary padded to `n_vocab` (the embedding rows). Byte-level BPE becomes
// llama.cpp's "gpt2" model; byte-fallback BPE its SentencePiece-style "llama" model, with
// scores that reproduce the merge order. Throws Error naming what cannot be represented.
void write_vocab(const std::string& model_dir, int64_t n_vocab, io::GgufWriter& out);

}  // namespace bespoke::exporter
