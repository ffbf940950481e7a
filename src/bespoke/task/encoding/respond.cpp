#include "bespoke/task/encoding/respond.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "bespoke/core/error.h"
#include "bespoke/core/http.h"
#include "bespoke/task/encoding/decode.h"
#include "bespoke/task/encoding/record.h"
#include "bespoke/text/encoder.h"

namespace bespoke::task::encoding {
namespace {

Json request_body(const ServerOptions& o, std::vector<text::ChatMessage> messages) {
  const bool qwen3 = o.model.find("qwen3") != std::string::npos;
  if (qwen3 && !messages.empty()) messages.back().content += " /no_think";
  Json body = {{"model", o.model}, {"messages", Json::array()}, {"max_tokens", o.max_tokens}};
  for (const auto& m : messages) body["messages"].push_back({{"role", m.role}, {"content", m.content}});
  if (o.temperature != 0) body["temperature"] = o.temperature;
  body["response_format"] = {
      {"type", "json_schema"},
      {"json_schema", {{"name", "encoding_response"}, {"strict", true}, {"schema", json_schema()}}}};
  if (qwen3) body["reasoning_effort"] = "none";
  return body;
}

std::string excerpt(const std::string& s) {
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

}  // namespace

Respond server_responder(const ServerOptions& options) {
  const std::string base = options.url.back() == '/' ? options.url.substr(0, options.url.size() - 1) : options.url;
  const HttpResponse health = http_request("GET", base + "/models", "", options.api_key, 10);
  if (health.status != 200)
    fail(ErrorKind::kIo,
         base + "/models answered " + std::to_string(health.status) + ": not an OpenAI-compatible server");
  return [options, base](const std::vector<text::ChatMessage>& messages) {
    const std::string body = request_body(options, messages).dump();
    for (int attempt = 0;; ++attempt) {
      HttpResponse r;
      try {
        r = http_request("POST", base + "/chat/completions", body, options.api_key, options.timeout_seconds);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::kIo || attempt == 3) throw;
        std::this_thread::sleep_for(std::chrono::seconds(1 << attempt));
        continue;
      }
      if (r.status >= 500 && attempt < 3) {
        std::this_thread::sleep_for(std::chrono::seconds(1 << attempt));
        continue;
      }
      if (r.status != 200)
        fail(ErrorKind::kIo, base + "/chat/completions answered " + std::to_string(r.status) + ": " + excerpt(r.body));
      const Json reply = Json::parse(r.body, nullptr, false);
      if (reply.is_discarded() || !reply.contains("choices") || !reply["choices"].is_array() ||
          reply["choices"].empty())
        fail(ErrorKind::kIo, base + "/chat/completions: a reply without choices: " + excerpt(r.body));
      const Json message = reply["choices"][0].value("message", Json::object());
      const Json content = message.value("content", Json());
      return content.is_string() ? content.get<std::string>() : std::string();
    }
  };
}

std::vector<int32_t> turn_stop_ids(const text::Encoder& encoder) {
  std::vector<int32_t> stop;
  if (encoder.eos_id >= 0) stop.push_back(encoder.eos_id);
  text::ChatFormat format;
  try {
    format = encoder.chat_format();
  } catch (const Error&) {
    return stop;  // no template: plain completions end at EOS
  }
  // What the template writes after a reply, if it is a special token: one that vanishes when
  // special tokens are skipped.
  const std::vector<text::ChatMessage> probe = {{"user", "u"}, {"assistant", "a"}};
  text::ChatOptions opened = encoder.options;
  opened.add_generation_prompt = true;
  const std::string before = text::render_chat(format, {probe[0]}, opened) + "a";
  const std::string full = text::render_chat(format, probe, encoder.options);
  if (full.size() > before.size() && full.compare(0, before.size(), before) == 0) {
    const std::vector<int32_t> closing = encoder.tokenizer->encode(full.substr(before.size()), false);
    if (!closing.empty() && encoder.tokenizer->decode({closing.front()}, /*skip_special=*/true).empty() &&
        std::find(stop.begin(), stop.end(), closing.front()) == stop.end())
      stop.push_back(closing.front());
  }
  return stop;
}

Respond local_responder(const LocalOptions& options) {
  auto net = std::make_shared<model::Transformer>(model::load_model(options.model_dir, options.load));
  auto encoder = std::make_shared<text::Encoder>(options.model_dir);
  if (!encoder->tokenizer) fail(ErrorKind::kInput, options.model_dir + ": no tokenizer to evaluate with");
  const text::ChatFormat format = encoder->chat_format();
  text::ChatOptions opened = encoder->options;
  opened.add_generation_prompt = true;
  const std::vector<int32_t> stop = turn_stop_ids(*encoder);
  DecodeOptions decode;
  decode.max_new_tokens = options.max_new_tokens;
  decode.constrained = options.constrained;
  return [net, encoder, format, stop, decode, opened](const std::vector<text::ChatMessage>& messages) {
    const std::string prompt = text::render_chat(format, messages, opened);
    return generate_text(*net, *encoder->tokenizer, encoder->tokenizer->encode(prompt, false), stop, decode);
  };
}

}  // namespace bespoke::task::encoding
