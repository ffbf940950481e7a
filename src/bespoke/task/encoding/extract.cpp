#include "bespoke/task/encoding/extract.h"

#include <sstream>

#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {
namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::optional<Json> parse_object(const std::string& s) {
  const Json j = Json::parse(s, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// The first {...} whose braces balance, skipping braces inside strings.
std::optional<std::string> first_balanced_object(const std::string& s) {
  const size_t start = s.find('{');
  if (start == std::string::npos) return std::nullopt;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = start; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
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
  std::string text = raw;
  const size_t think = text.rfind("</think>");
  if (think != std::string::npos) text = text.substr(think + 8);
  text = trim(text);
  if (text.rfind("```", 0) == 0) {
    std::istringstream lines(text);
    std::string kept;
    for (std::string line; std::getline(lines, line);)
      if (trim(line).rfind("```", 0) != 0) kept += line + "\n";
    text = trim(kept);
  }
  for (const char* marker : {"<start_of_turn>model", "<start_of_turn>", "<end_of_turn>"}) text = text::replace_all(text, marker, "");
  text = trim(text);
  if (auto whole = parse_object(text)) return whole;
  if (auto part = first_balanced_object(text)) return parse_object(*part);
  return std::nullopt;
}

}  // namespace bespoke::task::encoding
