#include "bespoke/task/encoding/prompt.h"

#include <fstream>
#include <sstream>

#include "bespoke/core/error.h"
#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {

PromptTemplate PromptTemplate::builtin() {
  PromptTemplate t;
  t.system =
      "You are a memory encoder. Each message is one event; you turn it into a JSON record and "
      "nothing else. Never explain, apologise or converse: fill in the JSON fields from the event.";
  t.user =
      "TASK: Turn the observation below into one structured JSON record.\n"
      "\n"
      "RULES:\n"
      "- FAITHFULNESS: state only what the input says. No guesses, no inferences, nothing from "
      "outside knowledge.\n"
      "- PRESERVATION: keep names, numbers, file paths, versions and identifiers exactly as "
      "written.\n"
      "- MINIMALITY: a short input gets a short record. No filler.\n"
      "\n"
      "SCHEMA: {gist, summary, content, narrative, concepts, structured_concepts, significance, "
      "emotional_tone, outcome, salience}\n"
      "- significance: routine | notable | important | critical\n"
      "- emotional_tone: neutral | satisfying | frustrating | exciting | concerning\n"
      "- outcome: success | failure | ongoing | unknown\n"
      "- salience: 0.0-1.0\n"
      "- structured_concepts: {topics: [{label, path}], entities: [{name, type, context}], "
      "actions: [{verb, object, details}], causality: [{relation, description}]}\n"
      "\n"
      "Reply with the JSON object alone.\n"
      "\n"
      "SOURCE: {source}\n"
      "TYPE: {type}\n"
      "CONTENT:\n"
      "{content}\n";
  return t;
}

PromptTemplate PromptTemplate::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::kInput, path + ": cannot read the prompt template");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  PromptTemplate t;
  const size_t split = text.rfind("\n---\n", text.find("{content}"));
  if (text.rfind("---\n", 0) == 0) {
    t.user = text.substr(4);
  } else if (split != std::string::npos) {
    t.system = text.substr(0, split);
    t.user = text.substr(split + 5);
  } else {
    t.user = text;
  }
  if (t.user.find("{content}") == std::string::npos)
    fail(ErrorKind::kInput, path + ": the prompt template has no {content} placeholder");
  return t;
}

std::vector<text::ChatMessage> prompt_messages(const PromptTemplate& t, const std::string& content,
                                               const std::string& source, const std::string& type) {
  // {content} last, so a memory that itself contains "{source}" is left alone.
  std::string user = text::replace_all(text::replace_all(t.user, "{source}", source), "{type}", type);
  user = text::replace_all(user, "{content}", content);
  std::vector<text::ChatMessage> messages;
  if (!t.system.empty()) messages.push_back({"system", t.system});
  messages.push_back({"user", user});
  return messages;
}

}  // namespace bespoke::task::encoding
