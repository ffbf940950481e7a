// A well-formedness check for the XML Bespoke writes (SVG charts): no parser dependency, and
// strict where a writer goes wrong: tags closed in order, attributes quoted, no raw '<' or bare
// '&' in text or values.
#pragma once

#include <cctype>
#include <string>
#include <vector>

namespace bespoke::test {

// What is wrong with `xml`, with its offset, or "" when it is well-formed.
inline std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  const auto name_at = [&](size_t& i) {
    const size_t start = i;
    while (i < xml.size() && (std::isalnum(static_cast<unsigned char>(xml[i])) || xml[i] == '-' || xml[i] == ':' ||
                              xml[i] == '_' || xml[i] == '.'))
      ++i;
    return xml.substr(start, i - start);
  };
  const auto bad_entity = [&](size_t i) {  // xml[i] == '&'
    const size_t semi = xml.find(';', i);
    if (semi == std::string::npos || semi - i > 8 || semi == i + 1) return true;
    const std::string e = xml.substr(i + 1, semi - i - 1);
    return !(e == "amp" || e == "lt" || e == "gt" || e == "quot" || e == "apos" || e[0] == '#');
  };
  const auto at = [](const std::string& what, size_t i) { return what + " at " + std::to_string(i); };
  size_t i = 0;
  if (xml.compare(0, 5, "<?xml") == 0) i = xml.find("?>") + 2;
  while (i < xml.size()) {
    if (xml[i] == '&' && bad_entity(i)) return at("a bare '&'", i);
    if (xml[i] != '<') {
      ++i;
      continue;
    }
    ++i;
    const bool closing = i < xml.size() && xml[i] == '/';
    if (closing) ++i;
    const std::string name = name_at(i);
    if (name.empty()) return at("a tag without a name", i);
    if (closing) {
      if (open.empty() || open.back() != name) return at("</" + name + "> closes nothing open", i);
      open.pop_back();
      if (i >= xml.size() || xml[i] != '>') return at("a closing tag not ended by '>'", i);
      ++i;
      continue;
    }
    while (true) {
      while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i]))) ++i;
      if (i >= xml.size()) return at("<" + name + " never ends", i);
      if (xml[i] == '>') {
        open.push_back(name);
        ++i;
        break;
      }
      if (xml.compare(i, 2, "/>") == 0) {
        i += 2;
        break;
      }
      if (name_at(i).empty() || i >= xml.size() || xml[i] != '=') return at("an attribute without a value", i);
      const char quote = xml[++i];
      if (quote != '"' && quote != '\'') return at("an unquoted attribute", i);
      const size_t end = xml.find(quote, i + 1);
      if (end == std::string::npos) return at("an attribute never closed", i);
      for (size_t j = i + 1; j < end; ++j) {
        if (xml[j] == '<') return at("a raw '<' in an attribute", j);
        if (xml[j] == '&' && bad_entity(j)) return at("a bare '&' in an attribute", j);
      }
      i = end + 1;
    }
  }
  return open.empty() ? "" : "<" + open.back() + "> never closed";
}

}  // namespace bespoke::test
