// Export a model to a GGUF file that stock llama.cpp loads and runs with the same numbers:
// the family's llama.cpp architecture, its keys, tensor names and the transforms llama.cpp's
// own converter applies (Q/K row permutation for NORM rope, Llama-3 rope_freqs, Gemma's
// (1 + w) norms, fused Phi-3 tensors), plus the tokenizer and chat template.
#pragma once

#include <string>

#include "bespoke/io/gguf_writer.h"
#include "bespoke/model/transformer.h"

namespace bespoke::exporter {

// `model_dir` supplies the tokenizer files. A model whose layers differ in heads, kv heads or
// FFN width (a pruned one) is written as llama.cpp's `deci` when it is Llama-shaped (llama,
// mistral, qwen2, phi3), as `openelm` when it is a Qwen3 with tied embeddings; other families
// need pad_uniform first. Throws Error(kUnsupported) naming the layer and the reason for what
// llama.cpp cannot represent.
// `description`, where given, is written as general.description (what a padded file holds).
void export_gguf(model::Transformer& model, const std::string& model_dir, const std::string& out_path,
                 io::GgmlType type, const std::string& description = "");

}  // namespace bespoke::exporter
