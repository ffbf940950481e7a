#include "bespoke/io/gguf_reader.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "bespoke/core/error.h"

namespace bespoke::io {
namespace {

// A bounds-checked cursor over the mapped header.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t size, const std::string& path) : p_(p), size_(size), path_(path) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_ + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string string() {
    const uint64_t n = get<uint64_t>();
    need(n);
    std::string s(reinterpret_cast<const char*>(p_ + at_), n);
    at_ += n;
    return s;
  }
  size_t at() const { return at_; }
  [[noreturn]] void bad(const std::string& what) const {
    fail(ErrorKind::kInput, path_ + ": " + what + " (at byte " + std::to_string(at_) + ")");
  }

 private:
  void need(uint64_t n) const {
    if (n > size_ - at_) bad("truncated header");
  }
  const uint8_t* p_;
  size_t size_;
  const std::string& path_;
  size_t at_ = 0;
};

nlohmann::json scalar(Cursor& c, uint32_t type) {
  switch (type) {
    case 0:
      return c.get<uint8_t>();
    case 1:
      return c.get<int8_t>();
    case 2:
      return c.get<uint16_t>();
    case 3:
      return c.get<int16_t>();
    case 4:
      return c.get<uint32_t>();
    case 5:
      return c.get<int32_t>();
    case 6:
      return c.get<float>();
    case 7:
      return c.get<uint8_t>() != 0;
    case 8:
      return c.string();
    case 10:
      return c.get<uint64_t>();
    case 11:
      return c.get<int64_t>();
    case 12:
      return c.get<double>();
  }
  c.bad("unknown metadata value type " + std::to_string(type));
}

nlohmann::json value(Cursor& c, uint32_t type) {
  if (type != 9) return scalar(c, type);
  const uint32_t elem = c.get<uint32_t>();
  const uint64_t n = c.get<uint64_t>();
  if (elem == 9) c.bad("nested arrays are not allowed");
  nlohmann::json a = nlohmann::json::array();
  for (uint64_t i = 0; i < n; ++i) a.push_back(scalar(c, elem));
  return a;
}

// Bytes of `n` values of ggml type `type`, or 0 if Bespoke cannot read it.
// Values per block and bytes per block of the ggml types Bespoke reads; {0, 0} for others.
std::pair<uint64_t, uint64_t> type_block(uint32_t type) {
  switch (type) {
    case 0:
      return {1, 4};
    case 1:
    case 30:
      return {1, 2};
    case 8:
      return {32, 34};
    case 2:
      return {32, 18};
  }
  return {0, 0};
}

// Blocks of 32 values, each an fp16 scale d followed by codes: value i = d * code(codes, i).
template <typename Code>
torch::Tensor dequantize(const std::vector<int64_t>& shape, const uint8_t* p, int64_t block_bytes, Code code) {
  torch::Tensor out = torch::empty(shape, torch::kFloat32);
  float* o = out.data_ptr<float>();
  for (int64_t b = 0; b < out.numel() / 32; ++b) {
    const uint8_t* block = p + b * block_bytes;
    c10::Half d;
    std::memcpy(&d.x, block, 2);
    for (int i = 0; i < 32; ++i) o[b * 32 + i] = float(d) * code(block + 2, i);
  }
  return out;
}

}  // namespace

bool is_gguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

