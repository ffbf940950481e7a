#include "bespoke/serve/request.h"

#include <cmath>

namespace bespoke::serve {
namespace {

[[noreturn]] void bad(const std::string& param, const std::string& why) {
  throw ApiError(400, param.empty() ? why : "'" + param + "' " + why, param);
}

Json parse_body(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) bad("", "the request body is not valid JSON");
  if (!j.is_object()) bad("", "the request body must be a JSON object");
  return j;
}

// The field, or nullptr when absent or null (clients send null for "not set").
const Json* field(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string string_field(const Json& j, const char* key, const std::string& fallback = "") {
  const Json* v = field(j, key);
  if (!v) return fallback;
  if (!v->is_string()) bad(key, "must be a string");
  return v->get<std::string>();
}

bool bool_field(const Json& j, const char* key, bool fallback) {
  const Json* v = field(j, key);
  if (!v) return fallback;
  if (!v->is_boolean()) bad(key, "must be a boolean");
  return v->get<bool>();
}

std::optional<double> number_field(const Json& j, const char* key) {
  const Json* v = field(j, key);
  if (!v) return std::nullopt;
  if (!v->is_number() || !std::isfinite(v->get<double>())) bad(key, "must be a number");
  return v->get<double>();
}

std::optional<int64_t> integer_field(const Json& j, const char* key) {
  const Json* v = field(j, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) bad(key, "must be an integer");
  return v->get<int64_t>();
}

Sampling read_sampling(const Json& j) {
  Sampling s;
  if (const auto t = number_field(j, "temperature")) {
    if (*t < 0 || *t > 2) bad("temperature", "must be between 0 and 2");
    s.temperature = *t;
  }
  if (const auto p = number_field(j, "top_p")) {
    if (!(*p > 0) || *p > 1) bad("top_p", "must be in (0, 1]");
    s.top_p = *p;
  }
  if (const auto k = integer_field(j, "top_k")) {
    if (*k < 0) bad("top_k", "must not be negative");
    s.top_k = *k;
  }
  if (const auto seed = integer_field(j, "seed")) s.seed = static_cast<uint64_t>(*seed);
  for (const char* key : {"max_completion_tokens", "max_tokens"})
    if (const auto m = integer_field(j, key)) {
      if (*m < 1) bad(key, "must be at least 1");
      if (s.max_tokens == 0) s.max_tokens = *m;
    }
  if (const auto n = integer_field(j, "n"); n && *n != 1) bad("n", "must be 1: one choice per request");
  if (const Json* stop = field(j, "stop")) {
    if (stop->is_string()) {
      s.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      for (const Json& one : *stop) {
        if (!one.is_string()) bad("stop", "must be a string or an array of strings");
        s.stop.push_back(one.get<std::string>());
      }
    } else {
      bad("stop", "must be a string or an array of strings");
    }
    if (s.stop.size() > 4) bad("stop", "takes at most 4 sequences");
    for (const std::string& one : s.stop)
      if (one.empty()) bad("stop", "must not hold an empty string");
  }
  return s;
}

bool include_usage(const Json& j) {
  const Json* o = field(j, "stream_options");
  if (!o) return false;
  if (!o->is_object()) bad("stream_options", "must be an object");
  return bool_field(*o, "include_usage", false);
}

// A message's content: a string, or an array of text parts joined.
std::string content_of(const Json& m, size_t i) {
  const std::string where = "messages[" + std::to_string(i) + "].content";
  const Json* c = field(m, "content");
  if (!c) return "";  // an assistant turn with tool calls only; nothing to render
  if (c->is_string()) return c->get<std::string>();
  if (!c->is_array()) bad(where, "must be a string or an array of content parts");
  std::string text;
  for (const Json& part : *c) {
    if (!part.is_object() || string_field(part, "type") != "text")
      bad(where, "parts must be {\"type\": \"text\", \"text\": ...}: this model reads text only");
    text += string_field(part, "text");
  }
  return text;
}

ResponseFormat read_format(const Json& j) {
  ResponseFormat f;
  const Json* r = field(j, "response_format");
  if (!r) return f;
  if (!r->is_object()) bad("response_format", "must be an object");
  const std::string type = string_field(*r, "type", "text");
  if (type == "text") return f;
  if (type == "json_object") {
    f.kind = Format::kJsonObject;
    return f;
  }
  if (type != "json_schema") bad("response_format.type", "must be text, json_object or json_schema");
  const Json* s = field(*r, "json_schema");
  if (!s || !s->is_object()) bad("response_format.json_schema", "must be an object with the schema");
  f.kind = Format::kJsonSchema;
  f.name = string_field(*s, "name");
  f.strict = bool_field(*s, "strict", false);
  const Json* schema = field(*s, "schema");
  if (!schema || !(schema->is_object() || schema->is_boolean()))
    bad("response_format.json_schema.schema", "must be a JSON schema (an object)");
  f.schema = *schema;
  return f;
}

}  // namespace

Json error_body(const ApiError& e) {
  const char* type = e.status == 401 ? "authentication_error"
                     : e.status >= 500 ? "server_error"
                                       : "invalid_request_error";
  return {{"error",
           {{"message", e.what()},
            {"type", type},
            {"param", e.param.empty() ? Json(nullptr) : Json(e.param)},
            {"code", e.code.empty() ? Json(nullptr) : Json(e.code)}}}};
}

ChatRequest parse_chat_request(const std::string& body) {
  const Json j = parse_body(body);
  ChatRequest r;
  r.model = string_field(j, "model");
  const Json* messages = field(j, "messages");
  if (!messages) bad("messages", "is required");
  if (!messages->is_array() || messages->empty()) bad("messages", "must be a non-empty array");
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    if (!m.is_object()) bad("messages[" + std::to_string(i) + "]", "must be an object");
    std::string role = string_field(m, "role");
    if (role == "developer") role = "system";  // OpenAI's newer name for it
    if (role != "system" && role != "user" && role != "assistant")
      bad("messages[" + std::to_string(i) + "].role", "must be system, user or assistant, not \"" + role + "\"");
    r.messages.push_back({role, content_of(m, i)});
  }
  r.sampling = read_sampling(j);
  r.format = read_format(j);
  r.stream = bool_field(j, "stream", false);
  r.include_usage = include_usage(j);
  if (const Json* kw = field(j, "chat_template_kwargs")) {
    if (!kw->is_object()) bad("chat_template_kwargs", "must be an object");
    if (field(*kw, "enable_thinking")) r.enable_thinking = bool_field(*kw, "enable_thinking", true) ? 1 : 0;
  }
  const std::string effort = string_field(j, "reasoning_effort");
  if (!effort.empty() && effort != "none" && effort != "minimal" && effort != "low" && effort != "medium" &&
      effort != "high")
    bad("reasoning_effort", "must be none, minimal, low, medium or high");
  if (effort == "none" && r.enable_thinking < 0) r.enable_thinking = 0;
  return r;
}

