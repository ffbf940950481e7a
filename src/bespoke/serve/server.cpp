#include "bespoke/serve/server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include "bespoke/core/error.h"
#include "bespoke/model/generate.h"
#include "bespoke/serve/batch.h"
#include "bespoke/serve/generation.h"
#include "bespoke/serve/request.h"

namespace bespoke::serve {
namespace {

using Clock = std::chrono::steady_clock;

void log(const std::string& line) {
  std::cerr << "[serve] " << line << "\n" << std::flush;
}

std::string request_id(const char* prefix) {
  static std::atomic<uint64_t> next{1};
  char id[64];
  std::snprintf(id, sizeof id, "%s-%llx%04llx", prefix, static_cast<unsigned long long>(std::time(nullptr)),
                static_cast<unsigned long long>(next++));
  return id;
}

// Generated text may end inside a UTF-8 character (a length stop): it is written with U+FFFD.
std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void send_json(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  send_json(res, e.status, error_body(e));
}

std::string base64(const std::vector<float>& v) {
  static const char* kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* b = reinterpret_cast<const unsigned char*>(v.data());  // little-endian, as x86 and ARM are
  const size_t n = v.size() * sizeof(float);
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t x = (uint32_t(b[i]) << 16) | (i + 1 < n ? uint32_t(b[i + 1]) << 8 : 0) | (i + 2 < n ? b[i + 2] : 0);
    out += kDigits[(x >> 18) & 63];
    out += kDigits[(x >> 12) & 63];
    out += i + 1 < n ? kDigits[(x >> 6) & 63] : '=';
    out += i + 2 < n ? kDigits[x & 63] : '=';
  }
  return out;
}

class Service {
 public:
  Service(const ServeOptions& o, ServedModel model, int parallel)
      : options_(o), model_(std::move(model)), batcher_(model_, parallel, o.kv_budget) {}

