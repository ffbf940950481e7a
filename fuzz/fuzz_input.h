// libFuzzer input handed to the file readers, which open paths: the bytes go to a file first.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace bespoke::fuzz {

// Writes the input to a per-process file under /dev/shm (tmpfs) and returns its path.
inline std::string input_file(const uint8_t* data, size_t size) {
  static const std::string path = "/dev/shm/bespoke-fuzz-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  return path;
}

// Whether to read a tensor back: not above 2^20 elements, so that a small input cannot ask for
// gigabytes (a tensor that lies inside the file is as small as the input anyway).
inline bool worth_reading(const std::vector<int64_t>& shape) {
  constexpr int64_t kMax = int64_t(1) << 20;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d == 0) return true;
    if (d < 0 || n > kMax / d) return false;
    n *= d;
  }
  return true;
}

}  // namespace bespoke::fuzz
