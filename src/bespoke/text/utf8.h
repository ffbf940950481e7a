// UTF-8 helpers: validation, code-point iteration, and GPT-2's byte <-> printable-char map.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bespoke::text {

// Throws Error(kInput) naming the byte offset of the first invalid sequence.
void check_utf8(const std::string& s);

// Splits `s` (valid UTF-8) into its characters, each as its UTF-8 bytes.
std::vector<std::string> utf8_chars(const std::string& s);

// Encodes one code point as UTF-8.
std::string utf8_encode(uint32_t code_point);

// Replaces each invalid sequence with U+FFFD, as Rust's from_utf8_lossy does.
std::string utf8_lossy(const std::string& bytes);

// Replaces every occurrence of `from` (non-empty) in `s` with `to`.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to);

// Byte-level BPE writes every byte as a printable character (GPT-2's bytes_to_unicode):
// `byte_to_char()[b]` is the UTF-8 of byte b's stand-in; `char_to_byte` inverts it and returns
// -1 for a character that stands for no byte.
const std::vector<std::string>& byte_to_char();
int char_to_byte(const std::string& c);

}  // namespace bespoke::text
