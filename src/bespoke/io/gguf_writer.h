// GGUF v3 writer: typed metadata, tensors in F32, F16, BF16 or Q8_0 with ggml's exact block
// layouts, aligned and contiguous as llama.cpp's loader requires.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bespoke::io {

// ggml tensor types (ggml.h): the ones Bespoke writes.
enum class GgmlType : uint32_t { kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8, kBF16 = 30 };

class GgufWriter {
 public:
  // Metadata; value types are exact (llama.cpp checks them): counts UINT32, scales FLOAT32.
  void add_uint32(const std::string& key, uint32_t v);
  void add_int32(const std::string& key, int32_t v);
  void add_float32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string(const std::string& key, const std::string& v);
  void add_uint32_array(const std::string& key, const std::vector<uint32_t>& v);
  void add_int32_array(const std::string& key, const std::vector<int32_t>& v);
  void add_float32_array(const std::string& key, const std::vector<float>& v);
  void add_string_array(const std::string& key, const std::vector<std::string>& v);

  // `t` in PyTorch order ([out, in] for a weight); stored with ggml's reversed dims. Q8_0 needs
  // the innermost dim to be a multiple of 32. Throws Error(kInput) otherwise.
  void add_tensor(const std::string& name, const torch::Tensor& t, GgmlType type);

  // Writes the file atomically (temp + rename).
  void write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    torch::Tensor data;  // CPU, contiguous, float32 (or already the stored dtype)
    GgmlType type;
  };
  void key(const std::string& k, uint32_t value_type);
  std::string kv_;  // serialized key/value pairs
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

// The bytes of `t` (float32, innermost dim a multiple of 32) as Q8_0 blocks: per 32 values an
// fp16 scale d = max|x| / 127, then 32 int8 round(x / d) (ggml-quants.c quantize_row_q8_0_ref).
std::string quantize_q8_0(const torch::Tensor& t);

// Q4_0: per 32 values an fp16 scale d = m / -8 (m the value of largest magnitude), then 16
// bytes whose low nibbles hold values 0-15 and high nibbles values 16-31, as min(15, x/d + 8.5)
// truncated (ggml-quants.c quantize_row_q4_0_ref).
std::string quantize_q4_0(const torch::Tensor& t);

}  // namespace bespoke::io
