#include "bespoke/task/encoding/extract.h"

#include <algorithm>

#include "bespoke/task/encoding/entities.h"
#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {
namespace {

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
  std::string text = python_strip(raw);
  if (text.find("<think>") != std::string::npos) {
    const size_t end = text.rfind("</think>");
    if (end != std::string::npos) text = python_strip(text.substr(end + 8));
  }
  if (text.rfind("```", 0) == 0) {
    std::string kept;
    size_t begin = 0;
    bool first = true;
    while (begin <= text.size()) {
      const size_t end = std::min(text.find('\n', begin), text.size());
      const std::string line = text.substr(begin, end - begin);
      if (python_strip(line).rfind("```", 0) != 0) kept += (first ? "" : "\n") + line, first = false;
      begin = end + 1;
    }
    text = python_strip(kept);
  }
  for (const char* marker : {"<start_of_turn>", "<end_of_turn>"}) text = text::replace_all(text, marker, "");
  text = python_strip(text);
  bool parsed = false;
  if (auto whole = parse(text, parsed); whole || parsed) return whole;
  if (auto part = first_balanced_object(text)) return parse(*part, parsed);
  return std::nullopt;
}

}  // namespace bespoke::task::encoding
