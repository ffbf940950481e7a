// Export a model as a Hugging Face directory (config.json, model.safetensors, tokenizer
// files) that transformers' from_pretrained loads.
#pragma once

#include <string>

#include "bespoke/model/transformer.h"

namespace bespoke::model {

// `source_dir` is the model directory the weights came from: its config.json is kept with the
// shape fields rewritten, so every family quirk survives; its tokenizer and generation files
// are copied. The directory is written beside `out_dir` and renamed into place. Per-layer
// shapes go into config.json's `bespoke_layers`, which Bespoke reads back and transformers
// cannot load (the file says so in `bespoke_layers_note`).
void export_hf(Transformer& model, const std::string& source_dir, const std::string& out_dir);

}  // namespace bespoke::model
