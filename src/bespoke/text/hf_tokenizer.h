// tokenizer.json (Hugging Face tokenizers): added tokens, normalizer, pre-tokenizer, BPE model,
// post-processor and decoder, each a small class of its own.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "bespoke/text/bpe.h"
#include "bespoke/text/decoder.h"
#include "bespoke/text/normalizer.h"
#include "bespoke/text/pre_tokenizer.h"
#include "bespoke/text/tokenizer.h"

namespace bespoke::text {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool single_word = false;  // matches only as a whole word
  bool normalized = false;   // matched in normalized text rather than raw input
};

class HfTokenizer : public Tokenizer {
 public:
  explicit HfTokenizer(const nlohmann::json& spec);

  std::vector<int32_t> encode(const std::string& text, bool add_special = true) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const override;
  std::string token_bytes(int32_t id) const override;
  int32_t vocab_size() const override;
  int32_t token_id(const std::string& token) const override;

 private:
  // A stretch of input: an added token's id, or text to tokenize (id -1).
  struct Segment {
    std::string text;
    int32_t id = -1;
    bool first = false;  // starts the input
  };
  std::vector<Segment> split_added(const std::vector<Segment>& in, bool normalized) const;

  std::vector<AddedToken> added_;                                  // longest first
  std::array<std::vector<const AddedToken*>, 256> by_first_byte_;  // the same, by first byte
  std::unordered_map<int32_t, const AddedToken*> by_id_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  Bpe model_;
  Decoder decoder_;
  // TemplateProcessing for single sequences: ids before and after the text.
  std::vector<int32_t> prefix_, suffix_;
};

}  // namespace bespoke::text
