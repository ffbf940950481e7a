// `bespoke serve` on the Llama fixture (its positions raised to 4096 so that an encoding prompt
// and record fit), driven over loopback with cpp-httplib's client: the daemon's exact encoding
// request (strict json_schema, temperature left out) answers a record the schema accepts;
// `bespoke eval encoding --server` against it gives the numbers `--model --constrained` gives
// in-process; a stream's deltas make the non-streamed answer and end with [DONE]; the models,
// health and embeddings endpoints; the API key; bad requests and an over-long prompt get 4xx
// with OpenAI's error object; SIGTERM stops it cleanly. Every structured answer is checked
// against its schema by Ajv (tools/interop/validate_json.mjs), and the `openai` npm package
// drives every endpoint. Requests decode in batches (--parallel 4): concurrent answers equal
// those given one at a time, a load of 8 clients with malformed requests mixed in leaves it up
// and answering, and a client that leaves frees its sequence.
#include <gtest/gtest.h>
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "bespoke/task/encoding/record.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const char* const kKey = "test-key";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The fixture with room for a prompt and a record.
std::string long_fixture(const std::string& dir) {
  const std::string out = dir + "/model";
  fs::copy(test::fixture_dir("llama"), out, fs::copy_options::recursive);
  Json config = Json::parse(read_file(out + "/config.json"));
  config["max_position_embeddings"] = 4096;
  std::ofstream(out + "/config.json") << config.dump(2);
  return out;
}

class Server : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::scratch_dir("serve"));
    model_ = new std::string(long_fixture(*dir_));
    const std::string log = *dir_ + "/serve.log";
    const test::CommandResult started = test::run_command(std::string(BESPOKE_BINARY) + " serve " + *model_ +
                                                          " --port 0 --parallel 4 --api-key " + kKey + " > " + log +
                                                          " 2>&1 & echo $!");
    pid_ = std::stoi(started.out);
    std::smatch m;
    for (int i = 0; i < 600; ++i) {
      const std::string text = read_file(log);
      if (std::regex_search(text, m, std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)"))) {
        port_ = std::stoi(m[1]);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the server did not start: " << read_file(log);
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) kill(pid_, SIGKILL);
  }

  httplib::Client client(bool with_key = true) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(300, 0);
    if (with_key) c.set_bearer_token_auth(kKey);
    return c;
  }
  Json post(const std::string& path, const Json& body, int* status = nullptr) const {
    httplib::Client c = client();
    const httplib::Result r = c.Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return nullptr;
    if (status) *status = r->status;
    return Json::parse(r->body);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

  static std::string* dir_;
  static std::string* model_;
  static int pid_, port_;
};

std::string* Server::dir_ = nullptr;
std::string* Server::model_ = nullptr;
int Server::pid_ = -1;
int Server::port_ = 0;

Json encoding_request() {
  return {{"model", "bespoke"},
          {"messages",
           {{{"role", "system"}, {"content", "Encode the memory as the JSON record."}},
            {{"role", "user"}, {"content", "Nightly import crashed at 03:12 UTC in sqlite.go:142."}}}},
          {"max_tokens", 700},
          {"response_format",
           {{"type", "json_schema"},
            {"json_schema", {{"name", "encoding_response"}, {"strict", true}, {"schema", task::encoding::json_schema()}}}}}};
}

// Ajv's verdict on each (schema, text): an empty string when every text is valid.
std::string ajv_failures(const std::vector<std::pair<Json, std::string>>& cases) {
  Json list = Json::array();
  for (const auto& [schema, text] : cases) list.push_back({{"schema", schema}, {"text", text}});
  const std::string file = test::scratch_dir("ajv") + "/cases.json";
  std::ofstream(file) << list.dump();
  const test::CommandResult r = test::run_command("node " + std::string(BESPOKE_INTEROP) + "/validate_json.mjs " + file);
  const Json verdict = Json::parse(r.out, nullptr, false);
  if (verdict.is_discarded() || verdict["checked"] != cases.size()) return "no verdict: " + r.out + r.err;
  return r.exit_code == 0 && verdict["invalid"].empty() ? "" : verdict["invalid"].dump();
}

