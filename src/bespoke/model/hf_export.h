// Export a model as a Hugging Face directory (config.json, model.safetensors, tokenizer
// files) that transformers' from_pretrained loads.
#pragma once

#include <string>

#include "bespoke/model/transformer.h"

namespace bespoke::model {

// `source_dir` is the model directory the weights came from: its config.json is kept with the
// shape fields rewritten, so every family quirk survives; its tokenizer and generation files
// are copied. The directory is written beside `out_dir` and renamed into place. Throws
// Error(kUnsupported) for per-layer shapes, which transformers' configs cannot express.
void export_hf(Transformer& model, const std::string& source_dir, const std::string& out_dir);

}  // namespace bespoke::model

namespace bespoke::exporter {
using model::export_hf;  // the name it had beside the GGUF writer
}  // namespace bespoke::exporter
