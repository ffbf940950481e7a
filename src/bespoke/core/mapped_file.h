// A file mapped read-only into memory for as long as the object lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bespoke {

class MappedFile {
 public:
  // Throws Error(kIo) if the file cannot be opened or mapped. An empty file maps to nothing.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bespoke