Json chat_with_schema(const Json& schema) {
  return {{"messages", {{{"role", "user"}, {"content", "Describe it."}}}},
          {"max_tokens", 300},
          {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "s"}, {"strict", true}, {"schema", schema}}}}}};
}

// Schemas of the shapes clients send: nested objects, enums, bounded arrays, anyOf, $ref.
std::vector<Json> client_schemas() {
  return {
      Json::parse(R"({"type":"object","additionalProperties":false,"required":["kind","tags","score"],
        "properties":{"kind":{"type":"string","enum":["fact","event","plan"]},
                      "tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3},
                      "score":{"type":"integer"},"ok":{"type":"boolean"}}})"),
      Json::parse(R"({"$defs":{"p":{"type":"object","required":["x","y"],"additionalProperties":false,
                        "properties":{"x":{"type":"number"},"y":{"type":"number"}}}},
        "type":"object","required":["points","label"],"additionalProperties":false,
        "properties":{"points":{"type":"array","items":{"$ref":"#/$defs/p"},"maxItems":2},
                      "label":{"anyOf":[{"type":"null"},{"type":"string"}]}}})"),
      Json::parse(R"({"type":"array","items":{"const":"yes"},"minItems":2,"maxItems":2})"),
  };
}

TEST_F(Server, TheDaemonsEncodingRequestGetsARecordTheSchemaAccepts) {
  int status = 0;
  const Json r = post("/v1/chat/completions", encoding_request(), &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_TRUE(r["id"].is_string());
  EXPECT_TRUE(r["created"].is_number_integer());
  EXPECT_EQ(r["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  EXPECT_GT(r["usage"]["completion_tokens"].get<int64_t>(), 0);
  EXPECT_EQ(r["usage"]["total_tokens"].get<int64_t>(),
            r["usage"]["prompt_tokens"].get<int64_t>() + r["usage"]["completion_tokens"].get<int64_t>());
  const Json record = Json::parse(r["choices"][0]["message"]["content"].get<std::string>(), nullptr, false);
  ASSERT_FALSE(record.is_discarded()) << r.dump();
  EXPECT_TRUE(task::encoding::violations(record).empty()) << record.dump();
  EXPECT_EQ(ajv_failures({{task::encoding::json_schema(), r["choices"][0]["message"]["content"]}}), "");
}

TEST_F(Server, EveryStructuredAnswerIsValidByAnIndependentValidator) {
  std::vector<std::pair<Json, std::string>> cases;
  for (const Json& schema : client_schemas()) {
    for (const Json& sampled : {Json(nullptr), Json(1.0)}) {
      Json body = chat_with_schema(schema);
      if (sampled.is_number()) body["temperature"] = sampled, body["seed"] = 3;
      int status = 0;
      const Json r = post("/v1/chat/completions", body, &status);
      ASSERT_EQ(status, 200) << r.dump();
      EXPECT_EQ(r["choices"][0]["finish_reason"], "stop") << r.dump();  // a whole document
      cases.push_back({schema, r["choices"][0]["message"]["content"]});
    }
  }
  Json body = chat_with_schema(nullptr);
  body["response_format"] = {{"type", "json_object"}};
  const Json object = post("/v1/chat/completions", body);
  cases.push_back({Json{{"type", "object"}}, object["choices"][0]["message"]["content"]});
  EXPECT_EQ(ajv_failures(cases), "");
  // The validator does refuse: a text that breaks its schema is reported.
  EXPECT_NE(ajv_failures({{client_schemas()[0], R"({"kind":"other","tags":[],"score":1.5})"}}), "");
}

TEST_F(Server, TheOpenAiPackageDrivesEveryEndpoint) {
  const test::CommandResult r =
      test::run_command("node " + std::string(BESPOKE_INTEROP) + "/openai_client.mjs " + url() + " " + kKey);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json seen = Json::parse(r.out, nullptr, false);
  ASSERT_FALSE(seen.is_discarded()) << r.out << r.err;
  EXPECT_EQ(seen["ok"], true) << r.out;
  EXPECT_EQ(seen["seen"]["models"], Json::array({"model"}));
  EXPECT_EQ(seen["seen"]["embedding_dims"], Json::array({64, 64}));
}

// Concurrent greedy requests, decoded as one batch, answer what each answers alone.
TEST_F(Server, ConcurrentAnswersEqualThoseGivenOneAtATime) {
  std::vector<Json> bodies;
  const std::vector<std::string> prompts = {"Hi.", "Tell me about the sea and its long history of storms.",
                                            "One two three.", "Why?"};
  for (size_t i = 0; i < prompts.size(); ++i)
    bodies.push_back({{"messages", {{{"role", "user"}, {"content", prompts[i]}}}}, {"max_tokens", 10 + 7 * int(i)}});
  std::vector<Json> alone;
  for (const Json& b : bodies) alone.push_back(post("/v1/chat/completions", b));
  std::vector<Json> together(bodies.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < bodies.size(); ++i)
    clients.emplace_back([&, i] { together[i] = post("/v1/chat/completions", bodies[i]); });
  for (std::thread& t : clients) t.join();
  for (size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_EQ(together[i]["choices"][0]["message"]["content"], alone[i]["choices"][0]["message"]["content"]) << i;
    EXPECT_EQ(together[i]["usage"], alone[i]["usage"]) << i;
  }
}

// 8 clients × 25 requests on loopback, every fifth malformed: each valid request gets a
// well-formed answer (the structured ones valid by Ajv), each malformed one a 4xx with an
// error object, and the server answers afterwards.
TEST_F(Server, ALoadWithMalformedRequestsMixedInLeavesItUp) {
  const std::vector<std::pair<std::string, std::string>> malformed = {
      {"/v1/chat/completions", "{not json"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":"ten"})"},
      {"/v1/chat/completions", R"({"messages":[{"role":"robot","content":"x"}]})"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"temperature":9})"},
      {"/v1/chat/completions",
       R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"oneOf":[{"type":"null"}]}}}})"},
      {"/v1/completions", R"({"prompt":7})"},
      {"/v1/embeddings", R"({"input":[1,2]})"},
      {"/v1/chat/completions", "[]"},
  };
  const Json schema = client_schemas()[0];
  std::mutex m;
  std::vector<std::string> problems;
  std::vector<std::pair<Json, std::string>> structured;
  const auto note = [&](const std::string& p) {
    std::lock_guard<std::mutex> lock(m);
    problems.push_back(p);
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      httplib::Client http = client();
      for (int i = 0; i < 25; ++i) {
        const int k = c * 25 + i;
        if (k % 5 == 4) {
          const auto& [path, body] = malformed[(k / 5) % malformed.size()];
          const httplib::Result r = http.Post(path.c_str(), body, "application/json");
          if (!r) {
            note("no answer to malformed " + body);
            continue;
          }
          const Json e = Json::parse(r->body, nullptr, false);
          if (r->status < 400 || r->status >= 500 || e.is_discarded() || !e["error"]["message"].is_string())
            note("malformed " + body + " got " + std::to_string(r->status) + " " + r->body);
          continue;
        }
        const bool with_schema = k % 3 == 0;
        const Json body = with_schema ? chat_with_schema(schema)
                                      : Json{{"messages", {{{"role", "user"}, {"content", "Request " + std::to_string(k)}}}},
                                             {"max_tokens", 6}, {"temperature", 0.8}, {"seed", k}};
        const httplib::Result r = http.Post("/v1/chat/completions", body.dump(), "application/json");
        const Json j = r ? Json::parse(r->body, nullptr, false) : Json();
        if (!r || r->status != 200 || j.is_discarded() || !j["choices"][0]["message"]["content"].is_string() ||
            !j["usage"]["completion_tokens"].is_number_integer()) {
          note("valid request " + std::to_string(k) + " got " + (r ? std::to_string(r->status) + " " + r->body : "nothing"));
          continue;
        }
        if (with_schema) {
          std::lock_guard<std::mutex> lock(m);
          structured.push_back({schema, j["choices"][0]["message"]["content"]});
        }
      }
    });
  for (std::thread& t : clients) t.join();
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, the first: " << problems.front();
  EXPECT_GT(structured.size(), 40u);
  EXPECT_EQ(ajv_failures(structured), "");
  httplib::Client c = client();
  const httplib::Result health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// A client that gives up on a long answer (it closes its connection) frees its sequence: the