GgufFile::GgufFile(const std::string& path) : path_(path), file_(path) {
  const uint8_t* data = file_.data();
  const size_t size = file_.size();
  Cursor c(data, size, path_);
  if (size < 4 || std::memcmp(data, "GGUF", 4) != 0) fail(ErrorKind::kInput, path + ": not a GGUF file (bad magic)");
  c.get<uint32_t>();
  const uint32_t version = c.get<uint32_t>();
  if (version != 3) c.bad("GGUF version " + std::to_string(version) + " (only 3 is read)");
  const int64_t n_tensors = c.get<int64_t>(), n_kv = c.get<int64_t>();
  if (n_tensors < 0 || n_kv < 0 || uint64_t(n_tensors) > size || uint64_t(n_kv) > size)
    c.bad("absurd tensor or key count");
  metadata_ = nlohmann::json::object();
  for (int64_t i = 0; i < n_kv; ++i) {
    const std::string key = c.string();
    metadata_[key] = value(c, c.get<uint32_t>());
  }
  const nlohmann::json& align =
      metadata_.contains("general.alignment") ? metadata_["general.alignment"] : nlohmann::json(32u);
  const uint64_t alignment = align.is_number_unsigned() ? align.get<uint64_t>() : 0;
  if (alignment == 0 || (alignment & (alignment - 1)) || alignment > (uint64_t(1) << 30))
    c.bad("general.alignment is not a power of two up to 2^30");
  for (int64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.string();
    const uint32_t dims = c.get<uint32_t>();
    if (dims < 1 || dims > 4) c.bad("tensor '" + t.name + "' has " + std::to_string(dims) + " dims");
    for (uint32_t d = 0; d < dims; ++d) {
      const int64_t ne = c.get<int64_t>();
      if (ne < 0 || ne > (int64_t(1) << 40)) c.bad("tensor '" + t.name + "' has a bad dim");
      t.shape.insert(t.shape.begin(), ne);
    }
    t.type = c.get<uint32_t>();
    t.offset = c.get<uint64_t>();
    tensors_.push_back(t);
  }
  data_start_ = (c.at() + alignment - 1) / alignment * alignment;
  for (const GgufTensorInfo& t : tensors_) {
    const auto [block, block_bytes] = type_block(t.type);
    if (block == 0) continue;  // unsupported types fail only when read
    const std::string where = path + ": tensor '" + t.name + "'";
    if (t.shape.back() % block != 0)
      fail(ErrorKind::kInput, where + " has rows of " + std::to_string(t.shape.back()) +
                                  " values, not whole blocks of " + std::to_string(block));
    uint64_t n = 1, bytes = 0;
    for (int64_t d : t.shape)
      if (__builtin_mul_overflow(n, uint64_t(d), &n)) fail(ErrorKind::kInput, where + " has an overflowing shape");
    if (__builtin_mul_overflow(n / block, block_bytes, &bytes) || data_start_ > size || t.offset > size - data_start_ ||
        bytes > size - data_start_ - t.offset)
      fail(ErrorKind::kInput, where + " lies past the end of the file (truncated?)");
  }
}

bool GgufFile::has(const std::string& name) const {
  for (const GgufTensorInfo& t : tensors_)
    if (t.name == name) return true;
  return false;
}

torch::Tensor GgufFile::get(const std::string& name) const {
  for (const GgufTensorInfo& t : tensors_) {
    if (t.name != name) continue;
    if (type_block(t.type).first == 0)
      fail(ErrorKind::kUnsupported, path_ + ": tensor '" + name + "' has ggml type " + std::to_string(t.type) +
                                        " (Bespoke reads F32, F16, BF16, Q8_0 and Q4_0)");
    const uint8_t* p = file_.data() + data_start_ + t.offset;  // validated on open
    auto copy = [&](torch::ScalarType type) {
      torch::Tensor out = torch::empty(t.shape, torch::TensorOptions().dtype(type));
      if (out.numel() > 0) std::memcpy(out.data_ptr(), p, out.numel() * out.element_size());
      return out.to(torch::kFloat32);
    };
    switch (t.type) {
      case 0:
        return copy(torch::kFloat32);
      case 1:
        return copy(torch::kFloat16);
      case 30:
        return copy(torch::kBFloat16);
      case 8:
        return dequantize(t.shape, p, 34, [](const uint8_t* q, int i) { return float(int8_t(q[i])); });
      case 2:
        return dequantize(t.shape, p, 18, [](const uint8_t* q, int i) {  // low nibbles: 0-15, high: 16-31
          return float((i < 16 ? q[i] & 0x0F : q[i - 16] >> 4) - 8);
        });
    }
  }
  fail(ErrorKind::kInput, path_ + ": no tensor '" + name + "'");
}

}  // namespace bespoke::io