  void routes(httplib::Server& http) {
    http.set_payload_max_length(options_.max_body);
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (options_.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
      if (req.get_header_value("Authorization") == "Bearer " + options_.api_key)
        return httplib::Server::HandlerResponse::Unhandled;
      send_error(res, ApiError(401, "a valid API key is required (Authorization: Bearer KEY)", "", "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const ApiError& e) {
        send_error(res, e);
      } catch (const Error& e) {
        // Bespoke's own errors on a request's content (a prompt the template refuses, say).
        send_error(res, ApiError(e.kind() == ErrorKind::kInput || e.kind() == ErrorKind::kUsage ? 400 : 500, e.what()));
      } catch (const std::exception& e) {
        send_error(res, ApiError(500, e.what(), "", "server_error"));
      }
    });
    http.Get("/health", [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, {{"status", "ok"}}); });
    for (const char* path : {"/v1/models", "/models"})
      http.Get(path, [this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, models()); });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { chat(req, res); });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { complete(req, res); });
    http.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) { embeddings(req, res); });
  }

  // Set by a stop: decoding still running past the shutdown bound ends.
  std::atomic<bool> cancel{false};

 private:
  Json models() const {
    return {{"object", "list"},
            {"data", {{{"id", model_.name}, {"object", "model"}, {"created", created_}, {"owned_by", "bespoke"}}}}};
  }

  std::vector<int32_t> prompt_ids(const std::string& text, const Sampling& s) {
    const std::vector<int32_t> ids = model_.encoder->tokenizer->encode(text, false);
    const int64_t n = static_cast<int64_t>(ids.size());
    if (n + std::max<int64_t>(s.max_tokens, 1) > model_.context)
      throw ApiError(400,
                     "the prompt is " + std::to_string(n) + " tokens" +
                         (s.max_tokens > 0 ? " and max_tokens " + std::to_string(s.max_tokens) : "") +
                         ": more than the context of " + std::to_string(model_.context) + " tokens",
                     "messages", "context_length_exceeded");
    return ids;
  }

  std::string render(const ChatRequest& r) {
    text::ChatOptions o = model_.encoder->options;
    o.add_generation_prompt = true;
    o.enable_thinking = r.enable_thinking;
    return text::render_chat(model_.encoder->chat_format(), r.messages, o);
  }

  Json usage(const Generation& g) const {
    return {{"prompt_tokens", g.prompt_tokens},
            {"completion_tokens", g.completion_tokens},
            {"total_tokens", g.prompt_tokens + g.completion_tokens}};
  }

  void log_done(const char* what, const Generation& g, Clock::time_point started) const {
    const double s = std::chrono::duration<double>(Clock::now() - started).count();
    char line[200];
    std::snprintf(line, sizeof line, "%s: %lld prompt + %lld completion tokens in %.3f s (%.1f tokens/s), %s%s", what,
                  static_cast<long long>(g.prompt_tokens), static_cast<long long>(g.completion_tokens), s,
                  g.completion_tokens / std::max(s, 1e-9), g.finish_reason.c_str(), g.cancelled ? ", cancelled" : "");
    log(line);
  }

  // Decodes among the batch; `on_text` gets each final piece of text, `alive` is asked while it
  // waits whether the client is still there.
  Generation run(const std::vector<int32_t>& prompt, const Sampling& s, Constraint* constraint,
                 const std::function<bool(const std::string&)>& on_text, const std::function<bool()>& alive) {
    Sequence seq(model_, prompt, s, constraint, on_text);
    return batcher_.run(seq, cancel, alive);
  }

  // A whole answer, decoded while the response is open so that a client gone is noticed: while
  // it decodes, spaces (which JSON allows before a value) go out, and one that cannot be written
  // ends it. The status is sent first, so a failure while decoding is a 200 with an error body.
  static void respond_when_done(httplib::Response& res, std::function<Json(const std::function<bool()>&)> body) {
    res.set_chunked_content_provider("application/json", [body](size_t, httplib::DataSink& sink) {
      const std::function<bool()> alive = [&sink] { return sink.write(" ", 1); };
      Json out;
      try {
        out = body(alive);
      } catch (const std::exception& e) {
        out = error_body(ApiError(500, e.what(), "", "server_error"));
      }
      const std::string text = dump(out);
      sink.write(text.data(), text.size());
      sink.done();
      return true;
    });
  }

  // An SSE response: `body` writes the events through `emit` (false once the client is gone),
  // and is told through `alive` whether a write has failed.
  using Emit = std::function<bool(const Json&)>;
  void stream(httplib::Response& res, std::function<void(const Emit&, const std::function<bool()>&)> body) {
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [body](size_t, httplib::DataSink& sink) {
      std::atomic<bool> open{true};
      const Emit emit = [&](const Json& event) {
        const std::string line = "data: " + dump(event) + "\n\n";
        open = open && sink.write(line.data(), line.size());
        return bool(open);
      };
      try {
        body(emit, [&open] { return bool(open); });
      } catch (const std::exception& e) {  // the status is sent: end the stream with an error event
        emit(error_body(ApiError(500, e.what(), "", "server_error")));
      }
      if (open) {
        const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
      }
      sink.done();
      return true;
    });
  }

  void chat(const httplib::Request& req, httplib::Response& res) {
    const auto started = Clock::now();
    const ChatRequest r = parse_chat_request(req.body);
    std::shared_ptr<Constraint> constraint = constraint_for(r.format);
    const std::vector<int32_t> prompt = prompt_ids(render(r), r.sampling);
    const Json head = {{"id", request_id("chatcmpl")}, {"created", std::time(nullptr)}, {"model", model_.name}};
    if (!r.stream) {
      respond_when_done(res, [this, r, prompt, constraint, head, started](const std::function<bool()>& alive) {
        const Generation g = run(prompt, r.sampling, constraint.get(), [](const std::string&) { return true; }, alive);
        Json out = head;
        out["object"] = "chat.completion";
        out["choices"] = {{{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", g.text}}},
                           {"logprobs", nullptr},
                           {"finish_reason", g.finish_reason}}};
        out["usage"] = usage(g);
        log_done("chat", g, started);
        return out;
      });
      return;
    }
    stream(res, [this, r, prompt, constraint, head, started](const Emit& emit, const std::function<bool()>& alive) {
      const auto chunk = [&](const Json& delta, const Json& finish) {
        Json c = head;
        c["object"] = "chat.completion.chunk";
        c["choices"] = {{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish}}};
        return emit(c);
      };
      if (!chunk({{"role", "assistant"}, {"content", ""}}, nullptr)) return;
      const Generation g = run(
          prompt, r.sampling, constraint.get(), [&](const std::string& piece) { return chunk({{"content", piece}}, nullptr); },
          alive);
      if (!g.cancelled && chunk(Json::object(), g.finish_reason) && r.include_usage) {
        Json u = head;
        u["object"] = "chat.completion.chunk";
        u["choices"] = Json::array();
        u["usage"] = usage(g);
        emit(u);
      }
      log_done("chat (stream)", g, started);
    });
  }

  void complete(const httplib::Request& req, httplib::Response& res) {
    const auto started = Clock::now();
    const CompletionRequest r = parse_completion_request(req.body);
    const std::vector<int32_t> prompt = prompt_ids(r.prompt, r.sampling);
    const Json head = {{"id", request_id("cmpl")}, {"object", "text_completion"}, {"created", std::time(nullptr)},
                       {"model", model_.name}};
    const auto choice = [](const std::string& text, const Json& finish) {
      return Json::array({{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}}});
    };
    if (!r.stream) {
      respond_when_done(res, [this, r, prompt, head, choice, started](const std::function<bool()>& alive) {
        const Generation g = run(prompt, r.sampling, nullptr, [](const std::string&) { return true; }, alive);
        Json out = head;
        out["choices"] = choice(g.text, g.finish_reason);
        out["usage"] = usage(g);
        log_done("completion", g, started);
        return out;
      });
      return;
    }
    stream(res, [this, r, prompt, head, choice, started](const Emit& emit, const std::function<bool()>& alive) {
      const auto chunk = [&](const std::string& text, const Json& finish) {
        Json c = head;
        c["choices"] = choice(text, finish);
        return emit(c);
      };
      const Generation g =
          run(prompt, r.sampling, nullptr, [&](const std::string& piece) { return chunk(piece, nullptr); }, alive);
      if (!g.cancelled && chunk("", g.finish_reason) && r.include_usage) {
        Json u = head;
        u["choices"] = Json::array();
        u["usage"] = usage(g);
        emit(u);
      }
      log_done("completion (stream)", g, started);
    });
  }

  void embeddings(const httplib::Request& req, httplib::Response& res) {
    const EmbeddingRequest r = parse_embedding_request(req.body);
    Json data = Json::array();
    int64_t tokens = 0;
    batcher_.exclusive([&] {
      for (size_t i = 0; i < r.inputs.size(); ++i) {
        const std::vector<float> v = embed(model_, r.inputs[i], &tokens);
        data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", r.base64 ? Json(base64(v)) : Json(v)}});
      }
    });
    send_json(res, 200,
              {{"object", "list"},
               {"data", data},
               {"model", model_.name},
               {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
  }

  const ServeOptions options_;
  ServedModel model_;
  Batcher batcher_;
  const int64_t created_ = std::time(nullptr);
};

model::LoadOptions load_options(const ServeOptions& o) {
  if (o.dtype != "f32" && o.dtype != "bf16" && o.dtype != "f16")
    fail(ErrorKind::kUsage, "--dtype must be f32, bf16 or f16, not " + o.dtype);
  const torch::Dtype dtype = o.dtype == "bf16" ? torch::kBFloat16 : o.dtype == "f16" ? torch::kFloat16 : torch::kFloat32;
  return {dtype, torch::Device(o.device)};
}

}  // namespace

void serve(const ServeOptions& o, const std::atomic<bool>& stop) {
  ServedModel model = load_served_model(o.model, load_options(o), o.context);
  // Batching by default; a longrope model's rope changes with the length, so it decodes alone.
  const int parallel = o.parallel > 0 ? o.parallel : model::has_longrope(model.net->spec()) ? 1 : 4;
  const int64_t context = model.context;
  Service service(o, std::move(model), parallel);
  httplib::Server http;
  service.routes(http);
  const int port = o.port == 0 ? http.bind_to_any_port(o.host) : (http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) fail(ErrorKind::kIo, "cannot listen on " + o.host + ":" + std::to_string(o.port));
  log("model " + o.model + " on " + o.device + " (" + o.dtype + "), context " + std::to_string(context) +
      " tokens, " + std::to_string(parallel) + " sequences in parallel");
  log("listening on http://" + o.host + ":" + std::to_string(port));
  std::thread listener([&http] { http.listen_after_bind(); });
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  log("stopping: no new connections; in-flight requests have " + std::to_string(o.shutdown_seconds) + " s");
  std::atomic<bool> finished{false};
  std::thread bound([&] {
    const auto until = Clock::now() + std::chrono::duration<double>(o.shutdown_seconds);
    while (!finished && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    service.cancel = true;  // what still decodes ends now
  });
  http.stop();
  listener.join();  // once the running handlers have returned
  finished = true;
  bound.join();
  log("stopped");
}

}  // namespace bespoke::serve
