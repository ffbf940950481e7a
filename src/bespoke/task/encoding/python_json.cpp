#include "bespoke/task/encoding/python_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {
namespace {

// The code point of one UTF-8 character (the JSON parser has validated it).
uint32_t code_point(const std::string& ch) {
  const auto b = [&](size_t i) { return uint32_t(uint8_t(ch[i])); };
  switch (ch.size()) {
    case 1:
      return b(0);
    case 2:
      return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
    case 3:
      return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
    default:
      return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
  }
}

void escape_code_unit(uint32_t u, std::string& out) {
  char buf[16];  // sized for any uint32_t, though a code unit needs four digits
  std::snprintf(buf, sizeof buf, "\\u%04x", u);
  out += buf;
}

std::string python_string(const std::string& s, bool ensure_ascii) {
  std::string out = "\"";
  for (const std::string& ch : text::utf8_chars(s)) {
    const uint32_t cp = code_point(ch);
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
    }
    if (cp < 0x20 || (ensure_ascii && cp > 0x7e)) {
      if (cp > 0xFFFF) {  // UTF-16 surrogate pair, as Python writes it
        escape_code_unit(0xD800 + ((cp - 0x10000) >> 10), out);
        escape_code_unit(0xDC00 + ((cp - 0x10000) & 0x3FF), out);
      } else {
        escape_code_unit(cp, out);
      }
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace

std::string python_float(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific).ptr;
  const std::string sci(buf, end);  // "-1.2345e+06": shortest round-trip digits
  const size_t e_at = sci.find('e');
  const int exponent = std::stoi(sci.substr(e_at + 1));
  const bool negative = sci[0] == '-';
  std::string digits;
  for (size_t i = negative ? 1 : 0; i < e_at; ++i)
    if (sci[i] != '.') digits += sci[i];
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp;
  }
  if (exponent < 0) return out + "0." + std::string(-exponent - 1, '0') + digits;
  if (int(digits.size()) <= exponent + 1) return out + digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
  return out + digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
}

bool python_truthy(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  // nlohmann's empty() is false for every string, so a string is measured by its text.
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();
}

std::string python_dumps(const Json& v, bool ensure_ascii) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case Json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case Json::value_t::number_float:
      return python_float(v.get<double>());
    case Json::value_t::string:
      return python_string(v.get<std::string>(), ensure_ascii);
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + python_dumps(v[i], ensure_ascii);
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, item] : v.items()) {
        out += (first ? "" : ", ") + python_string(k, ensure_ascii) + ": " + python_dumps(item, ensure_ascii);
        first = false;
      }
      return out + "}";
    }
    default:
      return "null";  // binary and discarded values do not occur in parsed records
  }
}

}  // namespace bespoke::task::encoding
