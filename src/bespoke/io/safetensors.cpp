#include "bespoke/io/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/core/shape.h"

namespace bespoke::io {
namespace {

const std::map<std::string, torch::ScalarType>& dtype_table() {
  static const std::map<std::string, torch::ScalarType> table = {
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  return table;
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  fail(ErrorKind::kInput, path + ": " + what);
}

TensorEntry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& v, size_t data_size) {
  const std::string where = "tensor '" + name + "'";
  if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
    bad(path, where + ": header entry needs dtype, shape and data_offsets");
  TensorEntry e;
  if (!v["dtype"].is_string()) bad(path, where + ": dtype is not a string");
  e.dtype = v["dtype"].get<std::string>();
  const auto& shape = v["shape"];
  const auto& offsets = v["data_offsets"];
  if (!shape.is_array()) bad(path, where + ": shape is not an array");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    bad(path, where + ": data_offsets must be two non-negative integers");
  uint64_t numel = 1;
  for (const auto& d : shape) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t(1) << 48))
      bad(path, where + ": shape has a negative, non-integer or absurdly large dim");
    e.shape.push_back(d.get<int64_t>());
    if (__builtin_mul_overflow(numel, d.get<uint64_t>(), &numel)) bad(path, where + ": shape overflows");
  }
  e.begin = offsets[0].get<size_t>();
  e.end = offsets[1].get<size_t>();
  if (e.end < e.begin) bad(path, where + ": data_offsets end before they begin");
  if (e.end > data_size)
    bad(path, where + ": data ends at byte " + std::to_string(e.end) + " of a " + std::to_string(data_size) +
                  "-byte data buffer (file truncated?)");
  auto it = dtype_table().find(e.dtype);
  if (it == dtype_table().end()) return e;  // unknown dtypes fail only when read
  uint64_t want = 0;
  if (__builtin_mul_overflow(numel, uint64_t(torch::elementSize(it->second)), &want) || want != e.end - e.begin)
    bad(path, where + ": shape " + shape_string(e.shape) + " " + e.dtype + " needs " + std::to_string(want) +
                  " bytes but data_offsets span " + std::to_string(e.end - e.begin));
  return e;
}

}  // namespace

std::string dtype_name(torch::ScalarType type) {
  for (const auto& [name, t] : dtype_table())
    if (t == type) return name;
  fail(ErrorKind::kUnsupported, std::string("no safetensors dtype for ") + c10::toString(type));
}

torch::ScalarType dtype_from_name(const std::string& name) {
  auto it = dtype_table().find(name);
  if (it == dtype_table().end()) fail(ErrorKind::kUnsupported, "unsupported dtype " + name);
  return it->second;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), file_(path) {
  const uint8_t* data = file_.data();
  const size_t size = file_.size();
  if (size < 8) bad(path, "truncated: " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, data, 8);  // little-endian, as is every host we build for
  if (n > size - 8)
    bad(path, "header length " + std::to_string(n) + " exceeds the file size " + std::to_string(size) +
                  " (truncated or not a safetensors file)");
  data_start_ = 8 + n;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data + 8, data + 8 + n);
  } catch (const nlohmann::json::exception&) {
    bad(path, "header is not valid JSON (corrupt or not a safetensors file)");
  }
  if (!header.is_object()) bad(path, "header is not a JSON object");
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (v.is_object())
        for (const auto& [key, value] : v.items())
          if (value.is_string()) metadata_[key] = value.get<std::string>();
      continue;
    }
    entries_[name] = parse_entry(path, name, v, size - data_start_);
  }
}

torch::Tensor SafetensorsFile::get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) bad(path_, "no tensor '" + name + "'");
  const TensorEntry& e = it->second;
  torch::ScalarType type;
  try {
    type = dtype_from_name(e.dtype);
  } catch (const Error& err) {
    throw with_context(err, path_ + ": tensor '" + name + "'");
  }
  torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(type));
  if (e.end > e.begin) std::memcpy(t.data_ptr(), file_.data() + data_start_ + e.begin, e.end - e.begin);
  return t;
}

torch::Tensor SafetensorsFile::row(const std::string& name, int64_t index) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) bad(path_, "no tensor '" + name + "'");
  const TensorEntry& e = it->second;
  if (e.shape.empty() || index < 0 || index >= e.shape[0])
    bad(path_, "tensor '" + name + "' has no row " + std::to_string(index));
  const std::vector<int64_t> shape(e.shape.begin() + 1, e.shape.end());
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype_from_name(e.dtype)));
  const size_t bytes = t.numel() * t.element_size();
  if (bytes > 0) std::memcpy(t.data_ptr(), file_.data() + data_start_ + e.begin + index * bytes, bytes);
  return t;
}

