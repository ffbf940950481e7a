#include "bespoke/task/encoding/entities.h"

#include <utf8proc.h>

#include "bespoke/text/regex.h"
#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {
namespace {

// Python's \s (str.isspace), which unlike PCRE2's also holds U+001C..U+001F and not U+180E.
#define PY_SPACE \
  "[\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"

// The scorer's alternation, tried in this order at each position.
const char* kNumber =
    "-?\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?|-?\\d+\\.\\d+[eE][+-]?\\d+|-?\\d+\\.\\d+%|-?\\d+%|-?\\d+\\.\\d+|-?\\d+(?:/"
    "\\d+)|\\d+";
const char* kPath =
    "(?:[a-zA-Z_~/][\\w/"
    "~-]+\\.(?:go|py|js|ts|html|css|yaml|yml|json|jsonl|toml|md|sh|sql|gguf|db|txt|log|patch|cuh|cpp|c|h))\\b"
    "|(?<![<])(?:/(?:home|usr|etc|var|tmp|opt|api|static)[\\w./~-]+)";
const char* kVersion = "v\\d+\\.\\d+(?:\\.\\d+)?";
const char* kMultiWord = "\\b([A-Z][a-z]+(?:" PY_SPACE "+[A-Z][a-z]+)+)\\b";
const char* kMidSentence = "(?<=[a-z,;]" PY_SPACE ")([A-Z][a-z]{2,})\\b";
const char* kMention = "@(\\w+)";
const char* kCamel = "\\b([A-Z][a-z]+[A-Z]\\w+)\\b";

struct Patterns {
  text::Regex number{kNumber}, path{kPath}, version{kVersion};
  text::Regex multi_word{kMultiWord}, mid_sentence{kMidSentence}, mention{kMention}, camel{kCamel};
  text::Regex word{"\\w+"};
  text::Regex leading_space{"\\A" PY_SPACE "+"}, trailing_space{PY_SPACE "+\\z"};
};

const Patterns& patterns() {
  static const Patterns p;
  return p;
}

void find_into(const text::Regex& re, const std::string& text, int group, std::set<std::string>& out) {
  for (const auto& [b, e] : re.find_all(text, group)) out.insert(text.substr(b, e - b));
}

std::vector<int32_t> decode(const std::string& text) {
  std::vector<int32_t> cps;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  for (size_t i = 0; i < text.size();) {
    int32_t cp = 0;
    const auto n = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0) {  // not UTF-8: keep the byte as it is, as the substring searches will
      cps.push_back(-static_cast<int32_t>(p[i]) - 1);
      ++i;
      continue;
    }
    cps.push_back(cp);
    i += static_cast<size_t>(n);
  }
  return cps;
}

bool cased(int32_t cp) {
  if (cp < 0) return false;
  const auto c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}

bool case_ignorable(int32_t cp) {
  if (cp < 0) return false;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  return cp == '\'' || cp == '.' || cp == ':' || cp == 0xB7 || cp == 0x2018 || cp == 0x2019 || cp == 0x2024 ||
         cp == 0xFE52 || cp == 0xFF07 || cp == 0xFF0E;
}

// Σ lower-cases to ς at the end of a word: a cased letter before it and none after, looking
// past case-ignorable characters, as CPython does.
bool final_sigma(const std::vector<int32_t>& cps, size_t i) {
  size_t j = i;
  while (j > 0 && case_ignorable(cps[j - 1])) --j;
  if (j == 0 || !cased(cps[j - 1])) return false;
  size_t k = i + 1;
  while (k < cps.size() && case_ignorable(cps[k])) ++k;
  return k == cps.size() || !cased(cps[k]);
}

}  // namespace

std::set<std::string> extract_numbers(const std::string& text) {
  std::set<std::string> raw, out;
  find_into(patterns().number, text, 0, raw);
  for (const std::string& n : raw) out.insert(text::replace_all(n, ",", ""));
  return out;
}

std::set<std::string> extract_entities(const std::string& text) {
  std::set<std::string> out = extract_numbers(text);
  const Patterns& p = patterns();
  find_into(p.path, text, 0, out);
  find_into(p.version, text, 0, out);
  std::set<std::string> names;
  for (const text::Regex* re : {&p.multi_word, &p.mid_sentence, &p.mention, &p.camel}) find_into(*re, text, 1, names);
  for (const std::string& n : names)
    if (code_points(n) >= 3 && n.rfind("The ", 0) != 0) out.insert(n);
  return out;
}

std::string python_lower(const std::string& text) {
  const std::vector<int32_t> cps = decode(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    const int32_t cp = cps[i];
    if (cp < 0)
      out += static_cast<char>(-cp - 1);
    else if (cp == 0x130)
      out += "i\xCC\x87";  // İ -> i + combining dot above
    else if (cp == 0x3A3)
      out += text::utf8_encode(final_sigma(cps, i) ? 0x3C2 : 0x3C3);
    else
      out += text::utf8_encode(static_cast<uint32_t>(utf8proc_tolower(cp)));
  }
  return out;
}

std::string python_strip(const std::string& text) {
  const auto lead = patterns().leading_space.find_all(text), trail = patterns().trailing_space.find_all(text);
  const size_t begin = lead.empty() ? 0 : lead.front().second;
  const size_t end = trail.empty() ? text.size() : trail.front().first;
  return begin >= end ? std::string() : text.substr(begin, end - begin);
}

size_t code_points(const std::string& text) {
  return decode(text).size();
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& [b, e] : patterns().word.find_all(text)) out.push_back(text.substr(b, e - b));
  return out;
}

}  // namespace bespoke::task::encoding
