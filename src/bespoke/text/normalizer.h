// Hugging Face tokenizers' normalizers (tokenizer.json "normalizer"): Unicode normal forms,
// Prepend, Replace, Lowercase, Strip, and Sequences of them.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bespoke/text/regex.h"

namespace bespoke::text {

class Normalizer {
 public:
  // `spec` is the JSON object or null (no normalization). Throws Error(kUnsupported) naming an
  // unknown type.
  explicit Normalizer(const nlohmann::json& spec);
  std::string apply(const std::string& text) const;

 private:
  struct Step {
    std::string type;
    std::string a, b;                // Prepend: a; Replace: a -> b; Strip: a = "l"/"r"/"lr"
    std::shared_ptr<Regex> pattern;  // Replace with a regex pattern
  };
  void add(const nlohmann::json& spec);
  std::vector<Step> steps_;
};

}  // namespace bespoke::text
