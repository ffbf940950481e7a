// Loading a model directory (config.json + safetensors) into a Transformer, and the reverse
// mapping of its weights to Hugging Face names.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "bespoke/model/transformer.h"

namespace bespoke::model {

struct LoadOptions {
  torch::Dtype dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
};

// `dir` is a Hugging Face model directory, or a GGUF file. Throws Error naming the file and the
// problem: a missing or extra tensor, a shape that disagrees with config.json, a malformed file.
Transformer load_model(const std::string& dir, const LoadOptions& options = {});

// The model's weights under the family's Hugging Face names, fused tensors joined, in
// tensor-table order: what `model.safetensors` holds.
std::vector<std::pair<std::string, torch::Tensor>> hf_state_dict(Transformer& model);

}  // namespace bespoke::model