// server logs that answer as cancelled well before its budget, and goes on.
TEST_F(Server, AClientThatLeavesFreesItsSequence) {
  const std::string body = Json{{"prompt", "Once upon a time"}, {"max_tokens", 3500}}.dump();
  const size_t before = read_file(*dir_ + "/serve.log").size();
  {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                std::string(kKey) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    ASSERT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    close(fd);
  }
  std::smatch m;
  std::string log;
  const std::regex cancelled(R"(completion: \d+ prompt \+ (\d+) completion tokens in [0-9.]+ s .*, cancelled)");
  for (int i = 0; i < 100 && !std::regex_search(log, m, cancelled); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = read_file(*dir_ + "/serve.log").substr(before);
  }
  ASSERT_TRUE(std::regex_search(log, m, cancelled)) << log;
  EXPECT_LT(std::stoi(m[1]), 3500);
  int status = 0;
  post("/v1/completions", {{"prompt", "Again"}, {"max_tokens", 4}}, &status);
  EXPECT_EQ(status, 200);
}

TEST_F(Server, EvalThroughTheServerEqualsEvalInProcess) {
  const std::string items = *dir_ + "/items.jsonl";
  {
    std::ifstream gold(std::string(BESPOKE_FIXTURES) + "/encoding_oracle/gold.jsonl");
    std::ofstream out(items);
    std::string line;
    for (int i = 0; i < 2 && std::getline(gold, line); ++i) out << line << "\n";
  }
  const std::string common = " --data " + items + " --no-stress --max-new-tokens 700 --prompt-template " +
                             fs::path(BESPOKE_INTEROP).parent_path().parent_path().string() + "/configs/demo_prompt.txt";
  const test::CommandResult served = test::run_bespoke("eval encoding --server " + url() + " --api-key " + kKey +
                                                       common + " --out " + *dir_ + "/served.json");
  ASSERT_EQ(served.exit_code, 0) << served.err;
  const test::CommandResult local =
      test::run_bespoke("eval encoding --model " + *model_ + " --constrained" + common + " --out " + *dir_ + "/local.json");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const Json a = Json::parse(read_file(*dir_ + "/served.json")), b = Json::parse(read_file(*dir_ + "/local.json"));
  EXPECT_EQ(a["metrics"], b["metrics"]);
  EXPECT_EQ(a["valid_json"], b["valid_json"]);
  EXPECT_EQ(a["n"], 2);
}

