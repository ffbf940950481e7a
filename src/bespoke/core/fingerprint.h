// A 64-bit FNV-1a hash for telling inputs apart (not for security): what a checkpoint or a
// precomputed file was made from, compared when it is read back.
#pragma once

#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>

namespace bespoke {

class Fingerprint {
 public:
  void add(uint64_t v) { hash_ = (hash_ ^ v) * 1099511628211ull; }
  void add(const std::string& text) {
    for (const char c : text) add(uint8_t(c));
    add(~0ull);  // the end of a string: "ab" + "c" differs from "a" + "bc"
  }
  // 16 hex digits.
  std::string hex() const {
    std::ostringstream out;
    out << std::hex << std::setw(16) << std::setfill('0') << hash_;
    return out.str();
  }

 private:
  uint64_t hash_ = 14695981039346656037ull;
};

}  // namespace bespoke
