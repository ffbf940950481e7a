// The tokenizer a GGUF file carries in its tokenizer.ggml.* metadata, cutting text as llama.cpp
// does with special tokens parsed: "gpt2" (byte-level BPE with the pre-tokenizer regex that
// tokenizer.ggml.pre names) and "llama" (SentencePiece-style: neighbouring pieces join when the
// joined piece is in the vocabulary, highest score first, with byte fallback). Control,
// user-defined and unknown tokens are matched in the raw text first. The metadata is turned into
// the equivalent tokenizer.json and runs through the same HfTokenizer as a model directory's.
//
// This follows llama.cpp, not the tokenizer.json a file may have come from: no Unicode
// normalization (a tokenizer.json's NFC is not in the file), and the token types llama.cpp's loader
// rewrites by their text (</s> or <|endoftext|> made control tokens, say). Two special tokens that
// overlap in the text match leftmost first, where llama.cpp matches the longer first.
#pragma once

#include <memory>
#include <string>

#include "bespoke/text/tokenizer.h"

namespace bespoke::io {
class GgufFile;
}

namespace bespoke::text {

// Whether a model path names a GGUF file (any regular file) rather than a model directory.
bool is_gguf_path(const std::string& path);

// Throws Error(kUnsupported) naming a tokenizer.ggml.model or tokenizer.ggml.pre that Bespoke
// cannot reproduce, Error(kInput) for missing or malformed metadata; each message starts with the
// file's path.
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const io::GgufFile& file);

// What a chat template reads from a GGUF file besides the messages.
struct GgufChat {
  // The text of the BOS and EOS tokens as llama.cpp resolves their ids (the file's, else its
  // defaults for the tokenizer model); "" where there is none.
  std::string bos_token, eos_token;
  std::string chat_template;  // tokenizer.chat_template; "" where there is none
};
GgufChat read_gguf_chat(const io::GgufFile& file);

}  // namespace bespoke::text
