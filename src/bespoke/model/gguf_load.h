// A GGUF file (F32, F16, BF16, Q8_0) as a Bespoke model: llama.cpp's architecture keys back
// to a ModelSpec, its tensors back to canonical weights (Q/K rows un-permuted for NORM rope).
#pragma once

#include <string>

#include "bespoke/io/gguf_reader.h"
#include "bespoke/model/load.h"

namespace bespoke::model {

// Throws Error(kUnsupported) for an architecture Bespoke does not read.
ModelSpec spec_from_gguf(const io::GgufFile& file);
Transformer load_gguf_model(const std::string& path, const LoadOptions& options = {});

}  // namespace bespoke::model