TEST_F(Server, AStreamsDeltasMakeTheWholeAnswer) {
  Json body = {{"messages", {{{"role", "user"}, {"content", "Say something."}}}}, {"max_tokens", 24}};
  const Json whole = post("/v1/chat/completions", body);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  httplib::Client c = client();
  const httplib::Result r = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  std::string text, finish;
  bool done = false, usage = false;
  std::istringstream events(r->body);
  for (std::string line; std::getline(events, line);) {
    if (line.empty()) continue;
    ASSERT_EQ(line.rfind("data: ", 0), 0u) << line;
    const std::string data = line.substr(6);
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    const Json e = Json::parse(data);
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    if (e.contains("usage")) {
      usage = true;
      EXPECT_EQ(e["usage"]["completion_tokens"], whole["usage"]["completion_tokens"]);
      continue;
    }
    const Json& choice = e["choices"][0];
    if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
    if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
  }
  EXPECT_TRUE(done);
  EXPECT_TRUE(usage);
  EXPECT_EQ(text, whole["choices"][0]["message"]["content"]);
  EXPECT_EQ(finish, whole["choices"][0]["finish_reason"]);
}

TEST_F(Server, ASeedRepeatsASampledAnswer) {
  Json body = {{"messages", {{{"role", "user"}, {"content", "Say something."}}}}, {"max_tokens", 32},
               {"temperature", 1.0}, {"top_p", 0.95}, {"top_k", 200}, {"seed", 5}};
  const Json a = post("/v1/chat/completions", body), b = post("/v1/chat/completions", body);
  EXPECT_EQ(a["choices"][0]["message"]["content"], b["choices"][0]["message"]["content"]);
  body["seed"] = 6;
  const Json c = post("/v1/chat/completions", body);
  body.erase("seed");
  body["temperature"] = 0;
  const Json greedy = post("/v1/chat/completions", body);
  // A random fixture's next-token distribution is nearly flat: other draws give other text.
  EXPECT_NE(a["choices"][0]["message"]["content"], c["choices"][0]["message"]["content"]);
  EXPECT_NE(a["choices"][0]["message"]["content"], greedy["choices"][0]["message"]["content"]);
}

