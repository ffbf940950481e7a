// bespoke chat-format MODEL_DIR --messages FILE.json [--add-generation-prompt]
//                     [--chat-template NAME] [--no-thinking]
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/text/chat_template.h"
#include "bespoke/text/tokenizer.h"
#include "commands.h"

namespace bespoke::cli {

struct ChatFormatOptions {
  std::string model, messages, chat_template;
  bool add_generation_prompt = false;
  bool no_thinking = false;
};

namespace {

// A JSON array of {"role", "content"}, or an object with such a "messages" array.
std::vector<text::ChatMessage> read_messages(const std::string& path) {
  nlohmann::json j = read_json(path);
  if (j.is_object() && j.contains("messages")) j = j["messages"];
  if (!j.is_array()) fail(ErrorKind::kInput, path + ": expected an array of {\"role\", \"content\"} messages");
  std::vector<text::ChatMessage> out;
  for (const auto& m : j) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string())
      fail(ErrorKind::kInput, path + ": every message needs string \"role\" and \"content\"");
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return out;
}

}  // namespace

void add_chat_format(CLI::App& app) {
  auto opt = std::make_shared<ChatFormatOptions>();
  CLI::App* cmd = app.add_subcommand("chat-format", "Print a conversation rendered with the model's chat template");
  cmd->add_option("MODEL_DIR", opt->model, "model or tokenizer directory")->required();
  cmd->add_option("--messages", opt->messages, "JSON file: [{\"role\": ..., \"content\": ...}, ...]")->required();
  cmd->add_flag("--add-generation-prompt", opt->add_generation_prompt, "end with the assistant turn's opening");
  cmd->add_option("--chat-template", opt->chat_template,
                  "format to use instead of recognising the template: " + text::chat_format_names().choices());
  cmd->add_flag("--no-thinking", opt->no_thinking, "pass enable_thinking=false (Qwen 3, Gemma 4)");
  cmd->callback([opt] {
    const text::ChatFormat format = opt->chat_template.empty()
                                        ? text::detect_chat_format(text::read_chat_template(opt->model))
                                        : text::chat_format_names().parse(opt->chat_template);
    text::ChatOptions options;
    options.add_generation_prompt = opt->add_generation_prompt;
    if (opt->no_thinking) options.enable_thinking = 0;
    options.bos_token = text::special_token(opt->model, "bos_token");
    options.eos_token = text::special_token(opt->model, "eos_token");
    std::cout << text::render_chat(format, read_messages(opt->messages), options);
  });
}

}  // namespace bespoke::cli
