#include "bespoke/text/encoder.h"

#include <filesystem>
#include <limits>

#include "bespoke/core/error.h"
#include "bespoke/io/gguf_reader.h"
#include "bespoke/text/gguf_tokenizer.h"

namespace bespoke::text {
namespace {

void append(Example& e, const std::vector<int32_t>& ids, bool trained) {
  e.ids.insert(e.ids.end(), ids.begin(), ids.end());
  e.trained.insert(e.trained.end(), ids.size(), trained ? 1 : 0);
}

std::string string_field(const nlohmann::json& record, const char* key) {
  if (!record[key].is_string()) fail(ErrorKind::kInput, std::string("\"") + key + "\" is not a string");
  return record[key].get<std::string>();
}

// What a model path gives an Encoder: its tokenizer (null where it has none), the text of its
// BOS and EOS tokens, and its chat template ("" where it has none).
struct ModelText {
  std::unique_ptr<Tokenizer> tokenizer;
  std::string bos_token, eos_token, chat_template;
};

// A GGUF file carries all of it in its metadata.
ModelText read_gguf(const std::string& path) {
  const io::GgufFile file(path);
  ModelText m;
  if (!file.metadata().contains("tokenizer.ggml.model")) return m;
  m.tokenizer = load_gguf_tokenizer(file);
  GgufChat chat = read_gguf_chat(file);
  m.bos_token = std::move(chat.bos_token);
  m.eos_token = std::move(chat.eos_token);
  m.chat_template = std::move(chat.chat_template);
  return m;
}

// A model directory's tokenizer files, and its chat template only `with_template`: reading one that
// is not there throws, and a chosen format needs none.
ModelText read_dir(const std::string& dir, bool with_template) {
  namespace fs = std::filesystem;
  ModelText m;
  if (!fs::exists(fs::path(dir) / "tokenizer.json") && !fs::exists(fs::path(dir) / "tokenizer.model")) return m;
  m.tokenizer = load_tokenizer(dir);
  m.bos_token = special_token(dir, "bos_token");
  m.eos_token = special_token(dir, "eos_token");
  if (with_template) m.chat_template = read_chat_template(dir);
  return m;
}

}  // namespace

Encoder::Encoder(const std::string& model_path, const std::string& chat_template) {
  if (!chat_template.empty()) format_ = chat_format_names().parse(chat_template);
  ModelText m = is_gguf_path(model_path) ? read_gguf(model_path) : read_dir(model_path, !format_);
  if (!m.tokenizer) {
    no_format_ = model_path + " has no tokenizer";
    return;
  }
  tokenizer = std::move(m.tokenizer);
  options.bos_token = std::move(m.bos_token);
  options.eos_token = std::move(m.eos_token);
  options.date = "26 Jul 2024";  // what Llama's templates print when no clock is given
  eos_id = options.eos_token.empty() ? -1 : tokenizer->token_id(options.eos_token);
  if (format_) return;
  if (m.chat_template.empty()) {
    no_format_ = model_path + " has no chat template: chat records need one (or --chat-template NAME)";
    return;
  }
  try {
    format_ = detect_chat_format(m.chat_template);
  } catch (const Error& e) {
    no_format_ = model_path + ": " + e.what();
  }
}

ChatFormat Encoder::chat_format() const {
  if (!format_) fail(ErrorKind::kInput, no_format_);
  return *format_;
}

Example Encoder::encode(const nlohmann::json& record) const {
  if (!record.is_object()) fail(ErrorKind::kInput, "a record must be a JSON object");
  Example e;
  if (record.contains("domain")) e.domain = string_field(record, "domain");
  if (record.contains("ids")) {
    if (!record["ids"].is_array()) fail(ErrorKind::kInput, "\"ids\" is not an array");
    std::vector<int32_t> ids;
    for (const auto& id : record["ids"]) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > std::numeric_limits<int32_t>::max())
        fail(ErrorKind::kInput, "\"ids\" holds a value that is not a token id");
      ids.push_back(id.get<int32_t>());
    }
    append(e, ids, true);
    return e;
  }
  if (!tokenizer) fail(ErrorKind::kInput, "text records need a model directory with a tokenizer");
  if (record.contains("messages")) {
    const ChatFormat format = chat_format();
    std::vector<ChatMessage> messages;
    for (const auto& m : record["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
          !m["content"].is_string())
        fail(ErrorKind::kInput, "every message needs string \"role\" and \"content\"");
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    if (messages.empty() || messages.back().role != "assistant")
      fail(ErrorKind::kInput, "a chat record must end with an assistant message");
    // The prompt is everything before the last reply, ending in the assistant turn's opening;
    // the trained part is what the full conversation adds to it.
    ChatOptions prompt_options = options;
    prompt_options.add_generation_prompt = true;
    const std::vector<ChatMessage> prompt(messages.begin(), messages.end() - 1);
    const std::string before = render_chat(format, prompt, prompt_options);
    const std::string full = render_chat(format, messages, options);
    if (full.compare(0, before.size(), before) != 0)
      fail(ErrorKind::kInput, "the chat template renders the prompt differently inside the full conversation");
    append(e, tokenizer->encode(before, false), false);
    append(e, tokenizer->encode(full.substr(before.size()), false), true);
  } else if (record.contains("prompt") && record.contains("completion")) {
    append(e, tokenizer->encode(string_field(record, "prompt"), true), false);
    append(e, tokenizer->encode(string_field(record, "completion"), false), true);
    if (eos_id >= 0) append(e, {eos_id}, true);
  } else if (record.contains("text")) {
    append(e, tokenizer->encode(string_field(record, "text"), true), true);
  } else {
    fail(ErrorKind::kInput, "a record needs \"messages\", \"prompt\" and \"completion\", \"text\" or \"ids\"");
  }
  return e;
}

}  // namespace bespoke::text
