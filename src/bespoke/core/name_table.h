// One table per enum maps values to their frozen lowercase names, for parsing and printing.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "bespoke/core/error.h"

namespace bespoke {

template <typename E>
class NameTable {
 public:
  NameTable(const char* what, std::vector<std::pair<E, const char*>> rows) : what_(what), rows_(std::move(rows)) {}

  const char* name(E value) const {
    for (const auto& [v, n] : rows_)
      if (v == value) return n;
    fail(ErrorKind::kInternal, std::string("no name for a ") + what_ + " value");
  }

  // Throws Error(kInput) listing the accepted names.
  E parse(const std::string& text) const {
    for (const auto& [v, n] : rows_)
      if (text == n) return v;
    fail(ErrorKind::kInput, "unknown " + std::string(what_) + " '" + text + "' (expected one of: " + choices() + ")");
  }

  std::string choices() const {
    std::string s;
    for (const auto& [v, n] : rows_) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
  }

 private:
  const char* what_;
  std::vector<std::pair<E, const char*>> rows_;
};

}  // namespace bespoke
