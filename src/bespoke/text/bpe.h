// The BPE model of tokenizer.json: a vocabulary and ranked merges applied to one
// pre-tokenized word at a time. Byte fallback writes characters missing from the vocabulary
// as <0xNN> byte tokens (Llama 2, Mistral, Gemma); otherwise they become the unknown token,
// runs of which fuse into one with fuse_unk.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace bespoke::text {

class Bpe {
 public:
  // `model` is tokenizer.json's "model" object. Throws Error on a malformed or unsupported one.
  explicit Bpe(const nlohmann::json& model);

  // Appends the ids of `word` to `out`.
  void encode_word(const std::string& word, std::vector<int32_t>& out) const;

  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }
  const std::string& token(int32_t id) const { return tokens_[id]; }
  int32_t id(const std::string& token) const;  // -1 if absent

 private:
  std::vector<int32_t> initial_symbols(const std::string& word) const;

  std::unordered_map<std::string, int32_t> ids_;
  std::vector<std::string> tokens_;
  // (left id << 32 | right id) -> (rank, merged id)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;
  int32_t unk_ = -1;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
};

}  // namespace bespoke::text
