// Pieces of the self-contained HTML pages Bespoke writes (the demo's report, importance.html).
#pragma once

#include <cstdio>
#include <string>

namespace bespoke::html {

// `s` with & < > " ' replaced by entities: safe in text and in quoted attributes.
std::string escape(const std::string& s);

// printf into a string. snprintf rather than streams: a stream's imbued locale could group
// digits or change the decimal point, and SVG coordinates must parse.
template <typename... Args>
std::string format(const char* spec, Args... args) {
  std::string out(std::snprintf(nullptr, 0, spec, args...), '\0');
  std::snprintf(out.data(), out.size() + 1, spec, args...);
  return out;
}

}  // namespace bespoke::html
