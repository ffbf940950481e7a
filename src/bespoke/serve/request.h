// The OpenAI-compatible requests `bespoke serve` answers, read and checked before any work:
// unknown fields are ignored (clients send many), known fields of the wrong type or out of
// range are a 400 with OpenAI's error object, naming the field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bespoke/text/chat_template.h"

namespace bespoke::serve {

using Json = nlohmann::ordered_json;

// A request the client got wrong (4xx), or one the server cannot answer (5xx).
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message, const std::string& param = "",
           const std::string& code = "invalid_request_error")
      : std::runtime_error(message), status(status), param(param), code(code) {}
  int status;
  std::string param, code;
};

// {"error": {"message", "type", "param", "code"}} as OpenAI writes it.
Json error_body(const ApiError& e);

struct Sampling {
  double temperature = 0;  // 0, or absent: greedy (the daemon leaves it out)
  double top_p = 1;
  int64_t top_k = 0;       // 0: all tokens
  std::optional<uint64_t> seed;
  int64_t max_tokens = 0;  // 0: up to the context window
  std::vector<std::string> stop;
};

enum class Format { kText, kJsonObject, kJsonSchema };

struct ResponseFormat {
  Format kind = Format::kText;
  std::string name;  // json_schema.name
  bool strict = false;
  Json schema;       // json_schema.schema
};

struct ChatRequest {
  std::string model;
  std::vector<text::ChatMessage> messages;
  Sampling sampling;
  ResponseFormat format;
  bool stream = false, include_usage = false;
  int enable_thinking = -1;  // chat_template_kwargs.enable_thinking, or reasoning_effort "none": 0
};

struct CompletionRequest {
  std::string model, prompt;
  Sampling sampling;
  bool stream = false, include_usage = false;
};

struct EmbeddingRequest {
  std::string model;
  std::vector<std::string> inputs;
  bool base64 = false;  // encoding_format "base64": little-endian float32, as the openai package asks by default
};

// Each throws ApiError(400) naming the field for a body that is not a JSON object, a missing
// required field, a field of the wrong type, or an impossible value (n > 1, temperature
// outside [0, 2], top_p outside (0, 1], more than 4 stop strings, a role other than system,
// user or assistant, content parts other than text).
ChatRequest parse_chat_request(const std::string& body);
CompletionRequest parse_completion_request(const std::string& body);
EmbeddingRequest parse_embedding_request(const std::string& body);

}  // namespace bespoke::serve
