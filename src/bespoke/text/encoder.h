// A model directory's way of turning one JSON record into tokens with a loss mask: its
// tokenizer, its chat template's format and its special tokens. Training reads its data
// through it; a server encodes a request's messages the same way.
//
// Record shapes (one JSON object):
//   {"messages": [{"role", "content"}, ...]}  chat, rendered with the model's chat template;
//                                             loss on the last assistant message only
//   {"prompt": "...", "completion": "..."}    loss on the completion (and the EOS after it)
//   {"text": "..."}                           loss on every token
//   {"ids": [1, 2, ...]}                      pre-tokenized; loss on every token
// Each may carry "domain": a name for dynamic data mixing (default "default").
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bespoke/text/chat_template.h"
#include "bespoke/text/tokenizer.h"

namespace bespoke::text {

struct Example {
  std::vector<int32_t> ids;
  std::vector<uint8_t> trained;  // per token: 1 if predicting this token is trained
  std::string domain = "default";
};

// How a model directory turns records into tokens.
class Encoder {
 public:
  // `chat_template`: a format name (chat_format_names()) to use instead of recognising
  // the model's template.
  explicit Encoder(const std::string& model_dir, const std::string& chat_template = "");
  Example encode(const nlohmann::json& record) const;
  // The chat format. A model without a template, or with one Bespoke does not recognise, still
  // encodes text and ids records: only this throws, naming the problem.
  ChatFormat chat_format() const;

  std::unique_ptr<Tokenizer> tokenizer;  // null for a directory without one (ids records only)
  // bos/eos text for the template, and a fixed date for templates that print today's: the same
  // data must make the same tokens on any day (a resume and a teacher file compare them).
  ChatOptions options;
  int32_t eos_id = -1;

 private:
  std::optional<ChatFormat> format_;
  std::string no_format_;  // why there is none
};

}  // namespace bespoke::text
