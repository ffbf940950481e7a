// GGUF v3 reader: metadata as JSON, tensor directory, tensors dequantized to float32
// (F32, F16, BF16, Q8_0). The file is memory-mapped and validated on open.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>
#include "bespoke/core/mapped_file.h"

namespace bespoke::io {

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // PyTorch order (ggml's ne reversed)
  uint32_t type = 0;           // ggml type id
  uint64_t offset = 0;         // from the start of the data section
};

class GgufFile {
 public:
  // Throws Error(kInput) naming the file and the problem for anything malformed or truncated.
  explicit GgufFile(const std::string& path);
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  const nlohmann::json& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  bool has(const std::string& name) const;
  // The tensor as float32 in PyTorch order. Throws Error(kUnsupported) for other ggml types.
  torch::Tensor get(const std::string& name) const;

 private:
  std::string path_;
  MappedFile file_;
  size_t data_start_ = 0;
  nlohmann::json metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

// Whether `path` is a GGUF file (by its magic).
bool is_gguf(const std::string& path);

}  // namespace bespoke::io
