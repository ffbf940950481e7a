// Where the outputs under evaluation come from: a model run in-process (greedy, KV cache,
// optionally schema-constrained), or any OpenAI-compatible server called as mnemonic's daemon
// calls it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bespoke/model/load.h"
#include "bespoke/text/chat_template.h"
#include "bespoke/text/encoder.h"

namespace bespoke::task::encoding {

// The raw text a model answers to a conversation.
using Respond = std::function<std::string(const std::vector<text::ChatMessage>&)>;

struct ServerOptions {
  std::string url;  // the API base, e.g. http://localhost:8899/v1
  std::string model = "bespoke";
  int64_t max_tokens = 2048;
  double temperature = 0;  // 0 is left out of the request, as the daemon leaves it out
  std::string api_key;
  int timeout_seconds = 120;
};

// POST {url}/chat/completions with the daemon's request: messages, max_tokens, the record's JSON
// schema as response_format, and for qwen3 models " /no_think" plus reasoning_effort "none".
// Connection errors and 5xx replies are retried 3 times (1 s, 2 s, 4 s). Checks GET {url}/models
// first; throws Error(kIo) naming the URL if the server does not answer.
Respond server_responder(const ServerOptions& options);

struct LocalOptions {
  std::string model_dir;
  int64_t max_new_tokens = 2048;
  bool constrained = false;  // decode through the record's grammar
  model::LoadOptions load;
};

// The tokens that end a reply: EOS, and the special token the chat template writes after an
// assistant turn (Gemma's <end_of_turn>, ChatML's <|im_end|>); EOS alone without a template.
std::vector<int32_t> turn_stop_ids(const text::Encoder& encoder);

// The model's chat template renders the conversation with the generation prompt; decoding
// stops at EOS or at the token that closes an assistant turn.
Respond local_responder(const LocalOptions& options);

}  // namespace bespoke::task::encoding
