// A compiled PCRE2 regular expression over UTF-8 with Unicode classes (\p{L}, \s, ...), as the
// Hugging Face pre-tokenizers write them.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bespoke::text {

class Regex {
 public:
  // Throws Error(kInput) with PCRE2's message if `pattern` does not compile.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Returns the [begin, end) byte ranges of successive non-overlapping matches in `text`, or of
  // capture `group` within each (Python's re.findall with one group).
  std::vector<std::pair<size_t, size_t>> find_all(const std::string& text, int group = 0) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bespoke::text