Checkpoint::Checkpoint(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path single = fs::path(dir) / "model.safetensors";
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  std::vector<std::string> shards;
  if (fs::exists(index)) {
    std::ifstream in(index);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception&) {
      fail(ErrorKind::kInput, index.string() + ": not valid JSON");
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      fail(ErrorKind::kInput, index.string() + ": no weight_map object");
    for (const auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string())
        fail(ErrorKind::kInput, index.string() + ": weight_map entry '" + name + "' is not a file name");
      const std::string f = file.get<std::string>();
      if (std::find(shards.begin(), shards.end(), f) == shards.end()) shards.push_back(f);
    }
  } else if (fs::exists(single)) {
    shards.push_back("model.safetensors");
  } else {
    fail(ErrorKind::kInput, dir + ": no model.safetensors or model.safetensors.index.json");
  }
  for (const auto& shard : shards) {
    files_.push_back(std::make_unique<SafetensorsFile>((fs::path(dir) / shard).string()));
    for (const auto& [name, e] : files_.back()->entries()) {
      if (where_.count(name))
        fail(ErrorKind::kInput, shard + ": tensor '" + name + "' also in " + where_[name]->path());
      where_[name] = files_.back().get();
    }
  }
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : where_) out.push_back(name);
  return out;
}

const std::string& Checkpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) fail(ErrorKind::kInput, "checkpoint has no tensor '" + name + "'");
  return it->second->path();
}

torch::Tensor Checkpoint::get(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) fail(ErrorKind::kInput, "checkpoint has no tensor '" + name + "'");
  return it->second->get(name);
}

int64_t Checkpoint::element_count() const {
  int64_t n = 0;
  for (const auto& [name, f] : where_) n += numel(f->entries().at(name).shape);
  return n;
}

namespace {

// The file's bytes before the data (8-byte length, JSON header padded so the data starts 8-byte
// aligned), each tensor's offset in the file, and the file's length.
struct FileLayout {
  std::string header;
  std::vector<size_t> offsets;
  size_t length = 0;
};

FileLayout file_layout(const std::vector<TensorLayout>& layout, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  FileLayout f;
  size_t offset = 0;
  for (const TensorLayout& t : layout) {
    const size_t nbytes = size_t(numel(t.shape)) * c10::elementSize(t.dtype);
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + nbytes}}};
    f.offsets.push_back(offset);
    offset += nbytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  const uint64_t n = json.size();
  f.header.assign(reinterpret_cast<const char*>(&n), 8);
  f.header += json;
  for (size_t& o : f.offsets) o += f.header.size();
  f.length = f.header.size() + offset;
  return f;
}

}  // namespace

void write_safetensors_by_rows(const std::string& path, const std::vector<TensorLayout>& layout,
                               const std::map<std::string, std::string>& metadata,
                               const std::function<void(const RowWriter&)>& fill) {
  const FileLayout f = file_layout(layout, metadata);
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(f.header.data(), f.header.size());
    if (f.length > f.header.size()) {  // full length now: rows never written read as zeros
      out.seekp(std::streamoff(f.length - 1));
      out.put(0);
    }
    const RowWriter write = [&](const std::string& name, int64_t first, const torch::Tensor& rows) {
      const auto it = std::find_if(layout.begin(), layout.end(), [&](const TensorLayout& t) { return t.name == name; });
      BESPOKE_CHECK(it != layout.end(), "no tensor " + name + " in the file's layout");
      const torch::Tensor data = rows.detach().to(torch::kCPU, it->dtype).contiguous();
      // A row is everything past the first dimension; a scalar is one row of itself.
      const std::vector<int64_t> row_shape =
          it->shape.empty() ? it->shape : std::vector<int64_t>(it->shape.begin() + 1, it->shape.end());
      const int64_t n_rows = it->shape.empty() ? 1 : it->shape[0];
      const int64_t given = it->shape.empty() ? 1 : (data.dim() >= 1 ? data.size(0) : -1);
      BESPOKE_CHECK(given >= 0 && first >= 0 && first + given <= n_rows && data.numel() == given * numel(row_shape),
                    "rows of shape " + shape_string(data.sizes().vec()) + " at " + std::to_string(first) +
                        " do not fit " + name + " " + shape_string(it->shape));
      const size_t row_bytes = size_t(numel(row_shape)) * c10::elementSize(it->dtype);
      out.seekp(std::streamoff(f.offsets[it - layout.begin()] + size_t(first) * row_bytes));
      out.write(static_cast<const char*>(data.data_ptr()), std::streamsize(data.numel() * data.element_size()));
    };
    fill(write);
  });
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorLayout> layout;
  for (const auto& [name, t] : tensors) layout.push_back({name, t.scalar_type(), t.sizes().vec()});
  write_safetensors_by_rows(path, layout, metadata, [&](const RowWriter& write) {
    for (const auto& [name, t] : tensors) write(name, 0, t);
  });
}

}  // namespace bespoke::io
