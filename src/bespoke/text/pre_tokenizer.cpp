#include "bespoke/text/pre_tokenizer.h"

#include "bespoke/core/error.h"
#include "bespoke/text/utf8.h"

namespace bespoke::text {
namespace {

// GPT-2's word pattern, used by ByteLevel with use_regex.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::vector<std::pair<size_t, size_t>> literal_matches(const std::string& s, const std::string& lit) {
  std::vector<std::pair<size_t, size_t>> out;
  if (lit.empty()) return out;
  for (size_t i = s.find(lit); i != std::string::npos; i = s.find(lit, i + lit.size()))
    out.emplace_back(i, i + lit.size());
  return out;
}

}  // namespace

PreTokenizer::PreTokenizer(const nlohmann::json& spec) {
  if (!spec.is_null()) add(spec);
}

void PreTokenizer::add(const nlohmann::json& spec) {
  const std::string type = spec.at("type").get<std::string>();
  if (type == "Sequence") {
    for (const auto& s : spec.at("pretokenizers")) add(s);
    return;
  }
  Step step;
  step.type = type;
  if (type == "Split") {
    const auto& p = spec.at("pattern");
    if (p.contains("Regex"))
      step.pattern = std::make_shared<Regex>(p["Regex"].get<std::string>());
    else
      step.literal = p.at("String").get<std::string>();
    const std::string b = spec.at("behavior").get<std::string>();
    const std::pair<const char*, Behavior> names[] = {{"Isolated", Behavior::kIsolated},
                                                      {"Removed", Behavior::kRemoved},
                                                      {"MergedWithPrevious", Behavior::kMergedWithPrevious},
                                                      {"MergedWithNext", Behavior::kMergedWithNext},
                                                      {"Contiguous", Behavior::kContiguous}};
    bool known = false;
    for (const auto& [name, value] : names)
      if (b == name) step.behavior = value, known = true;
    if (!known) fail(ErrorKind::kUnsupported, "Split behavior '" + b + "' is not supported");
    step.invert = spec.value("invert", false);
  } else if (type == "ByteLevel") {
    step.add_prefix_space = spec.value("add_prefix_space", false);
    if (spec.value("use_regex", true)) step.pattern = std::make_shared<Regex>(kGpt2Pattern);
  } else if (type == "Metaspace") {
    step.literal = spec.value("replacement", std::string("\u2581"));
    step.prepend_scheme =
        spec.value("prepend_scheme", std::string(spec.value("add_prefix_space", true) ? "always" : "never"));
    step.split = spec.value("split", true);
  } else if (type == "Digits") {
    step.pattern = std::make_shared<Regex>(spec.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)");
  } else if (type == "Whitespace") {
    step.pattern = std::make_shared<Regex>(R"(\w+|[^\w\s]+)");
  } else if (type == "WhitespaceSplit") {
    step.pattern = std::make_shared<Regex>(R"(\S+)");
  } else {
    fail(ErrorKind::kUnsupported, "pre_tokenizer type '" + type + "' is not supported");
  }
  steps_.push_back(std::move(step));
}

std::vector<std::string> PreTokenizer::split_matches(const std::string& s,
                                                     const std::vector<std::pair<size_t, size_t>>& m, Behavior behavior,
                                                     bool invert) {
  // Pieces in order, each flagged as a match (a delimiter) or the text between matches.
  std::vector<std::pair<std::string, bool>> parts;
  size_t at = 0;
  for (const auto& [b, e] : m) {
    if (b > at) parts.emplace_back(s.substr(at, b - at), invert);
    parts.emplace_back(s.substr(b, e - b), !invert);
    at = e;
  }
  if (at < s.size()) parts.emplace_back(s.substr(at), invert);
  std::vector<std::string> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& [text, delim] = parts[i];
    switch (behavior) {
      case Behavior::kIsolated:
        out.push_back(text);
        break;
      case Behavior::kRemoved:
        if (!delim) out.push_back(text);
        break;
      case Behavior::kMergedWithPrevious:
        if (delim && !out.empty() && !parts[i - 1].second)
          out.back() += text;
        else
          out.push_back(text);
        break;
      case Behavior::kMergedWithNext:  // a delimiter joins the text after it, not another delimiter
        if (!delim && i > 0 && parts[i - 1].second)
          out.back() += text;
        else
          out.push_back(text);
        break;
      case Behavior::kContiguous:
        if (delim && i > 0 && parts[i - 1].second)
          out.back() += text;
        else
          out.push_back(text);
        break;
    }
  }
  return out;
}

std::vector<std::string> PreTokenizer::apply(const Step& step, const std::string& piece, bool first) const {
  if (step.type == "ByteLevel") {
    const std::string text = step.add_prefix_space && piece.rfind(' ', 0) != 0 ? " " + piece : piece;
    std::vector<std::string> words = step.pattern
                                         ? split_matches(text, step.pattern->find_all(text), Behavior::kIsolated, false)
                                         : std::vector<std::string>{text};
    for (std::string& w : words) {
      std::string mapped;
      for (unsigned char c : w) mapped += byte_to_char()[c];
      w = std::move(mapped);
    }
    return words;
  }
  if (step.type == "Metaspace") {
    std::string text;
    for (char c : piece) text += c == ' ' ? step.literal : std::string(1, c);
    const bool prepend = step.prepend_scheme == "always" || (step.prepend_scheme == "first" && first);
    if (prepend && text.rfind(step.literal, 0) != 0) text = step.literal + text;
    if (!step.split) return {text};
    return split_matches(text, literal_matches(text, step.literal), Behavior::kMergedWithNext, false);
  }
  const auto matches = step.pattern ? step.pattern->find_all(piece) : literal_matches(piece, step.literal);
  if (step.type == "Split") return split_matches(piece, matches, step.behavior, step.invert);
  if (step.type == "Digits") return split_matches(piece, matches, Behavior::kIsolated, false);
  return split_matches(piece, matches, Behavior::kRemoved, true);  // Whitespace, WhitespaceSplit
}

std::vector<std::string> PreTokenizer::split(const std::string& text, bool first) const {
  std::vector<std::string> pieces = {text};
  for (const Step& step : steps_) {
    std::vector<std::string> next;
    for (size_t i = 0; i < pieces.size(); ++i)
      for (std::string& w : apply(step, pieces[i], first && i == 0)) next.push_back(std::move(w));
    pieces = std::move(next);
  }
  std::vector<std::string> words;
  for (std::string& p : pieces)
    if (!p.empty()) words.push_back(std::move(p));
  return words;
}

}  // namespace bespoke::text
