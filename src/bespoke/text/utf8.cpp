#include "bespoke/text/utf8.h"

#include <map>

#include "bespoke/core/error.h"

namespace bespoke::text {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is invalid (overlong, surrogate,
// out of range, truncated).
size_t sequence_length(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b = byte(i);
  if (b < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((b & 0xE0) == 0xC0)
    n = 2, cp = b & 0x1F;
  else if ((b & 0xF0) == 0xE0)
    n = 3, cp = b & 0x0F;
  else if ((b & 0xF8) == 0xF0)
    n = 4, cp = b & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void check_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = sequence_length(s, i);
    if (n == 0) fail(ErrorKind::kInput, "text is not valid UTF-8 (at byte " + std::to_string(i) + ")");
    i += n;
  }
}

std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = std::max<size_t>(1, sequence_length(s, i));
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string utf8_encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
  return out;
}

// Bytes at s[i] forming the longest prefix of some valid sequence (Unicode's "maximal
// subpart"), at least 1: each such run becomes one U+FFFD, as in Rust's from_utf8_lossy.
size_t invalid_run(const std::string& s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b = at(i);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF)
    n = 2;
  else if (b == 0xE0)
    n = 3, lo = 0xA0;
  else if (b >= 0xE1 && b <= 0xEF)
    n = 3, hi = b == 0xED ? 0x9F : 0xBF;
  else if (b == 0xF0)
    n = 4, lo = 0x90;
  else if (b >= 0xF1 && b <= 0xF4)
    n = 4, hi = b == 0xF4 ? 0x8F : 0xBF;
  if (n == 0 || i + 1 >= s.size() || at(i + 1) < lo || at(i + 1) > hi) return 1;
  size_t k = 2;
  while (k < n && i + k < s.size() && (at(i + k) & 0xC0) == 0x80) ++k;
  return k;
}

std::string utf8_lossy(const std::string& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = sequence_length(bytes, i);
    if (n) {
      out.append(bytes, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      i += invalid_run(bytes, i);
    }
  }
  return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  size_t i = 0;
  for (size_t j; (j = s.find(from, i)) != std::string::npos; i = j + from.size()) out.append(s, i, j - i).append(to);
  return out.append(s, i, std::string::npos);
}

const std::vector<std::string>& byte_to_char() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = utf8_encode(printable ? b : next++);
    }
    return t;
  }();
  return table;
}

int char_to_byte(const std::string& c) {
  static const std::map<std::string, int> inverse = [] {
    std::map<std::string, int> m;
    for (int b = 0; b < 256; ++b) m[byte_to_char()[b]] = b;
    return m;
  }();
  auto it = inverse.find(c);
  return it == inverse.end() ? -1 : it->second;
}

}  // namespace bespoke::text
