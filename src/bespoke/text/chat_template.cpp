#include "bespoke/text/chat_template.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"

namespace bespoke::text {
namespace {

bool has(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

// Python's str.strip(chars) family; the default set is ASCII whitespace, which is what
// Jinja's `trim` removes from the texts these templates see.
std::string strip(const std::string& s, const char* chars = " \t\n\r\f\v", bool left = true, bool right = true) {
  size_t b = 0, e = s.size();
  while (left && b < e && std::strchr(chars, s[b])) ++b;
  while (right && e > b && std::strchr(chars, s[e - 1])) --e;
  return s.substr(b, e - b);
}
std::string lstrip(const std::string& s, const char* chars) {
  return strip(s, chars, true, false);
}
std::string rstrip(const std::string& s, const char* chars) {
  return strip(s, chars, false, true);
}

// Python's s.split(sep)[0] and s.split(sep)[-1].
std::string before_first(const std::string& s, const std::string& sep) {
  return s.substr(0, s.find(sep));
}
std::string after_last(const std::string& s, const std::string& sep) {
  const size_t at = s.rfind(sep);
  return at == std::string::npos ? s : s.substr(at + sep.size());
}

bool has_system(const std::vector<ChatMessage>& m) {
  return !m.empty() && m[0].role == "system";
}

// The messages after a leading system message.
std::vector<ChatMessage> turns(const std::vector<ChatMessage>& m) {
  return has_system(m) ? std::vector<ChatMessage>(m.begin() + 1, m.end()) : m;
}

// Gemma and old Mistral templates raise unless turns go user, assistant, user, ...
void check_alternation(const std::vector<ChatMessage>& turns) {
  for (size_t i = 0; i < turns.size(); ++i)
    if ((turns[i].role == "user") != (i % 2 == 0))
      fail(ErrorKind::kInput, "conversation roles must alternate user/assistant/user/assistant/...");
}

std::string chatml(const std::vector<ChatMessage>& m, const ChatOptions& o, const std::string& default_system) {
  std::string out;
  if (!has_system(m) && !default_system.empty()) out += "<|im_start|>system\n" + default_system + "<|im_end|>\n";
  for (const ChatMessage& msg : m) out += "<|im_start|>" + msg.role + "\n" + msg.content + "<|im_end|>\n";
  if (o.add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

// Qwen 3: assistant turns after the last user message keep their reasoning in <think>;
// earlier ones keep only the answer after </think>.
std::string qwen3(const std::vector<ChatMessage>& m, const ChatOptions& o) {
  std::string out;
  if (has_system(m)) out += "<|im_start|>system\n" + m[0].content + "<|im_end|>\n";
  size_t last_query = m.size() - 1;
  for (size_t i = m.size(); i-- > 0;) {
    const std::string& c = m[i].content;
    const bool tool_response =
        c.rfind("<tool_response>", 0) == 0 && c.size() >= 16 && c.compare(c.size() - 16, 16, "</tool_response>") == 0;
    if (m[i].role == "user" && !tool_response) {
      last_query = i;
      break;
    }
  }
  for (size_t i = 0; i < m.size(); ++i) {
    const ChatMessage& msg = m[i];
    if (msg.role == "user" || (msg.role == "system" && i > 0)) {
      out += "<|im_start|>" + msg.role + "\n" + msg.content + "<|im_end|>\n";
    } else if (msg.role == "assistant") {
      std::string content = msg.content, reasoning;
      if (has(content, "</think>")) {
        reasoning = lstrip(after_last(rstrip(before_first(content, "</think>"), "\n"), "<think>"), "\n");
        content = lstrip(after_last(content, "</think>"), "\n");
      }
      const bool keep_reasoning = i + 1 == m.size() || !reasoning.empty();
      if (int64_t(i) > int64_t(last_query) && keep_reasoning)
        out += "<|im_start|>assistant\n<think>\n" + strip(reasoning, "\n") + "\n</think>\n\n" + lstrip(content, "\n");
      else
        out += "<|im_start|>assistant\n" + content;
      out += "<|im_end|>\n";
    }
  }
  if (o.add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (o.enable_thinking == 0) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%d %b %Y", std::localtime(&now));
  return buf;
}

// Llama 3.x; 3.1+ always open with a system block carrying the knowledge-cutoff date.
std::string llama3(const std::vector<ChatMessage>& m, const ChatOptions& o, const std::string& date) {
  auto header = [](const std::string& role) { return "<|start_header_id|>" + role + "<|end_header_id|>\n\n"; };
  std::string out = o.bos_token;
  std::vector<ChatMessage> rest = m;
  if (!date.empty()) {
    out += header("system") + "Cutting Knowledge Date: December 2023\nToday Date: " + date + "\n\n";
    out += (has_system(m) ? strip(m[0].content) : "") + "<|eot_id|>";
    rest = turns(m);
  }
  for (const ChatMessage& msg : rest) out += header(msg.role) + strip(msg.content) + "<|eot_id|>";
  if (o.add_generation_prompt) out += header("assistant");
  return out;
}

std::string gemma(const std::vector<ChatMessage>& m, const ChatOptions& o, bool system_allowed) {
  if (has_system(m) && !system_allowed) fail(ErrorKind::kInput, "this Gemma template does not support a system role");
  const std::vector<ChatMessage> t = turns(m);
  check_alternation(t);
  std::string out = o.bos_token;
  for (size_t i = 0; i < t.size(); ++i) {
    const std::string role = t[i].role == "assistant" ? "model" : t[i].role;
    const std::string prefix = i == 0 && has_system(m) ? m[0].content + "\n\n" : "";
    out += "<start_of_turn>" + role + "\n" + prefix + strip(t[i].content) + "<end_of_turn>\n";
  }
  if (o.add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

// Gemma 4 drops <|channel>...<channel|> (its thoughts) from earlier model turns.
std::string strip_thinking(const std::string& text) {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t end = text.find("<channel|>", at);
    const std::string part = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    out += has(part, "<|channel>") ? before_first(part, "<|channel>") : part;
    if (end == std::string::npos) break;
    at = end + 10;
  }
  return strip(out);
}

std::string gemma4(const std::vector<ChatMessage>& m, const ChatOptions& o) {
  const bool thinking = o.enable_thinking == 1;
  const bool system = !m.empty() && (m[0].role == "system" || m[0].role == "developer");
  std::string out = o.bos_token;
  if (thinking || system) {
    out += "<|turn>system\n";
    if (thinking) out += "<|think|>";
    if (system) out += strip(m[0].content);
    out += "<turn|>\n";
  }
  for (size_t i = system ? 1 : 0; i < m.size(); ++i) {
    const std::string role = m[i].role == "assistant" ? "model" : m[i].role;
    out +=
        "<|turn>" + role + "\n" + (role == "model" ? strip_thinking(m[i].content) : strip(m[i].content)) + "<turn|>\n";
  }
  if (o.add_generation_prompt) {
    out += "<|turn>model\n";
    if (!thinking) out += "<|channel>thought\n<channel|>";
  }
  return out;
}

// Mistral's [INST] family. `spaced`: SentencePiece variants put spaces around the markers.
// The system prompt goes into the first (v1) or last (v3) user turn, or its own block (v7).
std::string mistral(const std::vector<ChatMessage>& m, const ChatOptions& o, char version, bool spaced) {
  const std::vector<ChatMessage> t = turns(m);
  const std::string system = has_system(m) ? m[0].content : "";
  if (version == '7' && !spaced && !has_system(m))
    fail(
        ErrorKind::kUnsupported,
        "mistral-v7-tekken: the template's default system prompt (dated today) is not rendered; pass a system message");
  if (version == '1') check_alternation(t);
  size_t last_user = t.size();
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i].role == "user") last_user = i;
  std::string out = o.bos_token;
  if (version == '7' && has_system(m))
    out += std::string("[SYSTEM_PROMPT]") + (spaced ? " " : "") + system + "[/SYSTEM_PROMPT]";
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].role == "user") {
      const bool with_system = has_system(m) && ((version == '1' && i == 0) || (version == '3' && i == last_user));
      const std::string text = (with_system ? system + "\n\n" : "") + t[i].content;
      if (version == '1')
        out += " [INST] " + text + " [/INST]";
      else
        out += std::string("[INST]") + (spaced ? " " : "") + text + "[/INST]";
    } else if (t[i].role == "assistant") {
      const bool trimmed = version == '3' && spaced;  // only v0.3's template trims replies
      out += (spaced ? " " : "") + (trimmed ? strip(t[i].content) : t[i].content) + o.eos_token;
    } else {
      fail(ErrorKind::kInput,
           "Mistral templates accept only system, user and assistant roles, not '" + t[i].role + "'");
    }
  }
  return out;
}

std::string phi(const std::vector<ChatMessage>& m, const ChatOptions& o, bool newlines) {
  const std::string nl = newlines ? "\n" : "";
  std::string out;
  for (const ChatMessage& msg : m) {
    if (msg.role == "system" && msg.content.empty() && newlines) continue;  // Phi-3.5 drops an empty system turn
    out += "<|" + msg.role + "|>" + nl + msg.content + "<|end|>" + nl;
  }
  out += o.add_generation_prompt ? "<|assistant|>" + nl : o.eos_token;
  return out;
}

}  // namespace

const NameTable<ChatFormat>& chat_format_names() {
  static const NameTable<ChatFormat> t("chat template", {{ChatFormat::kChatml, "chatml"},
                                                         {ChatFormat::kQwen25, "qwen2.5"},
                                                         {ChatFormat::kQwen3, "qwen3"},
                                                         {ChatFormat::kLlama3, "llama3"},
                                                         {ChatFormat::kLlama31, "llama3.1"},
                                                         {ChatFormat::kLlama32, "llama3.2"},
                                                         {ChatFormat::kGemma2, "gemma2"},
                                                         {ChatFormat::kGemma3, "gemma3"},
                                                         {ChatFormat::kGemma4, "gemma4"},
                                                         {ChatFormat::kMistralV1, "mistral-v1"},
                                                         {ChatFormat::kMistralV3, "mistral-v3"},
                                                         {ChatFormat::kMistralV3Tekken, "mistral-v3-tekken"},
                                                         {ChatFormat::kMistralV7, "mistral-v7"},
                                                         {ChatFormat::kMistralV7Tekken, "mistral-v7-tekken"},
                                                         {ChatFormat::kPhi3, "phi3"},
                                                         {ChatFormat::kPhi4Mini, "phi4-mini"}});
  return t;
}

ChatFormat detect_chat_format(const std::string& t) {
  // Most specific markers first.
  if (has(t, "<|turn>")) return ChatFormat::kGemma4;
  if (has(t, "<start_of_turn>")) return has(t, "first_user_prefix") ? ChatFormat::kGemma3 : ChatFormat::kGemma2;
  if (has(t, "<|start_header_id|>")) {
    if (!has(t, "Cutting Knowledge Date")) return ChatFormat::kLlama3;
    return has(t, "strftime_now") ? ChatFormat::kLlama32 : ChatFormat::kLlama31;
  }
  if (has(t, "<|im_start|>") && !has(t, "<|im_sep|>")) {
    if (has(t, "You are Qwen, created by Alibaba Cloud")) return ChatFormat::kQwen25;
    if (has(t, "enable_thinking")) return ChatFormat::kQwen3;
    return ChatFormat::kChatml;
  }
  if (has(t, "[SYSTEM_PROMPT]")) return has(t, "'[INST]' +") ? ChatFormat::kMistralV7Tekken : ChatFormat::kMistralV7;
  if (has(t, "[INST]")) {
    if (has(t, "[AVAILABLE_TOOLS][")) return ChatFormat::kMistralV3Tekken;
    if (has(t, "[AVAILABLE_TOOLS] [")) return ChatFormat::kMistralV3;
    if (has(t, "' [INST] '")) return ChatFormat::kMistralV1;
  }
  if (has(t, "<|end|>") && has(t, "<|/tool|>")) return ChatFormat::kPhi4Mini;
  if (has(t, "<|end|>") && has(t, "<|user|>")) return ChatFormat::kPhi3;
  fail(ErrorKind::kUnsupported,
       "unrecognised chat template; choose one with --chat-template (" + chat_format_names().choices() + ")");
}

std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& m, const ChatOptions& o) {
  switch (f) {
    case ChatFormat::kChatml:
      return chatml(m, o, "");
    case ChatFormat::kQwen25:
      return chatml(m, o, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
    case ChatFormat::kQwen3:
      return qwen3(m, o);
    case ChatFormat::kLlama3:
      return llama3(m, o, "");
    case ChatFormat::kLlama31:
      return llama3(m, o, "26 Jul 2024");
    case ChatFormat::kLlama32:
      return llama3(m, o, o.date.empty() ? today() : o.date);
    case ChatFormat::kGemma2:
      return gemma(m, o, false);
    case ChatFormat::kGemma3:
      return gemma(m, o, true);
    case ChatFormat::kGemma4:
      return gemma4(m, o);
    case ChatFormat::kMistralV1:
      return mistral(m, o, '1', true);
    case ChatFormat::kMistralV3:
      return mistral(m, o, '3', true);
    case ChatFormat::kMistralV3Tekken:
      return mistral(m, o, '3', false);
    case ChatFormat::kMistralV7:
      return mistral(m, o, '7', true);
    case ChatFormat::kMistralV7Tekken:
      return mistral(m, o, '7', false);
    case ChatFormat::kPhi3:
      return phi(m, o, true);
    case ChatFormat::kPhi4Mini:
      return phi(m, o, false);
  }
  BESPOKE_CHECK(false, "unhandled chat format");
}

std::string read_chat_template(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path config = fs::path(dir) / "tokenizer_config.json";
  auto parse = [](const fs::path& p) { return read_json(p.string()); };
  auto from_json = [](const nlohmann::json& t) -> std::string {
    if (t.is_string()) return t.get<std::string>();
    if (t.is_array())
      for (const auto& entry : t)
        if (entry.value("name", "") == "default" && entry.contains("template"))
          return entry["template"].get<std::string>();
    return "";
  };
  if (fs::exists(config)) {
    const nlohmann::json c = parse(config);
    if (c.contains("chat_template")) {
      const std::string t = from_json(c["chat_template"]);
      if (!t.empty()) return t;
    }
  }
  if (fs::exists(fs::path(dir) / "chat_template.jinja")) {
    std::ifstream in(fs::path(dir) / "chat_template.jinja");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (fs::exists(fs::path(dir) / "chat_template.json")) {
    const std::string t =
        from_json(parse(fs::path(dir) / "chat_template.json").value("chat_template", nlohmann::json()));
    if (!t.empty()) return t;
  }
  fail(ErrorKind::kInput,
       dir + ": no chat template (tokenizer_config.json chat_template, chat_template.jinja or .json)");
}

std::string special_token(const std::string& dir, const char* key) {
  std::ifstream in(dir + "/tokenizer_config.json");
  if (!in) return "";
  const nlohmann::json c = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!c.is_object() || !c.contains(key)) return "";
  const auto& v = c[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

}  // namespace bespoke::text
