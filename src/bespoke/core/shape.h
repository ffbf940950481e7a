// Printing tensor shapes in error messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bespoke {

// "[4,64]"
inline std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace bespoke