CompletionRequest parse_completion_request(const std::string& body) {
  const Json j = parse_body(body);
  CompletionRequest r;
  r.model = string_field(j, "model");
  const Json* prompt = field(j, "prompt");
  if (!prompt) bad("prompt", "is required");
  if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string())
    r.prompt = (*prompt)[0].get<std::string>();
  else if (prompt->is_string())
    r.prompt = prompt->get<std::string>();
  else
    bad("prompt", "must be a string (or an array of one string)");
  r.sampling = read_sampling(j);
  r.stream = bool_field(j, "stream", false);
  r.include_usage = include_usage(j);
  return r;
}

EmbeddingRequest parse_embedding_request(const std::string& body) {
  const Json j = parse_body(body);
  EmbeddingRequest r;
  r.model = string_field(j, "model");
  const Json* input = field(j, "input");
  if (!input) bad("input", "is required");
  if (input->is_string()) {
    r.inputs.push_back(input->get<std::string>());
  } else if (input->is_array() && !input->empty()) {
    for (const Json& one : *input) {
      if (!one.is_string()) bad("input", "must be a string or an array of strings");
      r.inputs.push_back(one.get<std::string>());
    }
  } else {
    bad("input", "must be a string or a non-empty array of strings");
  }
  for (const std::string& one : r.inputs)
    if (one.empty()) bad("input", "must not hold an empty string");
  const std::string encoding = string_field(j, "encoding_format", "float");
  if (encoding != "float" && encoding != "base64") bad("encoding_format", "must be float or base64");
  r.base64 = encoding == "base64";
  return r;
}

}  // namespace bespoke::serve
