#include "bespoke/task/encoding/extract.h"

#include <algorithm>

#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {
namespace {

// Python's str.strip(): every Unicode white-space character, not just ASCII's.
bool python_space_at(const std::string& s, size_t i, size_t& len) {
  static const char* const kSpaces[] = {"\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\xA8", "\xE2\x80\xA9",
                                        "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"};
  const auto c = static_cast<unsigned char>(s[i]);
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return len = 1, true;
  if (c == 0xE2 && i + 2 < s.size() && s[i + 1] == '\x80' && static_cast<unsigned char>(s[i + 2]) <= 0x8A)
    return len = 3, true;  // U+2000..U+200A
  for (const char* sp : kSpaces)
    if (s.compare(i, std::char_traits<char>::length(sp), sp) == 0) return len = std::char_traits<char>::length(sp), true;
  return false;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size(), len = 0;
  while (a < b && python_space_at(s, a, len)) a += len;
  // From the end: step back to each character's first byte.
  while (b > a) {
    size_t start = b - 1;
    while (start > a && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    if (!python_space_at(s, start, len) || start + len != b) break;
    b = start;
  }
  return s.substr(a, b - a);
}

// json.loads: nullopt if it fails; a value that is not an object is no record either.
std::optional<Json> parse(const std::string& s, bool& parsed) {
  const Json j = Json::parse(s, nullptr, /*allow_exceptions=*/false);
  parsed = !j.is_discarded();
  if (!parsed || !j.is_object()) return std::nullopt;
  return j;
}

// The first {...} whose braces balance. Like the scorer, a backslash skips the next character
// inside strings and out, and braces count only outside strings.
std::optional<std::string> first_balanced_object(const std::string& s) {
  const size_t start = s.find('{');
  if (start == std::string::npos) return std::nullopt;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = start; i < s.size(); ++i) {
    const char c = s[i];
    if (escaped) {
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '"') {
      in_string = !in_string;
    } else if (in_string) {
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return s.substr(start, i - start + 1);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Json> extract_json(const std::string& raw) {
  std::string text = trim(raw);
  if (text.find("<think>") != std::string::npos) {
    const size_t end = text.rfind("</think>");
    if (end != std::string::npos) text = trim(text.substr(end + 8));
  }
  if (text.rfind("```", 0) == 0) {
    std::string kept;
    size_t begin = 0;
    bool first = true;
    while (begin <= text.size()) {
      const size_t end = std::min(text.find('\n', begin), text.size());
      const std::string line = text.substr(begin, end - begin);
      if (trim(line).rfind("```", 0) != 0) kept += (first ? "" : "\n") + line, first = false;
      begin = end + 1;
    }
    text = trim(kept);
  }
  for (const char* marker : {"<start_of_turn>", "<end_of_turn>"}) text = text::replace_all(text, marker, "");
  text = trim(text);
  bool parsed = false;
  if (auto whole = parse(text, parsed); whole || parsed) return whole;
  if (auto part = first_balanced_object(text)) return parse(*part, parsed);
  return std::nullopt;
}

}  // namespace bespoke::task::encoding
