// Hugging Face tokenizers' decoders (tokenizer.json "decoder"): tokens back to text.
// ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, and Sequences of them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bespoke::text {

class Decoder {
 public:
  // `spec` is the JSON object or null (tokens joined with spaces).
  explicit Decoder(const nlohmann::json& spec);
  std::string decode(std::vector<std::string> tokens) const;
  // The bytes one token adds to `decode`'s text amid others: Strip and Metaspace's dropped
  // first space act on the text's ends only. A special token is no text ("") unless
  // ByteFallback reads it as a byte (tokenizers often list <0xNN> tokens as special).
  std::string token_bytes(const std::string& token, bool special) const;

 private:
  struct Step {
    std::string type;
    std::string a, b;  // Replace: a -> b; Strip: a = content; Metaspace: a = replacement
    int start = 0, stop = 0;
    bool prefix_space = false;  // Metaspace: drop the space its pre-tokenizer prepended
  };
  void add(const nlohmann::json& spec);
  std::vector<Step> steps_;
  bool none_ = false;
};

}  // namespace bespoke::text