TEST_F(Server, ModelsHealthEmbeddingsAndTheKey) {
  httplib::Client keyless = client(false);
  const httplib::Result health = keyless.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  const httplib::Result refused = keyless.Get("/models");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(Json::parse(refused->body)["error"]["type"], "authentication_error");
  for (const char* path : {"/models", "/v1/models"}) {
    httplib::Client c = client();
    const httplib::Result r = c.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    const Json j = Json::parse(r->body);
    EXPECT_EQ(j["object"], "list");
    EXPECT_EQ(j["data"][0]["id"], "model");
    EXPECT_EQ(j["data"][0]["object"], "model");
  }
  int status = 0;
  const Json e = post("/v1/embeddings", {{"input", {"first text", "second text"}}}, &status);
  ASSERT_EQ(status, 200) << e.dump();
  ASSERT_EQ(e["data"].size(), 2u);
  for (const Json& d : e["data"]) {
    ASSERT_EQ(d["embedding"].size(), 64u);  // the fixture's hidden size
    double norm = 0;
    for (const Json& x : d["embedding"]) norm += x.get<double>() * x.get<double>();
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
  EXPECT_NE(e["data"][0]["embedding"], e["data"][1]["embedding"]);
}

TEST_F(Server, BadRequestsGetOpenAiErrors) {
  int status = 0;
  Json r = post("/v1/chat/completions", {{"messages", "hello"}}, &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(r["error"]["param"], "messages");
  httplib::Client c = client();
  const httplib::Result broken = c.Post("/v1/chat/completions", "{not json", "application/json");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 400);
  EXPECT_EQ(Json::parse(broken->body)["error"]["type"], "invalid_request_error");
  r = post("/v1/chat/completions",
           {{"messages", {{{"role", "user"}, {"content", std::string(3000, 'x') + " end"}}}}, {"max_tokens", 4000}},
           &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(r["error"]["code"], "context_length_exceeded");
  const Json pattern = {{"type", "string"}, {"pattern", "^a+$"}};  // outside the supported subset
  Json body = {{"messages", {{{"role", "user"}, {"content", "x"}}}}};
  body["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "n"}, {"schema", pattern}}}};
  r = post("/v1/chat/completions", body, &status);
  EXPECT_EQ(status, 400);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("pattern"), std::string::npos) << r.dump();
  // And it still answers.
  const httplib::Result health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// Last in the file: it stops the server the other cases share.
TEST_F(Server, SigtermStopsItCleanly) {
  ASSERT_GT(pid_, 0);
  kill(pid_, SIGTERM);
  const test::CommandResult waited = test::run_command("for i in $(seq 1 200); do kill -0 " + std::to_string(pid_) +
                                                       " 2>/dev/null || exit 0; sleep 0.05; done; exit 1");
  EXPECT_EQ(waited.exit_code, 0) << "still running 10 s after SIGTERM";
  EXPECT_NE(read_file(*dir_ + "/serve.log").find("[serve] stopped"), std::string::npos) << read_file(*dir_ + "/serve.log");
  pid_ = -1;
}

}  // namespace
}  // namespace bespoke
