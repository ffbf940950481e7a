#include "bespoke/text/decoder.h"

#include "bespoke/core/error.h"
#include "bespoke/text/utf8.h"

namespace bespoke::text {
namespace {

// "<0x41>" -> 0x41, else -1.
int byte_token(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  try {
    return std::stoi(t.substr(3, 2), nullptr, 16);
  } catch (const std::exception&) {
    return -1;
  }
}

std::vector<std::string> byte_fallback(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  std::string bytes;
  size_t n_bytes = 0;
  auto flush = [&] {
    if (n_bytes == 0) return;
    bool valid = true;
    try {
      check_utf8(bytes);
    } catch (const std::exception&) {
      valid = false;
    }
    if (valid)
      out.push_back(bytes);
    else
      for (size_t i = 0; i < n_bytes; ++i) out.push_back("\xEF\xBF\xBD");
    bytes.clear();
    n_bytes = 0;
  };
  for (const std::string& t : tokens) {
    const int b = byte_token(t);
    if (b < 0) {
      flush();
      out.push_back(t);
    } else {
      bytes += char(b);
      ++n_bytes;
    }
  }
  flush();
  return out;
}

// A byte-level token's bytes: each character back to the byte it stands for.
std::string byte_level(const std::string& token) {
  std::string bytes;
  for (const std::string& c : utf8_chars(token)) {
    const int b = char_to_byte(c);
    bytes += b >= 0 ? std::string(1, char(b)) : c;
  }
  return bytes;
}

}  // namespace

Decoder::Decoder(const nlohmann::json& spec) {
  if (spec.is_null())
    none_ = true;
  else
    add(spec);
}

void Decoder::add(const nlohmann::json& spec) {
  const std::string type = spec.at("type").get<std::string>();
  if (type == "Sequence") {
    for (const auto& d : spec.at("decoders")) add(d);
    return;
  }
  Step step{type, "", "", 0, 0, false};
  if (type == "Replace") {
    const auto& p = spec.at("pattern");
    if (!p.contains("String")) fail(ErrorKind::kUnsupported, "Replace decoder with a regex pattern is not supported");
    step.a = p["String"].get<std::string>();
    step.b = spec.at("content").get<std::string>();
  } else if (type == "Strip") {
    step.a = spec.at("content").get<std::string>();
    step.start = spec.value("start", 0);
    step.stop = spec.value("stop", 0);
  } else if (type == "Metaspace") {
    step.a = spec.value("replacement", std::string("\u2581"));
    step.prefix_space =
        spec.value("prepend_scheme", std::string(spec.value("add_prefix_space", true) ? "always" : "never")) != "never";
  } else if (type != "ByteLevel" && type != "ByteFallback" && type != "Fuse") {
    fail(ErrorKind::kUnsupported, "decoder type '" + type + "' is not supported");
  }
  steps_.push_back(step);
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  if (none_) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const Step& step : steps_) {
    if (step.type == "ByteLevel") {
      std::string bytes;
      for (const std::string& t : tokens) bytes += byte_level(t);
      tokens = {utf8_lossy(bytes)};
    } else if (step.type == "Replace") {
      for (std::string& t : tokens) t = replace_all(t, step.a, step.b);
    } else if (step.type == "ByteFallback") {
      tokens = byte_fallback(tokens);
    } else if (step.type == "Fuse") {
      std::string all;
      for (const std::string& t : tokens) all += t;
      tokens = {all};
    } else if (step.type == "Strip") {
      for (std::string& t : tokens) {
        for (int i = 0; i < step.start && t.rfind(step.a, 0) == 0; ++i) t.erase(0, step.a.size());
        for (int i = 0; i < step.stop && t.size() >= step.a.size() &&
                        t.compare(t.size() - step.a.size(), step.a.size(), step.a) == 0;
             ++i)
          t.erase(t.size() - step.a.size());
      }
    } else if (step.type == "Metaspace") {
      for (size_t i = 0; i < tokens.size(); ++i) {
        tokens[i] = replace_all(tokens[i], step.a, " ");
        if (i == 0 && step.prefix_space && tokens[i].rfind(' ', 0) == 0) tokens[i].erase(0, 1);
      }
    }
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

std::string Decoder::token_bytes(const std::string& token, bool special) const {
  if (special) {
    const int b = byte_token(token);
    for (const Step& step : steps_)
      if (step.type == "ByteFallback" && b >= 0) return std::string(1, char(b));
    return "";
  }
  if (none_) return token;
  std::string t = token;
  for (const Step& step : steps_) {
    if (step.type == "ByteLevel")
      t = byte_level(t);
    else if (step.type == "Replace")
      t = replace_all(t, step.a, step.b);
    else if (step.type == "ByteFallback" && byte_token(t) >= 0)
      t = std::string(1, char(byte_token(t)));
    else if (step.type == "Metaspace")
      t = replace_all(t, step.a, " ");
  }
  return t;
}

}  // namespace bespoke::text
