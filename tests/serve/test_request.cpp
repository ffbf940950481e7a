// OpenAI request bodies: the daemon's encoding request reads as sent (temperature left out:
// greedy; the strict json_schema kept whole); unknown fields are ignored; wrong types, missing
// fields and impossible values are a 400 naming the field, with OpenAI's error object.
#include <gtest/gtest.h>

#include "bespoke/serve/request.h"
#include "bespoke/task/encoding/record.h"

namespace bespoke {
namespace {

using serve::ApiError;
using serve::Json;

// The field a body is refused for, "" when it is accepted.
std::string refused_param(const std::string& body) {
  try {
    serve::parse_chat_request(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    const Json err = serve::error_body(e)["error"];
    EXPECT_EQ(err["type"], "invalid_request_error");
    EXPECT_TRUE(err["message"].is_string());
    return err["param"].is_string() ? err["param"].get<std::string>() : std::string("(none)");
  }
  return "";
}

TEST(ServeRequest, TheDaemonsEncodingRequestReadsAsSent) {
  const Json body = {{"model", "bespoke"},
                     {"messages", {{{"role", "system"}, {"content", "Encode."}}, {{"role", "user"}, {"content", "raw"}}}},
                     {"max_tokens", 2048},
                     {"response_format",
                      {{"type", "json_schema"},
                       {"json_schema",
                        {{"name", "encoding_response"}, {"strict", true}, {"schema", task::encoding::json_schema()}}}}},
                     {"some_future_field", {1, 2}}};
  const serve::ChatRequest r = serve::parse_chat_request(body.dump());
  EXPECT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].content, "raw");
  EXPECT_EQ(r.sampling.temperature, 0);  // omitted: greedy
  EXPECT_EQ(r.sampling.max_tokens, 2048);
  EXPECT_EQ(r.format.kind, serve::Format::kJsonSchema);
  EXPECT_EQ(r.format.name, "encoding_response");
  EXPECT_TRUE(r.format.strict);
  EXPECT_EQ(r.format.schema, task::encoding::json_schema());
  EXPECT_FALSE(r.stream);
}

TEST(ServeRequest, OptionalFieldsAndTheirAliases) {
  const serve::ChatRequest r = serve::parse_chat_request(
      R"({"messages": [{"role": "developer", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                       {"role": "user", "content": "hi"}],
          "max_completion_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 40, "seed": 3, "stop": ["\n\n"],
          "stream": true, "stream_options": {"include_usage": true}, "n": 1, "reasoning_effort": "none",
          "response_format": {"type": "json_object"}, "temperature_unit": "ignored"})");
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[0].content, "ab");
  EXPECT_EQ(r.sampling.max_tokens, 7);
  EXPECT_EQ(r.sampling.temperature, 0.5);
  EXPECT_EQ(r.sampling.top_k, 40);
  EXPECT_EQ(*r.sampling.seed, 3u);
  EXPECT_EQ(r.sampling.stop, std::vector<std::string>{"\n\n"});
  EXPECT_TRUE(r.stream && r.include_usage);
  EXPECT_EQ(r.enable_thinking, 0);
  EXPECT_EQ(r.format.kind, serve::Format::kJsonObject);
  const serve::ChatRequest k = serve::parse_chat_request(
      R"({"messages": [{"role": "user", "content": "x"}], "chat_template_kwargs": {"enable_thinking": true}, "temperature": null})");
  EXPECT_EQ(k.enable_thinking, 1);
  EXPECT_EQ(k.sampling.temperature, 0);
}

TEST(ServeRequest, BadBodiesNameTheField) {
  const std::string user = R"("messages": [{"role": "user", "content": "x"}])";
  EXPECT_EQ(refused_param("not json"), "(none)");
  EXPECT_EQ(refused_param("[1]"), "(none)");
  EXPECT_EQ(refused_param("{}"), "messages");
  EXPECT_EQ(refused_param(R"({"messages": []})"), "messages");
  EXPECT_EQ(refused_param(R"({"messages": [{"role": "tool", "content": "x"}]})"), "messages[0].role");
  EXPECT_EQ(refused_param(R"({"messages": [{"role": "user", "content": 5}]})"), "messages[0].content");
  EXPECT_EQ(refused_param(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"),
            "messages[0].content");
  EXPECT_EQ(refused_param("{" + user + R"(, "max_tokens": "10"})"), "max_tokens");
  EXPECT_EQ(refused_param("{" + user + R"(, "max_tokens": 0})"), "max_tokens");
  EXPECT_EQ(refused_param("{" + user + R"(, "temperature": 3})"), "temperature");
  EXPECT_EQ(refused_param("{" + user + R"(, "top_p": 0})"), "top_p");
  EXPECT_EQ(refused_param("{" + user + R"(, "n": 2})"), "n");
  EXPECT_EQ(refused_param("{" + user + R"(, "stop": ["a", "b", "c", "d", "e"]})"), "stop");
  EXPECT_EQ(refused_param("{" + user + R"(, "stream": "yes"})"), "stream");
  EXPECT_EQ(refused_param("{" + user + R"(, "response_format": {"type": "xml"}})"), "response_format.type");
  EXPECT_EQ(refused_param("{" + user + R"(, "response_format": {"type": "json_schema"}})"),
            "response_format.json_schema");
  EXPECT_EQ(refused_param("{" + user + R"(, "reasoning_effort": "max"})"), "reasoning_effort");
  EXPECT_EQ(refused_param("{" + user + "}"), "");
}

TEST(ServeRequest, CompletionsAndEmbeddings) {
  EXPECT_EQ(serve::parse_completion_request(R"({"prompt": ["once"], "max_tokens": 3})").prompt, "once");
  EXPECT_THROW(serve::parse_completion_request(R"({"prompt": [1, 2]})"), ApiError);
  const serve::EmbeddingRequest e = serve::parse_embedding_request(R"({"input": ["a", "b"], "encoding_format": "base64"})");
  EXPECT_EQ(e.inputs.size(), 2u);
  EXPECT_TRUE(e.base64);
  EXPECT_THROW(serve::parse_embedding_request(R"({"input": [[1, 2]]})"), ApiError);
  EXPECT_THROW(serve::parse_embedding_request(R"({"input": ""})"), ApiError);
}

TEST(ServeRequest, ErrorBodiesHaveOpenAisShape) {
  const Json e = serve::error_body(ApiError(401, "no key", "", "invalid_api_key"));
  EXPECT_EQ(e["error"]["type"], "authentication_error");
  EXPECT_EQ(e["error"]["code"], "invalid_api_key");
  EXPECT_TRUE(e["error"]["param"].is_null());
  EXPECT_EQ(e["error"]["message"], "no key");
}

}  // namespace
}  // namespace bespoke
