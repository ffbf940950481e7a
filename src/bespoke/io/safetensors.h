// safetensors: read (memory-mapped, single file or sharded) and write.
// Layout: 8-byte little-endian header length N, N bytes of JSON, then the data buffer.
#pragma once

#include <torch/torch.h>

#include "bespoke/core/mapped_file.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bespoke::io {

struct TensorEntry {
  std::string dtype;           // "F32", "BF16", ...
  std::vector<int64_t> shape;  // outermost first
  size_t begin = 0;            // byte offsets relative to the data buffer, end exclusive
  size_t end = 0;
};

// One .safetensors file, mapped read-only. The header is fully validated on open.
class SafetensorsFile {
 public:
  // Throws Error(kIo) if the file cannot be opened, Error(kInput) naming the file and the
  // problem if it is truncated or its header is malformed or lies about sizes.
  explicit SafetensorsFile(const std::string& path);
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorEntry>& entries() const { return entries_; }
  // The header's "__metadata__" (string values only).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Returns an owned copy of the tensor in its stored dtype.
  torch::Tensor get(const std::string& name) const;
  // An owned copy of `name[index]` (along the first dimension) alone, for tensors too large to
  // copy whole.
  torch::Tensor row(const std::string& name, int64_t index) const;

 private:
  std::string path_;
  MappedFile file_;
  size_t data_start_ = 0;
  std::map<std::string, TensorEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// The weights of a checkpoint directory: `model.safetensors`, or the shards listed by
// `model.safetensors.index.json`.
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& dir);

  std::vector<std::string> names() const;
  const std::string& file_of(const std::string& name) const;
  torch::Tensor get(const std::string& name) const;  // throws Error(kInput) if absent
  int64_t element_count() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

// The safetensors dtype name for a torch dtype, and back. Throw Error(kUnsupported).
std::string dtype_name(torch::ScalarType type);
torch::ScalarType dtype_from_name(const std::string& name);

// Writes `tensors` in the given order (made contiguous, on CPU) atomically to `path`.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// A file too large to hold in memory, written a block of rows at a time: the tensors' names,
// dtypes and shapes come first, then `fill` writes rows [first, first + rows.size(0)) of any
// tensor, in any order (converted to its dtype; rows never written are zeros). The file appears
// at `path` only when `fill` returns.
struct TensorLayout {
  std::string name;
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
};
using RowWriter = std::function<void(const std::string& name, int64_t first, const torch::Tensor& rows)>;
void write_safetensors_by_rows(const std::string& path, const std::vector<TensorLayout>& layout,
                               const std::map<std::string, std::string>& metadata,
                               const std::function<void(const RowWriter&)>& fill);

}  // namespace bespoke::io
