#include "bespoke/text/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

#include "bespoke/core/error.h"
#include "bespoke/text/utf8.h"

namespace bespoke::text {
namespace {

std::string unicode_form(const std::string& text, utf8proc_option_t options) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), text.size(), &out,
                              static_cast<utf8proc_option_t>(options | UTF8PROC_STABLE));
  if (n < 0) fail(ErrorKind::kInput, std::string("text cannot be normalized: ") + utf8proc_errmsg(n));
  std::string result(reinterpret_cast<char*>(out), n);
  std::free(out);
  return result;
}

bool is_space(uint32_t cp) {
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS || (cp >= 9 && cp <= 13) || cp == 0x85 || cp == 0x2028 ||
         cp == 0x2029;
}

std::string strip(const std::string& s, bool left, bool right) {
  const std::vector<std::string> chars = utf8_chars(s);
  auto space = [](const std::string& c) {
    utf8proc_int32_t cp;
    utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(c.data()), c.size(), &cp);
    return is_space(cp);
  };
  size_t b = 0, e = chars.size();
  while (left && b < e && space(chars[b])) ++b;
  while (right && e > b && space(chars[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) out += chars[i];
  return out;
}

}  // namespace

Normalizer::Normalizer(const nlohmann::json& spec) {
  if (!spec.is_null()) add(spec);
}

void Normalizer::add(const nlohmann::json& spec) {
  const std::string type = spec.at("type").get<std::string>();
  if (type == "Sequence") {
    for (const auto& s : spec.at("normalizers")) add(s);
    return;
  }
  Step step{type, "", "", nullptr};
  if (type == "Prepend") {
    step.a = spec.at("prepend").get<std::string>();
  } else if (type == "Replace") {
    const auto& p = spec.at("pattern");
    if (p.contains("Regex"))
      step.pattern = std::make_shared<Regex>(p["Regex"].get<std::string>());
    else
      step.a = p.at("String").get<std::string>();
    step.b = spec.at("content").get<std::string>();
  } else if (type == "Strip") {
    step.a = std::string(spec.value("left", true) ? "l" : "") + (spec.value("right", true) ? "r" : "");
  } else if (type != "NFC" && type != "NFD" && type != "NFKC" && type != "NFKD" && type != "Lowercase") {
    fail(ErrorKind::kUnsupported, "normalizer type '" + type + "' is not supported");
  }
  steps_.push_back(step);
}

std::string Normalizer::apply(const std::string& text) const {
  std::string s = text;
  for (const Step& step : steps_) {
    if (step.type == "NFC")
      s = unicode_form(s, UTF8PROC_COMPOSE);
    else if (step.type == "NFD")
      s = unicode_form(s, UTF8PROC_DECOMPOSE);
    else if (step.type == "NFKC")
      s = unicode_form(s, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
    else if (step.type == "NFKD")
      s = unicode_form(s, static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
    else if (step.type == "Lowercase")
      s = unicode_form(s, UTF8PROC_CASEFOLD);
    else if (step.type == "Prepend")
      s = s.empty() ? s : step.a + s;
    else if (step.type == "Strip")
      s = strip(s, step.a.find('l') != std::string::npos, step.a.find('r') != std::string::npos);
    else if (step.type == "Replace" && !step.pattern)
      s = replace_all(s, step.a, step.b);
    else if (step.type == "Replace") {
      std::string out;
      size_t at = 0;
      for (const auto& [b, e] : step.pattern->find_all(s)) out.append(s, at, b - at).append(step.b), at = e;
      s = out.append(s, at, std::string::npos);
    }
  }
  return s;
}

}  // namespace bespoke::text
