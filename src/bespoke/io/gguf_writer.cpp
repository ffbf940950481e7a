#include "bespoke/io/gguf_writer.h"

#include <cmath>
#include <cstring>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"

namespace bespoke::io {
namespace {

// gguf.h value types.
enum : uint32_t { kU8 = 0, kI8, kU16, kI16, kU32, kI32, kF32, kBool, kString, kArray, kU64, kI64, kF64 };
constexpr uint64_t kAlignment = 32;

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

uint64_t padded(uint64_t n) {
  return (n + kAlignment - 1) / kAlignment * kAlignment;
}

uint64_t block_size(GgmlType t) {
  return t == GgmlType::kQ8_0 || t == GgmlType::kQ4_0 ? 32 : 1;
}

std::string tensor_bytes(const torch::Tensor& t, GgmlType type) {
  auto raw = [](const torch::Tensor& x) {
    return std::string(static_cast<const char*>(x.data_ptr()), x.numel() * x.element_size());
  };
  switch (type) {
    case GgmlType::kF32:
      return raw(t.to(torch::kFloat32).contiguous());
    case GgmlType::kF16:
      return raw(t.to(torch::kFloat16).contiguous());
    case GgmlType::kBF16:
      return raw(t.to(torch::kBFloat16).contiguous());
    case GgmlType::kQ8_0:
      return quantize_q8_0(t);
    case GgmlType::kQ4_0:
      return quantize_q4_0(t);
  }
  BESPOKE_CHECK(false, "unhandled ggml type");
}

}  // namespace

std::string quantize_q8_0(const torch::Tensor& t) {
  const torch::Tensor x = t.to(torch::kFloat32).contiguous();
  const float* p = x.data_ptr<float>();
  const int64_t n = x.numel();
  BESPOKE_CHECK(n % 32 == 0, "Q8_0 needs a multiple of 32 values");
  std::string out;
  out.reserve(n / 32 * 34);
  for (int64_t b = 0; b < n; b += 32) {
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(p[b + i]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    put<uint16_t>(out, c10::Half(d).x);
    for (int i = 0; i < 32; ++i) put<int8_t>(out, static_cast<int8_t>(std::round(p[b + i] * id)));
  }
  return out;
}

std::string quantize_q4_0(const torch::Tensor& t) {
  const torch::Tensor x = t.to(torch::kFloat32).contiguous();
  const float* p = x.data_ptr<float>();
  const int64_t n = x.numel();
  BESPOKE_CHECK(n % 32 == 0, "Q4_0 needs a multiple of 32 values");
  std::string out;
  out.reserve(n / 32 * 18);
  for (int64_t b = 0; b < n; b += 32) {
    float amax = 0, max = 0;
    for (int i = 0; i < 32; ++i)
      if (std::fabs(p[b + i]) > amax) amax = std::fabs(p[b + i]), max = p[b + i];
    const float d = max / -8.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    put<uint16_t>(out, c10::Half(d).x);
    for (int j = 0; j < 16; ++j) {
      const auto q = [&](int i) {
        return std::min<uint8_t>(15, static_cast<uint8_t>(static_cast<int8_t>(p[b + i] * id + 8.5f)));
      };
      put<uint8_t>(out, static_cast<uint8_t>(q(j) | (q(j + 16) << 4)));
    }
  }
  return out;
}

void GgufWriter::key(const std::string& k, uint32_t value_type) {
  put_string(kv_, k);
  put<uint32_t>(kv_, value_type);
  ++n_kv_;
}

void GgufWriter::add_uint32(const std::string& k, uint32_t v) {
  key(k, kU32), put(kv_, v);
}
void GgufWriter::add_int32(const std::string& k, int32_t v) {
  key(k, kI32), put(kv_, v);
}
void GgufWriter::add_float32(const std::string& k, float v) {
  key(k, kF32), put(kv_, v);
}
void GgufWriter::add_bool(const std::string& k, bool v) {
  key(k, kBool), put<uint8_t>(kv_, v ? 1 : 0);
}
void GgufWriter::add_string(const std::string& k, const std::string& v) {
  key(k, kString), put_string(kv_, v);
}

void GgufWriter::add_uint32_array(const std::string& k, const std::vector<uint32_t>& v) {
  key(k, kArray), put<uint32_t>(kv_, kU32), put<uint64_t>(kv_, v.size());
  for (uint32_t x : v) put(kv_, x);
}
void GgufWriter::add_int32_array(const std::string& k, const std::vector<int32_t>& v) {
  key(k, kArray), put<uint32_t>(kv_, kI32), put<uint64_t>(kv_, v.size());
  for (int32_t x : v) put(kv_, x);
}
void GgufWriter::add_float32_array(const std::string& k, const std::vector<float>& v) {
  key(k, kArray), put<uint32_t>(kv_, kF32), put<uint64_t>(kv_, v.size());
  for (float x : v) put(kv_, x);
}
void GgufWriter::add_string_array(const std::string& k, const std::vector<std::string>& v) {
  key(k, kArray), put<uint32_t>(kv_, kString), put<uint64_t>(kv_, v.size());
  for (const std::string& x : v) put_string(kv_, x);
}

void GgufWriter::add_tensor(const std::string& name, const torch::Tensor& t, GgmlType type) {
  if (name.size() >= 64) fail(ErrorKind::kInput, "GGUF tensor name '" + name + "' is 64 bytes or longer");
  if (t.dim() < 1 || t.dim() > 4) fail(ErrorKind::kInput, "GGUF tensor '" + name + "' must have 1 to 4 dims");
  if (t.size(-1) % int64_t(block_size(type)) != 0)
    fail(ErrorKind::kInput, "GGUF tensor '" + name + "': innermost dim " + std::to_string(t.size(-1)) +
                                " is not a multiple of the block size " + std::to_string(block_size(type)));
  tensors_.push_back({name, t.detach().to(torch::kCPU).contiguous(), type});
}

void GgufWriter::write(const std::string& path) const {
  // Tensor data is encoded one tensor at a time while streaming, so the file's bytes are
  // never all in memory; sizes come from shapes.
  auto nbytes = [](const Tensor& t) -> uint64_t {
    const uint64_t n = t.data.numel();
    switch (t.type) {
      case GgmlType::kF32:
        return n * 4;
      case GgmlType::kF16:
      case GgmlType::kBF16:
        return n * 2;
      case GgmlType::kQ8_0:
        return n / 32 * 34;
      case GgmlType::kQ4_0:
        return n / 32 * 18;
    }
    return 0;
  };
  std::string header = "GGUF";
  put<uint32_t>(header, 3);
  put<int64_t>(header, tensors_.size());
  put<int64_t>(header, n_kv_);
  header += kv_;
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(header, t.name);
    put<uint32_t>(header, t.data.dim());
    for (int64_t d = t.data.dim() - 1; d >= 0; --d) put<int64_t>(header, t.data.size(d));  // ne[0] innermost
    put<uint32_t>(header, static_cast<uint32_t>(t.type));
    put<uint64_t>(header, offset);
    offset += padded(nbytes(t));
  }
  header.append(padded(header.size()) - header.size(), '\0');
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(header.data(), header.size());
    for (const Tensor& t : tensors_) {
      const std::string bytes = tensor_bytes(t.data, t.type);
      out.write(bytes.data(), bytes.size());
      const std::string pad(padded(bytes.size()) - bytes.size(), '\0');
      out.write(pad.data(), pad.size());
    }
  });
}

}  // namespace bespoke::io
