// Chat formats: a conversation rendered exactly as the model's Jinja chat template renders it
// under transformers' apply_chat_template, for the template families Bespoke recognises.
// Each format is a native renderer; `detect_chat_format` picks one from the template text.
#pragma once

#include <string>
#include <vector>

#include "bespoke/core/name_table.h"

namespace bespoke::text {

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

enum class ChatFormat {
  kChatml,           // <|im_start|>role ... <|im_end|>
  kQwen25,           // ChatML with Qwen 2.5's default system prompt
  kQwen3,            // ChatML with <think> handling and enable_thinking
  kLlama3,           // <|start_header_id|>role<|end_header_id|>
  kLlama31,          // + "Cutting Knowledge Date" system block, date 26 Jul 2024
  kLlama32,          // + the same block dated today
  kGemma2,           // <start_of_turn>; no system role
  kGemma3,           // <start_of_turn>; system folded into the first user turn
  kGemma4,           // <|turn>role ... <turn|>, thought channel
  kMistralV1,        // <s> [INST] ... [/INST] (system in the first user turn)
  kMistralV3,        // <s>[INST] ...[/INST] (system in the last user turn)
  kMistralV3Tekken,  // the same without spaces (Nemo)
  kMistralV7,        // [SYSTEM_PROMPT] ... [/SYSTEM_PROMPT] (Large 2411)
  kMistralV7Tekken,  // the same without spaces (Small 3.x)
  kPhi3,             // <|role|>\n ... <|end|>\n
  kPhi4Mini,         // <|role|> ... <|end|>, no newlines
};

// Names for --chat-template: chatml, qwen2.5, qwen3, llama3, llama3.1, llama3.2, gemma2, gemma3,
// gemma4, mistral-v1, mistral-v3, mistral-v3-tekken, mistral-v7, mistral-v7-tekken, phi3,
// phi4-mini.
const NameTable<ChatFormat>& chat_format_names();

// Recognises a Jinja chat template. Throws Error(kUnsupported) naming --chat-template when
// no format matches.
ChatFormat detect_chat_format(const std::string& jinja);

struct ChatOptions {
  bool add_generation_prompt = false;
  int enable_thinking = -1;  // -1: not passed (the template's default), 0: false, 1: true
  std::string bos_token;     // the tokenizer's, as the template sees them
  std::string eos_token;
  std::string date;  // Llama 3.2's "Today Date" ("26 Jul 2024"); empty: today
};

// Throws Error(kInput) where the template would raise (e.g. Gemma 2 with a system message,
// roles that do not alternate).
std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, const ChatOptions& options);

// The template of a model or tokenizer directory: tokenizer_config.json's `chat_template`
// (a string, or the entry named "default" of a list), else chat_template.jinja, else
// chat_template.json. Throws Error(kInput) if there is none.
std::string read_chat_template(const std::string& dir);

// The text of a special token named in `<dir>/tokenizer_config.json` ("bos_token": "<s>" or
// {"content": "<s>"}), or "" if it names none.
std::string special_token(const std::string& dir, const char* key);

}  // namespace bespoke::text
