// The prompt the daemon sends for one raw memory: a fixed system message and a user message
// with the task, three rules (faithfulness, preservation, minimality), the schema, and then
// SOURCE / TYPE / CONTENT. Users who need their exact wording supply a template file.
#pragma once

#include <string>
#include <vector>

#include "bespoke/text/chat_template.h"

namespace bespoke::task::encoding {

struct PromptTemplate {
  std::string system;
  // The user message with {source}, {type} and {content} where the memory's fields go.
  std::string user;

  // Bespoke's own wording of the daemon's "faithful" prompt.
  static PromptTemplate builtin();
  // A template file: the user message, optionally preceded by the system message and a line
  // holding only "---". Throws Error(kInput) if the file cannot be read or lacks {content}.
  static PromptTemplate from_file(const std::string& path);
};

// The system and user messages for one memory.
std::vector<text::ChatMessage> prompt_messages(const PromptTemplate& t, const std::string& content,
                                               const std::string& source = "mcp", const std::string& type = "general");

}  // namespace bespoke::task::encoding
