// Evaluation against an OpenAI-compatible server: the HTTP client (Content-Length and chunked
// replies), the daemon's request shape, retries on 5xx, and a whole `eval` through a local
// fake server whose answers are the items' gold records.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "bespoke/core/error.h"
#include "bespoke/core/http.h"
#include "bespoke/task/encoding/evaluate.h"
#include "bespoke/task/encoding/python_json.h"
#include "bespoke/task/encoding/stress.h"

namespace bespoke {
namespace {

using task::encoding::Json;
namespace enc = task::encoding;

// A one-connection-at-a-time HTTP server on 127.0.0.1: `handle` maps (method and path, body)
// to a whole raw reply.
class FakeServer {
 public:
  using Handler = std::function<std::string(const std::string& request_line, const std::string& body)>;
  explicit FakeServer(Handler handle) : handle_(std::move(handle)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

 private:
  void serve() {
    while (!stop_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string request;
      char buf[65536];
      size_t need = std::string::npos;
      while (request.size() < need) {
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
        const size_t head = request.find("\r\n\r\n");
        if (head != std::string::npos && need == std::string::npos) {
          const size_t at = request.find("Content-Length: ");
          need = head + 4 + (at == std::string::npos || at > head ? 0 : std::stoul(request.substr(at + 16)));
        }
      }
      const std::string line = request.substr(0, request.find("\r\n"));
      const std::string body = request.substr(request.find("\r\n\r\n") + 4);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!body.empty()) bodies_.push_back(body);
      }
      const std::string reply = handle_(line, body);
      send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      close(c);
    }
  }

  Handler handle_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> bodies_;
};

std::string reply(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string completion(const std::string& content) {
  return reply(
      200, Json{{"choices", {{{"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}}}}}
               .dump());
}

TEST(HttpClient, ReadsContentLengthAndChunkedReplies) {
  FakeServer server([](const std::string& line, const std::string&) {
    if (line.find("/chunked") != std::string::npos)
      return std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    return reply(404, "nope");
  });
  const std::string base = server.url().substr(0, server.url().size() - 3);
  const HttpResponse chunked = http_request("GET", base + "/chunked", "");
  EXPECT_EQ(chunked.status, 200);
  EXPECT_EQ(chunked.body, "hello world");
  const HttpResponse missing = http_request("POST", base + "/other", "{}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "nope");
  EXPECT_THROW(http_request("GET", "ftp://127.0.0.1/", ""), Error);
  EXPECT_THROW(http_request("GET", "http://127.0.0.1:1/", ""), Error);  // nothing listens there
}

TEST(ServerEval, SendsTheDaemonsRequestAndRetriesServerErrors) {
  std::atomic<int> calls{0};
  FakeServer server([&](const std::string& line, const std::string&) {
    if (line.rfind("GET /v1/models", 0) == 0) return reply(200, R"({"data": []})");
    return ++calls == 1 ? reply(503, "busy") : completion("{\"gist\": \"ok\"}");
  });
  enc::ServerOptions options;
  options.url = server.url();
  options.model = "qwen3-2b";
  options.max_tokens = 512;
  const enc::Respond respond = enc::server_responder(options);
  EXPECT_EQ(respond({{"system", "s"}, {"user", "u"}}), "{\"gist\": \"ok\"}");
  EXPECT_EQ(calls, 2);
  const std::vector<std::string> bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 2u);
  const Json body = Json::parse(bodies.back());
  EXPECT_EQ(body["model"], "qwen3-2b");
  EXPECT_EQ(body["max_tokens"], 512);
  EXPECT_FALSE(body.contains("temperature"));  // 0 is left out, as the daemon does
  EXPECT_EQ(body["messages"][1]["content"], "u /no_think");
  EXPECT_EQ(body["reasoning_effort"], "none");
  EXPECT_EQ(body["response_format"]["json_schema"]["name"], "encoding_response");
  EXPECT_EQ(body["response_format"]["json_schema"]["schema"]["required"].size(), 10u);
}

TEST(ServerEval, AServerThatIsNotOneIsRefused) {
  FakeServer server([](const std::string&, const std::string&) { return reply(404, "no"); });
  enc::ServerOptions options;
  options.url = server.url();
  EXPECT_THROW(enc::server_responder(options), Error);
}

// A server that answers each item with its gold record and each stress case with its input
// copied into content: the report must be perfect.
TEST(ServerEval, GoldAnswersScorePerfectly) {
  std::vector<enc::Item> items(3);
  const char* inputs[] = {"Raised the pool to 25 in db.go:88 for Jason.", "SIGKILL", "lr 3e-4, loss 0.6435"};
  for (int i = 0; i < 3; ++i) {
    items[i].id = i + 1;
    items[i].raw_input = inputs[i];
    items[i].category = i == 1 ? "minimal" : "developer";
    items[i].gold = Json::parse(R"({"gist": "g", "summary": "s", "content": "", "narrative": "n", "concepts": [],
      "structured_concepts": {"topics": [], "entities": [], "actions": [], "causality": []},
      "significance": "routine", "emotional_tone": "neutral", "outcome": "success", "salience": 0.1})");
    items[i].gold["content"] = inputs[i];
  }
  FakeServer server([&](const std::string& line, const std::string& body) {
    if (line.rfind("GET", 0) == 0) return reply(200, "{}");
    const std::string user = Json::parse(body)["messages"].back()["content"];
    for (const enc::Item& item : items)
      if (user.size() >= item.raw_input.size() + 1 &&
          user.compare(user.size() - item.raw_input.size() - 1, std::string::npos, item.raw_input + "\n") == 0)
        return completion(enc::python_dumps(item.gold, false));
    Json record = items[0].gold;
    record["content"] = user;
    return completion("```json\n" + record.dump() + "\n```");
  });
  enc::ServerOptions options;
  options.url = server.url();
  size_t last = 0;
  enc::EvalOptions eval;
  eval.progress = [&](size_t done, size_t total) {
    last = done;
    EXPECT_EQ(total, 10u);
  };
  const Json report = enc::evaluate(items, enc::server_responder(options), eval);
  EXPECT_EQ(last, 10u);
  EXPECT_EQ(report["valid_json"], 3);
  EXPECT_EQ(report["metrics"]["epr"], 1.0);
  EXPECT_EQ(report["metrics"]["np"], 1.0);
  EXPECT_EQ(report["metrics"]["sc"], 1.0);
  EXPECT_EQ(report["metrics"]["mih_pass"], 1);
  EXPECT_TRUE(report["verdict"]["pass"].get<bool>());
  EXPECT_EQ(report["stress"]["passed"], 7);
  EXPECT_EQ(report["items"][0]["output"], enc::python_dumps(items[0].gold, false));
}

}  // namespace
}  // namespace bespoke
