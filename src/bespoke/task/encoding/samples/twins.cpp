// Adversarial twins: two decision records on one topic, one picking each option, never in the
// same wording.
#include "bespoke/task/encoding/samples/sample.h"

#include <utility>

namespace bespoke::task::encoding::samples {
namespace {

struct TwinOption {
  std::string name, concept;
  std::vector<std::string> reasons;  // expand() templates
};
struct TwinTopic {
  std::string slug, project, project_short, area;
  TwinOption first, second;
};

// clang-format off
const std::vector<TwinTopic> kTwinTopics = {
    {"postgresql-sqlite", "the field-notes app", "field-notes app", "database",
     {"PostgreSQL", "postgresql",
      {"row-level locking held up with {20-80} concurrent writers in the load test",
       "the jsonb GIN index answers tag queries in {2-9} ms",
       "point-in-time recovery can rewind to any second of the last {7-30} days"}},
     {"SQLite", "sqlite",
      {"the whole store is one {40-400} MB file that ships inside the installer",
       "WAL mode sustained {1500-4000,} inserts per second on a {4-8}-year-old laptop",
       "users never have to keep a server process alive, which removed {3-9} support tickets a week"}}},
    {"react-svelte", "the admin console", "admin console", "frontend",
     {"React", "react",
      {"{3-6} people on the team already ship React daily",
       "the licensed component library covers {40-90} widgets we would otherwise rebuild",
       "React Testing Library is already wired into CI with {200-600} tests"}},
     {"Svelte", "svelte",
      {"the compiled bundle came to {30-70} KB where the old one weighed {140-260} KB",
       "first paint on the test phone dropped to {600-900} ms",
       "stores replaced roughly {200-600} lines of reducer code"}}},
    {"kafka-rabbitmq", "the order pipeline", "order pipeline", "messaging",
     {"Kafka", "kafka",
      {"replaying {3-14} days of events is only an offset reset away",
       "a single partition sustained {40-120}k messages per second",
       "compacted topics let us drop the {2-5} snapshot tables"}},
     {"RabbitMQ", "rabbitmq",
      {"per-message acknowledgements keep retry logic trivial",
       "the broker idles in {200-600} MB of RAM on one small VM",
       "dead-letter exchanges already cover our {3-9} failure paths"}}},
    {"rust-go", "the ingest daemon", "ingest daemon", "language",
     {"Rust", "rust",
      {"the borrow checker caught {3-12} data races while we prototyped",
       "peak memory sat at {30-90} MB with no collector pauses",
       "serde decoded the {2-9} GB fixture twice as fast as our old parser"}},
     {"Go", "go",
      {"{4-9} of us write Go every day",
       "a clean build finishes in {4-20} seconds",
       "goroutines kept the fan-out code under {100-300} lines"}}},
    {"rest-graphql", "the partner API", "partner API", "api",
     {"REST", "rest",
      {"CDN caching absorbs {60-90}% of reads today",
       "every endpoint maps onto one of our {12-40} existing handlers",
       "partners can debug with curl and nothing else"}},
     {"GraphQL", "graphql",
      {"the mobile client needs {3-8} fewer round trips per screen",
       "a single schema replaces {20-60} ad-hoc endpoints",
       "field-level deprecation let us retire {5-15} fields without versioning"}}},
    {"kubernetes-compose", "the staging environment", "staging", "infrastructure",
     {"Kubernetes", "kubernetes",
      {"rolling updates restarted {10-40} pods without dropping a request",
       "the cluster autoscaler already manages {3-12} node pools",
       "namespaces isolate the {4-9} teams sharing staging"}},
     {"Docker Compose", "docker compose",
      {"the entire stack is one {60-200}-line YAML file",
       "a fresh laptop goes from clone to running in {3-9} minutes",
       "nobody has to learn {5-12} new CRDs to change a port"}}},
    {"redis-memcached", "the session cache", "session cache", "caching",
     {"Redis", "redis",
      {"sorted sets give us the per-tenant leaderboard for free",
       "AOF persistence loses at most {1-2} s of writes on restart",
       "Lua scripts make the rate limiter atomic in {20-60} lines"}},
     {"Memcached", "memcached",
      {"multithreaded gets reached {200-600}k ops per second on one box",
       "slab allocation kept memory flat at {2-16} GB for a week",
       "the client library is {2-5} times smaller"}}},
    {"jwt-cookies", "the login flow", "login flow", "authentication",
     {"JWT", "jwt",
      {"{3-7} downstream services verify tokens without a network call",
       "tokens expire after {5-30} minutes, so a leaked one ages out fast",
       "the mobile app already stores bearer tokens securely"}},
     {"session cookies", "session cookies",
      {"revoking a login is one DELETE on the sessions table",
       "cookies stay under {200-400} bytes where a token ran to {900-1600}",
       "HttpOnly keeps scripts away from the credential"}}},
    {"bf16-fp16", "the fine-tuning runs", "fine-tuning runs", "training",
     {"bf16", "bf16",
      {"the {7-13}B run never overflowed, and there is no scaler to tune",
       "the H100 nodes run bf16 matmuls at full rate",
       "the {3-8} divergence restarts from last month all came from overflowing activations"}},
     {"fp16", "fp16",
      {"the {4-8} older V100 cards have no bf16 support",
       "a {2-5}-day trial landed within 0.0{1-9} perplexity of our reference checkpoint",
       "fp16 checkpoints load directly into our serving stack"}}},
    {"lora-full", "the support-bot model", "support bot", "model adaptation",
     {"LoRA", "lora",
      {"rank {8-64} adapters train on a single {24-48} GB card",
       "each adapter is {20-200} MB, so we keep one per customer",
       "swapping adapters at serve time takes {40-300} ms"}},
     {"full fine-tuning", "full fine-tuning",
      {"eval accuracy rose {3-9} points above our best rank-64 attempt",
       "the {1-3}B base is small enough to retrain in {4-12} hours",
       "a single checkpoint quantises and ships as one {2-9} GB file"}}},
    {"monorepo-polyrepo", "the platform code", "platform code", "repository layout",
     {"a monorepo", "monorepo",
      {"one pull request can change the API and its {3-9} clients together",
       "shared CI caching cut a full build to {6-15} minutes",
       "a single lint config replaced {4-12} drifting copies"}},
     {"separate repositories", "polyrepo",
      {"each of the {5-14} services releases on its own schedule",
       "a clone stays under {5-30} seconds per repo",
       "access rules per repo match our {3-6} contractor teams"}}},
    {"llamacpp-vllm", "the inference box", "inference box", "serving",
     {"llama.cpp", "llama.cpp",
      {"a Q4_K_M GGUF fits the model in {4-9} GB",
       "it also runs on the {2-4} CPU-only edge nodes",
       "one static binary replaced a {1-3} GB Python environment"}},
     {"vLLM", "vllm",
      {"continuous batching served {20-60} concurrent users at {30-90} tokens per second each",
       "paged attention kept KV cache use at {60-95}%",
       "the OpenAI-compatible server dropped in without client changes"}}},
};
// clang-format on

// Three wordings of the same decision record: a verdict, two reasons, a word on the loser.
// The two sides of a pair never share a wording, so only the topic words overlap.
Sample twin_side(int frame, const TwinTopic& t, const TwinOption& chosen, const TwinOption& rejected,
                 const std::string& r1, const std::string& r2) {
  const std::string& x = chosen.name;
  const std::string& y = rejected.name;
  Sample s;
  s.type = "decision";
  // Even the classification words differ by wording: cosine similarity counts every token.
  const char* const kinds[] = {"technology choice", "stack decision", "comparison"};
  const char* const roots[] = {"architecture/", "stack/", "evaluations/"};
  s.concepts = {chosen.concept, t.area, kinds[frame]};
  s.topic(t.area, roots[frame] + chosen.concept);
  switch (frame) {
    case 0:
      s.input = "For " + t.project + " I'm going with " + x + " over " + y + ". " + capitalised(r1) +
                ". On top of that, " + r2 + ". Nothing wrong with " + y + "; it simply was not the better fit.";
      s.gist = fit({x + " over " + y + " for " + t.project_short, x + " over " + y});
      s.summary = "For " + t.project + ", " + x + " was picked over " + y + " because " + r1 + ".";
      s.narrative = "A first-person technology choice; nothing was wrong with the alternative, it just fit worse.";
      s.entity(x, "technology", "picked");
      s.entity(y, "technology", "passed over");
      s.action("picked", x, "for " + t.project_short);
      s.cause("motivated_by", r2);
      s.enums("notable", "neutral", "success", 58);
      break;
    case 1:
      s.input = "Decision: " + t.project + " will use " + x + ", and " + y + " is out. Two things settled it: " + r1 +
                ", and " + r2 + ". No plans to revisit before our next major release.";
      s.gist = "Settled on " + x + " for " + t.project_short;
      s.summary = "Decision: " + x + " for " + t.project + ", " + y + " dropped; settled by two points, chiefly that " +
                  r2 + ".";
      s.narrative = "A settled stack choice with no revisit planned until our next major release.";
      s.entity(x, "tool", "kept as the stack");
      s.entity(y, "tool", "dropped");
      s.action("settled on", x, "for " + t.project_short);
      s.cause("decided_by", r1);
      s.enums("notable", "satisfying", "success", 62);
      break;
    default:
      s.input = "We compared " + x + " and " + y + " for " + t.project + ", and " + x + " won. What tipped it: " + r1 +
                "; also, " + r2 + ". Writing this down so nobody reopens the debate next sprint.";
      s.gist = fit({x + " wins for " + t.project_short, x + " wins"});
      s.summary =
          "We compared both options for " + t.project + " and " + x + " came out ahead: " + r1 + "; " + r2 + ".";
      s.narrative = "A comparison closed on purpose so the debate does not reopen.";
      s.entity(x, "option", "winner of the comparison");
      s.entity(y, "option", "runner-up");
      s.action("compared", "two options", "winner: " + x);
      s.cause("tipped_by", r1);
      s.enums("notable", "neutral", "success", 55);
      break;
  }
  return s;
}

}  // namespace

size_t twin_topic_count() {
  return kTwinTopics.size();
}

// Side A picks the topic's first option, side B the second, each with two of its own reasons.
TwinPair twins(Rng& r, size_t topic) {
  const TwinTopic& t = kTwinTopics[topic];
  const std::vector<int> frames = r.sample(std::vector<int>{0, 1, 2}, 2);
  const auto side = [&](int frame, const TwinOption& chosen, const TwinOption& rejected) {
    const std::vector<std::string> reasons = r.sample(chosen.reasons, 2);
    const std::string first = expand(r, reasons[0]), second = expand(r, reasons[1]);
    return twin_side(frame, t, chosen, rejected, first, second);
  };
  Sample a = side(frames[0], t.first, t.second);
  Sample b = side(frames[1], t.second, t.first);
  return {t.slug, std::move(a), std::move(b)};
}

}  // namespace bespoke::task::encoding::samples
