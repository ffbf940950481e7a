// Hugging Face tokenizers' pre-tokenizers (tokenizer.json "pre_tokenizer"): they cut normalized
// text into words that the model encodes one by one. Split (regex), ByteLevel, Metaspace,
// Digits, Whitespace, WhitespaceSplit, and Sequences of them.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bespoke/text/regex.h"

namespace bespoke::text {

class PreTokenizer {
 public:
  // `spec` is the JSON object or null (the whole text is one word).
  explicit PreTokenizer(const nlohmann::json& spec);
  // `first`: whether `text` starts the input (Metaspace's prepend_scheme "first").
  std::vector<std::string> split(const std::string& text, bool first) const;

 private:
  enum class Behavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };
  struct Step {
    std::string type;
    std::shared_ptr<Regex> pattern;  // Split, ByteLevel with use_regex, Digits, Whitespace
    std::string literal;             // Split on a plain string; Metaspace replacement
    Behavior behavior = Behavior::kIsolated;
    bool invert = false;
    bool add_prefix_space = false;  // ByteLevel
    std::string prepend_scheme;     // Metaspace: always, first, never
    bool split = true;              // Metaspace
  };
  void add(const nlohmann::json& spec);
  std::vector<std::string> apply(const Step& step, const std::string& piece, bool first) const;
  static std::vector<std::string> split_matches(const std::string& s, const std::vector<std::pair<size_t, size_t>>& m,
                                                Behavior behavior, bool invert);
  std::vector<Step> steps_;
};

}  // namespace bespoke::text
