// A tokenizer: text <-> token ids, exactly as the model's reference implementation does it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bespoke::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Throws Error(kInput) if `text` is not valid UTF-8. With `add_special`, adds what the
  // tokenizer's post-processor adds (e.g. BOS).
  virtual std::vector<int32_t> encode(const std::string& text, bool add_special = true) const = 0;
  // Throws Error(kInput) for an id outside the vocabulary.
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const = 0;
  // The raw bytes token `id` adds to decoded text amid other tokens (possibly part of a UTF-8
  // character): byte-level BPE's stand-in characters mapped back, SentencePiece's U+2581 as a
  // space, a <0xNN> byte-fallback token as its byte. Empty for tokens that are no text (special
  // and control tokens). Throws Error(kInput) for an id outside the vocabulary.
  virtual std::string token_bytes(int32_t id) const = 0;
  virtual int32_t vocab_size() const = 0;
  // The id of a token's exact text (special tokens included), or -1.
  virtual int32_t token_id(const std::string& token) const = 0;
};

// Loads `<dir>/tokenizer.json`, or else `<dir>/tokenizer.model` (SentencePiece) with the BOS
// and EOS settings of `<dir>/tokenizer_config.json`. Throws Error naming the file on bad input.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir);

}  // namespace bespoke::text
