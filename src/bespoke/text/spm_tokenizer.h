// SentencePiece `tokenizer.model` (a ModelProto), for checkpoints that ship no
// tokenizer.json: BPE models (Llama 2, Mistral, Gemma) with byte fallback and the identity
// normalizer, read and run natively. (libsentencepiece cannot share a process with libtorch:
// the two protobuf builds clash when both are loaded.)
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "bespoke/text/tokenizer.h"

namespace bespoke::text {

class SpmTokenizer : public Tokenizer {
 public:
  // Throws Error(kInput) for a malformed file, Error(kUnsupported) for a unigram model or a
  // normalization rule other than identity. BOS/EOS are added as tokenizer_config.json's
  // add_bos_token / add_eos_token say.
  SpmTokenizer(const std::string& model_path, bool add_bos, bool add_eos);

  std::vector<int32_t> encode(const std::string& text, bool add_special = true) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const override;
  std::string token_bytes(int32_t id) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(pieces_.size()); }
  int32_t token_id(const std::string& token) const override;

 private:
  // SentencePiece piece types, numbered as in the proto (and as GGUF token types).
  enum Type { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
  struct Piece {
    std::string text;
    float score = 0;
    int type = kNormal;
  };

  std::string normalize(const std::string& text) const;

  std::vector<Piece> pieces_;
  std::unordered_map<std::string, int32_t> ids_;  // every piece by its text
  std::vector<int32_t> user_defined_;             // matched whole before merging, longest first
  int32_t unk_ = 0, bos_ = -1, eos_ = -1;
  std::string unk_surface_ = " \xE2\x81\x87 ";
  bool byte_fallback_ = false;
  bool add_dummy_prefix_ = true, remove_extra_whitespaces_ = true, escape_whitespaces_ = true;
  bool add_bos_, add_eos_;
};

}  // namespace bespoke::text
