#include "bespoke/task/encoding/generator.h"

#include <initializer_list>
#include <random>
#include <string_view>
#include <utility>

#include "bespoke/task/encoding/python_json.h"
#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {
namespace {

// Draws come from mt19937_64, whose sequence the standard fixes, and are mapped to ranges by
// our own arithmetic: the standard distributions differ between library implementations.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // In [0, n); the modulo bias is below n / 2^64.
  size_t below(size_t n) { return static_cast<size_t>(engine_() % n); }
  int64_t between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<size_t>(hi - lo + 1))); }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }

  template <typename T>
  T pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }
  // `k` distinct elements of `v`.
  template <typename T>
  std::vector<T> sample(std::vector<T> v, size_t k) {
    shuffle(v);
    v.resize(k);
    return v;
  }

 private:
  std::mt19937_64 engine_;
};

// 1247503 -> "1,247,503".
std::string grouped(int64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// A non-negative count of 10^-places units as a decimal, (1247, 1) -> "124.7": numbers are
// drawn as integers so that no platform's float formatting reaches the text.
std::string fixed(int64_t scaled, int places) {
  int64_t unit = 1;
  for (int i = 0; i < places; ++i) unit *= 10;
  std::string fraction = std::to_string(scaled % unit);
  fraction.insert(0, places - fraction.size(), '0');
  return std::to_string(scaled / unit) + "." + fraction;
}

std::string num(Rng& r, int64_t lo, int64_t hi) { return std::to_string(r.between(lo, hi)); }
std::string big(Rng& r, int64_t lo, int64_t hi) { return grouped(r.between(lo, hi)); }
std::string dec(Rng& r, int64_t lo, int64_t hi, int places = 1) { return fixed(r.between(lo, hi), places); }

// Fills each "{lo-hi}" slot of `t` with an integer in [lo, hi]; "{lo-hi,}" groups thousands
// and "{lo-hi.N}" reads the bounds in units of 10^-N and writes N decimals.
std::string expand(Rng& r, const std::string& t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    const size_t close = t.find('}', i);
    if (t[i] != '{' || close == std::string::npos) {
      out += t[i];
      continue;
    }
    const std::string slot = t.substr(i + 1, close - i - 1);
    const size_t dash = slot.find('-');
    size_t used = 0;
    const int64_t lo = std::stoll(slot.substr(0, dash));
    const int64_t hi = std::stoll(slot.substr(dash + 1), &used);
    const std::string format = slot.substr(dash + 1 + used);
    const int64_t v = r.between(lo, hi);
    out += format == "," ? grouped(v) : format.empty() ? std::to_string(v) : fixed(v, std::stoi(format.substr(1)));
    i = close;
  }
  return out;
}

std::string capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string lowered(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The first option that fits the gist limit; the last one is written to always fit.
std::string fit(std::initializer_list<std::string> options) {
  for (const std::string& o : options)
    if (text::utf8_chars(o).size() <= kGistMax) return o;
  return *(options.end() - 1);
}

// One raw memory and the facts its gold record states. The wording rules that keep the gold
// faithful under mnemonic's entity extraction, which reads gist, summary, content, narrative
// and outcome joined by spaces: they name only numbers, paths and names of the input; a
// capitalised word that does not open a sentence is one of the input's names; a summary opens
// with a word of the input and a narrative with "A" or "An", so no new capitalised word or
// run of them forms where two fields meet.
struct Sample {
  std::string input;
  std::string source = "mcp", type = "general";
  std::string gist, summary, content, narrative;  // an empty content is the input itself
  std::vector<std::string> concepts;
  Json topics = Json::array(), entities = Json::array(), actions = Json::array(), causality = Json::array();
  std::string significance = "routine", tone = "neutral", outcome = "unknown";
  int salience = 50;  // hundredths, so the JSON number prints the same everywhere

  void topic(const std::string& label, const std::string& path) {
    topics.push_back(Json::object({{"label", label}, {"path", path}}));
  }
  void entity(const std::string& name, const std::string& kind, const std::string& context) {
    entities.push_back(Json::object({{"name", name}, {"type", kind}, {"context", context}}));
  }
  void action(const std::string& verb, const std::string& object, const std::string& details) {
    actions.push_back(Json::object({{"verb", verb}, {"object", object}, {"details", details}}));
  }
  void cause(const std::string& relation, const std::string& description) {
    causality.push_back(Json::object({{"relation", relation}, {"description", description}}));
  }
  void enums(const char* sig, const char* emotional_tone, const char* result, int salience_hundredths) {
    significance = sig;
    tone = emotional_tone;
    outcome = result;
    salience = salience_hundredths;
  }
};

Json gold_record(const Sample& s) {
  Json g = Json::object();
  g["gist"] = s.gist;
  g["summary"] = s.summary;
  g["content"] = s.content.empty() ? s.input : s.content;
  g["narrative"] = s.narrative;
  g["concepts"] = s.concepts;
  g["structured_concepts"] = Json::object(
      {{"topics", s.topics}, {"entities", s.entities}, {"actions", s.actions}, {"causality", s.causality}});
  g["significance"] = s.significance;
  g["emotional_tone"] = s.tone;
  g["outcome"] = s.outcome;
  g["salience"] = s.salience / 100.0;
  return g;
}

// ---- shared slot values ----

const std::vector<std::string> kPeople = {"Priya", "Marcus", "Elena", "Kenji", "Amara",  "Dmitri", "Sofia", "Jonas",
                                          "Leila", "Owen",   "Farah", "Mateo", "Ingrid", "Rahul",  "Chloe", "Tariq",
                                          "Nadia", "Felix",  "Hana",  "Bruno", "Yusuf",  "Greta"};

struct GoSite {
  std::string file, function, area;
};
const std::vector<GoSite> kGoSites = {
    {"internal/store/sqlite.go", "WriteBatch", "storage"},
    {"internal/store/compact.go", "compactSegments", "storage"},
    {"internal/api/search.go", "ServeSearch", "api"},
    {"internal/agent/retrieval/rank.go", "scoreCandidates", "retrieval"},
    {"internal/queue/worker.go", "drainJobs", "job queue"},
    {"internal/auth/session.go", "RefreshSession", "authentication"},
    {"pkg/cache/lru.go", "evictOldest", "cache"},
    {"internal/notify/webhook.go", "deliverEvent", "notifications"},
    {"internal/ingest/frontmatter.go", "parseFrontMatter", "ingest"},
    {"internal/sync/merge.go", "MergeRemote", "sync"},
};

struct PySite {
  std::string file, function;
};
const std::vector<PySite> kPySites = {
    {"scripts/backfill.py", "build_index"},       {"training/data/loader.py", "collate_batch"},
    {"app/billing/invoice.py", "apply_discount"}, {"services/ranker/features.py", "extract_features"},
    {"tools/export_csv.py", "write_rows"},        {"app/accounts/models.py", "load_profile"},
};

const std::vector<std::string> kServices = {"search-api",   "ingest-worker", "billing-svc",
                                            "auth-gateway", "ledgerd",       "notify-relay"};
const std::vector<std::string> kHosts = {"web-03",    "db-primary-1", "ci-runner-7",
                                         "edge-eu-2", "batch-11",     "api-canary"};

std::string line_no(Rng& r) { return num(r, 24, 480); }
std::string version(Rng& r) { return expand(r, "v{0-4}.{0-24}.{0-12}"); }

// ---- developer observations ----

// Optional closing sentences that stretch a note from one sentence to six: review and
// ownership remarks after a code change, tracking and sharing remarks after an observation.
enum class Followups { kChange, kObservation };

void add_followups(Rng& r, Sample& s, Followups kind, size_t count) {
  const std::vector<std::string> people = r.sample(kPeople, 4);
  const std::vector<int> picks = r.sample(std::vector<int>{0, 1, 2, 3}, count);
  for (size_t i = 0; i < picks.size(); ++i) {
    const std::string& person = people[i];
    switch (picks[i] + (kind == Followups::kChange ? 0 : 4)) {
      case 0:
        s.input += " " + person + " reviewed it before merge.";
        s.entity(person, "person", "reviewed the change");
        break;
      case 1: {
        const std::string pr = "PR #" + num(r, 120, 980);
        s.input += " Tracked in " + pr + ".";
        s.entity(pr, "pull_request", "tracks the change");
        break;
      }
      case 2:
        s.input += " Left a note for " + person + ", who owns that code.";
        s.entity(person, "person", "owns the code");
        break;
      case 3: s.input += " Nothing else changed in the diff."; break;
      case 4: {
        const std::string issue = "issue #" + num(r, 40, 900);
        s.input += " Tracked in " + issue + ".";
        s.entity(issue, "issue", "tracks the follow-up");
        break;
      }
      case 5:
        s.input += " Told " + person + " so the rest of the team knows.";
        s.entity(person, "person", "was told");
        break;
      case 6: s.input += " Adding it to the runbook."; break;
      default: s.input += " Worth raising at the next planning meeting."; break;
    }
  }
}

Sample dev_tuning(Rng& r) {
  struct Knob {
    std::string name, unit;
    int64_t lo, hi;
  };
  const std::vector<Knob> knobs = {{"max_open_conns", "", 4, 64},     {"busy_timeout", " ms", 100, 5000},
                                   {"worker_count", "", 2, 32},       {"batch_size", " rows", 50, 2000},
                                   {"cache_entries", "", 512, 16384}, {"read_timeout", " s", 2, 60}};
  const Knob k = r.pick(knobs);
  const GoSite site = r.pick(kGoSites);
  const int64_t lo = r.between(k.lo, (k.lo + k.hi) / 2);
  const std::string from = std::to_string(lo) + k.unit, to = std::to_string(r.between(lo + 1, k.hi)) + k.unit;
  const std::string verb = r.pick(std::vector<std::string>{"Raised", "Bumped", "Increased"});
  const std::string line = line_no(r);
  struct Symptom {
    std::string text, gist, gone;
  };
  const std::vector<Symptom> symptoms = {
      {"calls to " + site.function + " started timing out after " + num(r, 5, 30) + " s", "timeouts",
       "The timeouts stopped."},
      {"p99 latency hit " + num(r, 400, 3000) + " ms during the nightly import", "slow requests during the import",
       "The import is fast again."},
      {big(r, 1200, 40000) + " jobs piled up in the queue", "a queue backlog", "The backlog has cleared."}};
  const Symptom why = r.pick(symptoms);
  Sample s;
  s.input = verb + " " + k.name + " in " + site.file + ":" + line + " from " + from + " to " + to + " after " +
            why.text + ".";
  const bool fixed_it = r.chance(50);
  s.input += fixed_it ? " " + why.gone : " Watching it for a day before closing the ticket.";
  add_followups(r, s, Followups::kChange, r.below(4));
  s.gist = fit({verb + " " + k.name + " to " + to + " in " + basename(site.file), verb + " " + k.name + " to " + to});
  s.summary = verb + " " + k.name + " from " + from + " to " + to + " in " + basename(site.file) + ":" + line +
              " after " + why.gist + (fixed_it ? ", which has since cleared." : "; still being watched.");
  s.narrative = "A configuration change in the " + site.area + " code, made in response to " + why.gist + ".";
  s.concepts = {"configuration", site.area, "performance"};
  s.topic("configuration", "engineering/configuration");
  s.entity(site.file, "file", "where " + k.name + " is set");
  s.entity(k.name, "setting", "the value that changed");
  s.action(lowered(verb), k.name, from + " to " + to);
  s.cause("response_to", why.text);
  s.enums("notable", "neutral", fixed_it ? "success" : "ongoing", int(r.between(48, 62)));
  return s;
}

Sample dev_bugfix(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string line = line_no(r);
  struct Bug {
    std::string name, mechanism, effect;
  };
  const std::string k = num(r, 3, 20), n = num(r, 40, 900);
  const std::vector<Bug> bugs = {
      {"an off-by-one", "the loop stopped one element early", "so limit=" + k + " returned one result too few"},
      {"a nil map write", "the overrides map was never initialised", "so configs without overrides panicked"},
      {"a stale cache read", "entries survived a schema change", "so rows older than " + n + " s were served"},
      {"a goroutine leak", "each cancelled request left a ticker running", "so " + n + " goroutines piled up per hour"},
      {"a timezone bug", "timestamps were parsed as local time", "so events shifted by " + num(r, 1, 9) + " hours"}};
  const Bug bug = r.pick(bugs);
  const std::string test =
      "Test" + capitalised(site.function) + r.pick(std::vector<std::string>{"Bounds", "Regression", "Empty"});
  Sample s;
  s.input = "Fixed " + bug.name + " in " + site.function + " (" + site.file + ":" + line + "): " + bug.mechanism +
            ", " + bug.effect + ".";
  const bool with_test = r.chance(60);
  if (with_test) s.input += " Added " + test + " to cover it.";
  const std::string release = version(r);
  const bool shipped = r.chance(40);
  if (shipped) s.input += " Ships in " + release + ".";
  add_followups(r, s, Followups::kChange, r.below(3));
  s.gist = fit({"Fixed " + bug.name + " in " + site.function, "Fixed " + bug.name});
  s.summary = "Fixed " + bug.name + " in " + site.function + " at " + basename(site.file) + ":" + line + "; " +
              bug.mechanism + (shipped ? ", shipping in " + release + "." : ".");
  s.narrative = "A bug fix in the " + site.area + " code" + (with_test ? ", with a regression test added." : ".");
  s.concepts = {"bug fix", site.area, "debugging"};
  if (with_test) s.concepts.push_back("testing");
  s.topic("debugging", "engineering/debugging");
  s.entity(site.function, "function", "where the bug was");
  s.entity(site.file, "file", "line " + line);
  if (with_test) s.entity(test, "test", "regression test for the fix");
  if (shipped) s.entity(release, "version", "release carrying the fix");
  s.action("fixed", bug.name, bug.mechanism);
  s.cause("caused", bug.effect);
  s.enums("notable", "satisfying", "success", int(r.between(55, 68)));
  return s;
}

Sample dev_latency(Rng& r) {
  const std::vector<std::string> changes = {
      "switching the embedding cache to an LRU with " + big(r, 1024, 65536) + " entries",
      "adding a covering index on (tenant_id, created_at)", "batching inserts " + num(r, 50, 500) + " at a time",
      "moving JSON decoding off the request goroutine", "precomputing the BM25 norms at ingest"};
  const std::string change = r.pick(changes);
  const std::string op = r.pick(std::vector<std::string>{"search", "ingest", "checkout", "recall"});
  const int64_t before = r.between(90, 900);
  const std::string a = std::to_string(before), b = std::to_string(r.between(before / 6, before * 2 / 3));
  const bool replay = r.chance(50);
  const std::string bench = replay ? "a staging replay of " + big(r, 20000, 400000) + " requests"
                                   : "the " + num(r, 50, 900) + "k-document benchmark";
  Sample s;
  s.type = "insight";
  s.input = "After " + change + ", p95 " + op + " latency went from " + a + " ms to " + b + " ms on " + bench + ".";
  const bool memory_cost = r.chance(50);
  const std::string mb = num(r, 20, 600);
  if (memory_cost) s.input += " Resident memory grew by " + mb + " MB, which we can afford.";
  add_followups(r, s, Followups::kObservation, r.below(3));
  s.gist = fit({"p95 " + op + " latency " + a + " ms -> " + b + " ms", "p95 " + op + " latency down to " + b + " ms"});
  s.summary = "After " + change + ", p95 " + op + " latency dropped from " + a + " ms to " + b + " ms" +
              (memory_cost ? " at a cost of " + mb + " MB of memory." : ".");
  s.narrative = "A performance measurement of the " + op + " path, taken on " +
                (replay ? "a staging replay." : "a benchmark run.");
  s.concepts = {"performance", "latency", op};
  s.topic("performance", "engineering/performance");
  s.entity("p95 " + op + " latency", "metric", a + " ms before, " + b + " ms after");
  s.action("measured", "p95 " + op + " latency", a + " ms to " + b + " ms");
  s.cause("led_to", change + " cut latency");
  s.enums("notable", "satisfying", "success", int(r.between(55, 70)));
  return s;
}

Sample dev_upgrade(Rng& r) {
  struct Module {
    std::string name, effect;
  };
  const std::vector<Module> modules = {
      {"github.com/mattn/go-sqlite3", "the FTS5 tokenizer warning is gone"},
      {"golang.org/x/net", "the HTTP/2 stream reset errors stopped"},
      {"github.com/spf13/cobra", num(r, 3, 40) + " deprecation warnings left the build log"},
      {"github.com/prometheus/client_golang", "histograms now export native buckets"},
      {"google.golang.org/grpc", "the keepalive ping storm against the proxy ended"}};
  const Module m = r.pick(modules);
  const std::string from = expand(r, "v1.{2-14}.{0-9}"), to = expand(r, "v1.{15-30}.{0-9}");
  Sample s;
  s.input = "Bumped " + m.name + " from " + from + " to " + to + "; " + m.effect + ".";
  const bool tested = r.chance(60);
  const std::string tests = num(r, 120, 900), secs = dec(r, 80, 900);
  if (tested) s.input += " go test ./... passes (" + tests + " tests, " + secs + " s).";
  add_followups(r, s, Followups::kChange, r.below(2));
  s.gist = fit({"Bumped " + basename(m.name) + " to " + to, "Dependency bump to " + to});
  s.summary = "Bumped " + m.name + " from " + from + " to " + to + "; " + m.effect +
              (tested ? "; all " + tests + " tests pass." : ".");
  s.narrative = "A routine dependency upgrade" + std::string(tested ? ", checked against the full test suite." : ".");
  s.concepts = {"dependency", "go", "upgrade"};
  s.topic("dependency", "engineering/dependencies");
  s.entity(m.name, "library", "upgraded dependency");
  s.entity(to, "version", "new version");
  s.action("bumped", m.name, from + " to " + to);
  s.cause("led_to", m.effect);
  s.enums("routine", "neutral", "success", int(r.between(30, 42)));
  return s;
}

Sample dev_investigation(Rng& r) {
  const PySite site = r.pick(kPySites);
  const std::string job = r.pick(std::vector<std::string>{"backfill", "export", "reindex", "rollup"});
  const std::string error = r.pick(std::vector<std::string>{
      "MemoryError", "sqlite3.OperationalError: database is locked", "exit code 137 from the OOM killer"});
  const std::string suspect =
      r.pick(std::vector<std::string>{"the pandas merge in " + site.function, "an unbounded list in " + site.function,
                                      "the retry loop around " + site.function});
  const std::string times = num(r, 2, 5), row = big(r, 100000, 5000000);
  Sample s;
  s.type = "error";
  s.input = "The nightly " + job + " (" + site.file + ") died " + times + " times this week around row " + row +
            " with " + error + "; I suspect " + suspect + ".";
  const bool plan = r.chance(60);
  const std::string chunk = big(r, 10000, 250000);
  if (plan) s.input += " Next step: process it in " + chunk + "-row chunks.";
  add_followups(r, s, Followups::kObservation, r.below(3));
  s.gist = fit({"Nightly " + job + " keeps dying near row " + row, "Nightly " + job + " keeps dying"});
  s.summary = "The nightly " + job + " in " + site.file + " died " + times + " times near row " + row + " with " +
              error + "; " + suspect + " is the suspect.";
  s.narrative =
      "An unresolved failure of a scheduled job" + std::string(plan ? ", with chunking as the next step." : ".");
  s.concepts = {"debugging", "batch job", "python"};
  s.topic("debugging", "operations/batch-jobs");
  s.entity(site.file, "file", "the " + job + " script");
  s.entity(site.function, "function", "suspected cause");
  s.action("investigated", "nightly " + job, "dies around row " + row);
  if (plan) s.action("planned", "chunked processing", chunk + "-row chunks");
  s.cause("suspected_cause", suspect);
  s.enums("important", "frustrating", "ongoing", int(r.between(72, 84)));
  return s;
}

Sample dev_learning(Rng& r) {
  struct Lesson {
    std::string fact, instance, gist, concept;
  };
  const std::vector<Lesson> lessons = {
      {"a WAL checkpoint cannot finish while a reader holds an old snapshot",
       expand(r, "ConsolidationAgent kept a read transaction open for {8-90} s and the WAL grew to {200-900} MB"),
       "WAL checkpoints stall behind open readers", "sqlite"},
      {"Go's http.Client has no timeout unless you set one",
       "deliverEvent hung for " + num(r, 4, 40) + " minutes on a dead upstream",
       "http.Client needs an explicit timeout", "networking"},
      {"os.Rename is only atomic within one filesystem", "the export to /tmp/exports failed across mounts",
       "os.Rename is not atomic across filesystems", "filesystem"},
      {"Python's default recursion limit is 1000",
       "parse_tree hit it on a config nested " + num(r, 1001, 1400) + " levels deep",
       "parse_tree hit the recursion limit", "python"},
      {"VACUUM cannot reclaim rows an idle transaction can still see",
       "one stuck session pinned " + dec(r, 12, 90) + " GB of dead tuples", "Idle transactions block VACUUM",
       "database"}};
  const Lesson l = r.pick(lessons);
  Sample s;
  s.type = "learning";
  s.input = "Learned that " + l.fact + "; in our case " + l.instance + ".";
  add_followups(r, s, Followups::kObservation, r.below(3));
  s.gist = l.gist;
  s.summary = "Learned that " + l.fact + ", which explains why " + l.instance + ".";
  s.narrative = "A lesson recorded together with the case in our code that taught it.";
  s.concepts = {l.concept, "lesson", "debugging"};
  s.topic(l.concept, "knowledge/" + l.concept);
  s.action("learned", l.gist, l.instance);
  s.cause("explains", l.instance);
  s.enums("notable", "neutral", "unknown", int(r.between(50, 64)));
  return s;
}

Sample dev_deploy(Rng& r) {
  const std::string service = r.pick(kServices), release = version(r);
  const int64_t pods = r.between(4, 24);
  const std::string canary = std::to_string(r.between(1, pods / 2)), total = std::to_string(pods);
  const std::string region = r.pick(std::vector<std::string>{"us-east-1", "eu-west-2", "ap-south-1"});
  const std::string rate = dec(r, 1, 40, 2);
  Sample s;
  s.input = "Deployed " + release + " of " + service + " to " + canary + " of " + total + " pods in " + region +
            "; error rate holding at " + rate + "%.";
  const std::string limit = dec(r, 50, 100, 2);
  const bool plan = r.chance(60);
  if (plan) s.input += " Full rollout tomorrow if it stays under " + limit + "%.";
  add_followups(r, s, Followups::kObservation, r.below(3));
  s.gist = fit({"Deployed " + service + " " + release + " to " + canary + " of " + total + " pods",
                "Deployed " + service + " " + release});
  s.summary = "Deployed " + release + " of " + service + " to " + canary + " of " + total + " pods in " + region +
              " with the error rate at " + rate + "%" +
              (plan ? "; full rollout if it stays under " + limit + "%." : ".");
  s.narrative = "A partial canary rollout that is still being watched.";
  s.concepts = {"deployment", "canary", "monitoring"};
  s.topic("deployment", "operations/deployment");
  s.entity(service, "service", "deployed in " + region);
  s.entity(release, "version", "release being rolled out");
  s.action("deployed", service + " " + release, canary + " of " + total + " pods");
  s.enums("notable", "neutral", "ongoing", int(r.between(50, 62)));
  return s;
}

Sample dev_refactor(Rng& r) {
  struct Split {
    std::string dir, file, a, b, c;
  };
  const std::vector<Split> splits = {{"internal/api/", "handlers.go", "search.go", "ingest.go", "admin.go"},
                                     {"internal/store/", "store.go", "reads.go", "writes.go", "migrate.go"},
                                     {"app/billing/", "views.py", "invoices.py", "refunds.py", "reports.py"},
                                     {"internal/agent/", "agent.go", "encode.go", "recall.go", "dream.go"}};
  const Split sp = r.pick(splits);
  const std::string lines = big(r, 900, 3200), tests = num(r, 60, 700);
  Sample s;
  s.input = "Split " + sp.dir + sp.file + " (" + lines + " lines) into " + sp.a + ", " + sp.b + " and " + sp.c +
            " under " + sp.dir + "; no behaviour change, " + tests + " tests still pass.";
  add_followups(r, s, Followups::kChange, r.below(4));
  s.gist = fit(
      {"Split " + sp.file + " into " + sp.a + ", " + sp.b + " and " + sp.c, "Split " + sp.file + " into three files"});
  s.summary = "Split " + sp.dir + sp.file + ", " + lines + " lines long, into " + sp.a + ", " + sp.b + " and " + sp.c +
              " with no behaviour change; " + tests + " tests pass.";
  s.narrative = "A pure refactor to make a large file easier to navigate.";
  s.concepts = {"refactoring", "code organization"};
  s.topic("refactoring", "engineering/refactoring");
  s.entity(sp.dir + sp.file, "file", lines + " lines before the split");
  for (const std::string& f : {sp.a, sp.b, sp.c}) s.entity(f, "file", "new file from the split");
  s.action("split", sp.file, "into " + sp.a + ", " + sp.b + " and " + sp.c);
  s.enums("routine", "satisfying", "success", int(r.between(32, 45)));
  return s;
}

Sample dev_decision(Rng& r) {
  struct Choice {
    std::string thing, file, pick, instead, gist, concept;
  };
  const std::string cap = num(r, 20, 120), fixed_delay = num(r, 2, 10), ttl = num(r, 5, 60), size = num(r, 2, 16);
  const std::vector<Choice> choices = {
      {"webhook retries", "internal/notify/webhook.go", "exponential backoff capped at " + cap + " s",
       "a fixed " + fixed_delay + " s delay", "Webhook retries: backoff capped at " + cap + " s", "retries"},
      {"session storage", "internal/auth/session.go", "signed cookies with a " + ttl + "-minute TTL",
       "server-side sessions in Redis", "Sessions move to signed cookies", "authentication"},
      {"search pagination", "internal/api/search.go", "cursor-based pages", "OFFSET/LIMIT",
       "Search pagination switches to cursors", "api"},
      {"log shipping", "deploy/vector.toml", "batches of " + size + " MB", "one request per line",
       "Log shipping batches at " + size + " MB", "logging"}};
  const Choice c = r.pick(choices);
  const std::string person = r.pick(kPeople);
  Sample s;
  s.type = "decision";
  s.input = "Going with " + c.pick + " for " + c.thing + " in " + c.file + " instead of " + c.instead + "; " + person +
            " agreed in review.";
  add_followups(r, s, Followups::kChange, r.below(3));
  s.gist = c.gist;
  s.summary =
      "Going with " + c.pick + " for " + c.thing + " rather than " + c.instead + ", agreed with " + person + ".";
  s.narrative = "A design decision recorded at review time.";
  s.concepts = {"design decision", c.concept};
  s.topic(c.concept, "architecture/" + c.concept);
  s.entity(c.file, "file", "where " + c.thing + " live");
  s.entity(person, "person", "agreed in review");
  s.action("chose", c.pick, "over " + c.instead);
  s.enums("notable", "neutral", "success", int(r.between(55, 66)));
  return s;
}

Sample dev_flag(Rng& r) {
  const std::string flag = r.pick(
      std::vector<std::string>{"ENABLE_HYBRID_SEARCH", "USE_ASYNC_INGEST", "STRICT_TOKEN_CHECK", "NEW_RANKER_V2"});
  const std::string pct = std::to_string(5 * r.between(1, 10));
  const std::string metric = r.pick(std::vector<std::string>{"recall@10", "p99 latency", "error rate"});
  const std::string baseline = metric == "recall@10"     ? "0." + num(r, 55, 89)
                               : metric == "p99 latency" ? num(r, 150, 900) + " ms"
                                                         : dec(r, 1, 90, 2) + "%";
  Sample s;
  s.input = "Turned on " + flag + " for " + pct + "% of tenants; watching " + metric + " (baseline " + baseline + ").";
  add_followups(r, s, Followups::kObservation, r.below(3));
  s.gist = fit({flag + " enabled for " + pct + "% of tenants", flag + " enabled"});
  s.summary = "Turned on " + flag + " for " + pct + "% of tenants while watching " + metric +
              " against a baseline of " + baseline + ".";
  s.narrative = "A gradual feature-flag rollout, not yet judged.";
  s.concepts = {"feature flag", "rollout", "monitoring"};
  s.topic("rollout", "operations/feature-flags");
  s.entity(flag, "feature_flag", "enabled for " + pct + "% of tenants");
  s.action("enabled", flag, pct + "% of tenants");
  s.enums("notable", "neutral", "ongoing", int(r.between(45, 58)));
  return s;
}

Sample dev_terminal(Rng& r) {
  const std::string pkg =
      r.pick(std::vector<std::string>{"internal/store", "internal/api", "internal/queue", "pkg/cache"});
  struct Failure {
    std::string test, file;
  };
  const std::vector<Failure> failures = r.sample(std::vector<Failure>{{"TestCompactRace", "compact_test.go"},
                                                                      {"TestVacuumLock", "vacuum_test.go"},
                                                                      {"TestReplayOrder", "replay_test.go"},
                                                                      {"TestEvictUnderLoad", "evict_test.go"},
                                                                      {"TestCursorResume", "cursor_test.go"}},
                                                 2);
  const std::string f1 = failures[0].file + ":" + line_no(r), f2 = failures[1].file + ":" + line_no(r);
  const std::string passed = num(r, 12, 180), secs = dec(r, 12, 950);
  Sample s;
  s.source = "terminal";
  s.type = "command_executed";
  s.input = "ran `go test ./" + pkg + "/...`: 2 failed (" + failures[0].test + " at " + f1 + ", " + failures[1].test +
            " at " + f2 + "), " + passed + " passed in " + secs + "s";
  s.gist =
      fit({"go test ./" + pkg + "/...: 2 failed, " + passed + " passed", "go test: 2 failed, " + passed + " passed"});
  s.summary = "go test on ./" + pkg + "/... failed " + failures[0].test + " (" + f1 + ") and " + failures[1].test +
              " (" + f2 + "); " + passed + " passed in " + secs + "s.";
  s.narrative = "A terminal test run with two failing tests.";
  s.concepts = {"testing", "go", "test failure"};
  s.topic("testing", "engineering/testing");
  s.entity(failures[0].test, "test", "failed at " + f1);
  s.entity(failures[1].test, "test", "failed at " + f2);
  s.action("ran", "go test ./" + pkg + "/...", "2 failed, " + passed + " passed");
  s.enums("notable", "concerning", "failure", int(r.between(55, 66)));
  return s;
}

std::string hex_hash(Rng& r) {
  static const char kHex[] = "0123456789abcdef";
  std::string h;
  for (int i = 0; i < 7; ++i) h += kHex[r.below(16)];
  return h;
}

Sample dev_commit(Rng& r) {
  const std::string hash = hex_hash(r), person = r.pick(kPeople);
  const std::string branch = r.pick(std::vector<std::string>{"main", "release/2.4", "feat/cursor-pages"});
  const std::string message =
      r.pick(std::vector<std::string>{"retry webhook sends with backoff", "drop the legacy v1 search route",
                                      "cap batch size at the store boundary", "log slow queries above the threshold"});
  const std::string files = num(r, 2, 14), added = num(r, 10, 400), removed = num(r, 1, 200);
  Sample s;
  s.source = "git";
  s.type = "repo_changed";
  s.input = "commit " + hash + " on " + branch + " by " + person + ": \"" + message + "\" (" + files +
            " files changed, " + added + " insertions(+), " + removed + " deletions(-))";
  s.gist = fit({"Commit " + hash + ": " + message, "Commit " + hash + " on " + branch});
  s.summary = person + " committed " + hash + " to " + branch + ": " + message + "; " + files + " files changed, " +
              added + " insertions, " + removed + " deletions.";
  s.narrative = "A repository change picked up by the git watcher.";
  s.concepts = {"git", "commit"};
  s.topic("version control", "engineering/git");
  s.entity(person, "person", "commit author");
  s.entity(hash, "commit", message);
  s.action("committed", message, files + " files changed");
  s.enums("routine", "neutral", "success", int(r.between(25, 38)));
  return s;
}

Sample dev_file_change(Rng& r) {
  struct Edit {
    std::string file, key1, from1, to1, key2, from2, to2;
  };
  const std::vector<Edit> edits = {{"config/server.yaml", "port", "8080", "8443", "tls.enabled", "false", "true"},
                                   {"deploy/values.yaml", "replicas", num(r, 2, 4), num(r, 5, 12), "resources.memory",
                                    num(r, 256, 512) + "Mi", num(r, 768, 2048) + "Mi"},
                                   {"config/retrieval.toml", "top_k", num(r, 5, 10), num(r, 11, 40), "min_score",
                                    "0." + num(r, 50, 69), "0." + num(r, 70, 90)},
                                   {".github/workflows/ci.yml", "go-version", "1." + num(r, 20, 21),
                                    "1." + num(r, 22, 23), "timeout-minutes", num(r, 10, 20), num(r, 25, 45)}};
  const Edit e = r.pick(edits);
  Sample s;
  s.source = "filesystem";
  s.type = "file_modified";
  s.input = "modified " + e.file + ": " + e.key1 + " " + e.from1 + " -> " + e.to1 + ", " + e.key2 + " " + e.from2 +
            " -> " + e.to2;
  s.gist = fit({e.file + ": " + e.key1 + " and " + e.key2 + " changed", basename(e.file) + " edited"});
  s.summary = e.file + " now sets " + e.key1 + " to " + e.to1 + " (was " + e.from1 + ") and " + e.key2 + " to " +
              e.to2 + " (was " + e.from2 + ").";
  s.narrative = "A configuration file edit seen by the file watcher.";
  s.concepts = {"configuration", "config file"};
  s.topic("configuration", "operations/config-files");
  s.entity(e.file, "file", "edited configuration");
  s.action("changed", e.key1, e.from1 + " to " + e.to1);
  s.action("changed", e.key2, e.from2 + " to " + e.to2);
  s.enums("routine", "neutral", "success", int(r.between(22, 36)));
  return s;
}

Sample dev_override(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string setting =
      r.pick(std::vector<std::string>{"dedupe threshold", "similarity cutoff", "max batch size"});
  const bool ratio = setting != "max batch size";
  const std::string config_value = ratio ? "0." + num(r, 80, 95) : num(r, 200, 1000);
  const std::string code_value = ratio ? "0." + num(r, 60, 79) : num(r, 20, 150);
  const std::string config = r.pick(std::vector<std::string>{"config.yaml", "settings.toml"}), line = line_no(r);
  Sample s;
  s.type = "insight";
  s.input = "Noticed that the " + setting + " is " + config_value + " in " + config + ", but " + site.file + ":" +
            line + " hard-codes " + code_value + " and that value wins.";
  add_followups(r, s, Followups::kObservation, r.below(3));
  s.gist = fit({"Hard-coded " + setting + " in " + basename(site.file) + ":" + line, "Hard-coded " + setting});
  s.summary = "Noticed that " + basename(site.file) + ":" + line + " hard-codes the " + setting + " at " + code_value +
              ", overriding " + config_value + " from " + config + ".";
  s.narrative = "A mismatch between configuration and code, not yet fixed.";
  s.concepts = {"configuration", "bug", site.area};
  s.topic("configuration", "engineering/configuration");
  s.entity(site.file, "file", "hard-codes " + code_value);
  s.entity(config, "file", "sets " + config_value);
  s.action("noticed", "hard-coded " + setting, code_value + " overrides " + config_value);
  s.cause("overrides", "the hard-coded value beats the configured one");
  s.enums("notable", "concerning", "ongoing", int(r.between(55, 66)));
  return s;
}

using Template = Sample (*)(Rng&);
const std::vector<Template> kDeveloper = {dev_tuning,   dev_bugfix, dev_latency,     dev_upgrade,  dev_investigation,
                                          dev_learning, dev_deploy, dev_refactor,    dev_decision, dev_flag,
                                          dev_terminal, dev_commit, dev_file_change, dev_override};

// ---- stack traces ----

Sample trace_go_index(Rng& r) {
  const std::vector<GoSite> sites = r.sample(kGoSites, 2);
  const std::string i = num(r, 1, 9), l1 = line_no(r), l2 = line_no(r), g = num(r, 7, 480), release = version(r);
  const std::string pkg1 = sites[0].file.substr(0, sites[0].file.rfind('/'));
  const std::string pkg2 = sites[1].file.substr(0, sites[1].file.rfind('/'));
  Sample s;
  s.type = "error";
  s.input = "Search crashed on staging right after the " + release +
            " deploy:\n\npanic: runtime error: index out of range [" + i + "] with length " + i + "\n\ngoroutine " + g +
            " [running]:\ngithub.com/acme/ledger/" + pkg1 + "." + sites[0].function + "(...)\n\t/home/build/ledger/" +
            sites[0].file + ":" + l1 + " +0x1f4\ngithub.com/acme/ledger/" + pkg2 + "." + sites[1].function +
            "(...)\n\t/home/build/ledger/" + sites[1].file + ":" + l2 + " +0x8c";
  s.gist = fit({"Go panic: index out of range [" + i + "] in " + sites[0].function, "Go panic: index out of range"});
  s.summary = sites[0].function + " panicked at " + basename(sites[0].file) + ":" + l1 + " with index out of range [" +
              i + "] with length " + i + ", called from " + sites[1].function + " at " + basename(sites[1].file) + ":" +
              l2 + ", after the " + release + " deploy.";
  s.narrative = "A crash on staging that followed a deploy; no fix is recorded yet.";
  s.concepts = {"panic", "go", "debugging", "deployment"};
  s.topic("debugging", "engineering/crashes");
  s.entity(sites[0].function, "function", "panicked at line " + l1);
  s.entity(sites[1].function, "function", "caller at line " + l2);
  s.entity(release, "version", "deploy before the crash");
  s.action("crashed", "search on staging", "index out of range [" + i + "] with length " + i);
  s.cause("followed", "the " + release + " deploy");
  s.enums("important", "concerning", "failure", int(r.between(78, 88)));
  return s;
}

Sample trace_go_nil(Rng& r) {
  const std::vector<GoSite> sites = r.sample(kGoSites, 2);
  const std::string l1 = line_no(r), l2 = line_no(r), g = num(r, 7, 480), addr = "0x" + num(r, 10, 98);
  const std::string service = r.pick(kServices);
  Sample s;
  s.type = "error";
  s.input = service +
            " is crash-looping in production with this:\n\npanic: runtime error: invalid memory address or nil "
            "pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=" +
            addr + " pc=0x6b2f3a]\n\ngoroutine " + g + " [running]:\nmain." + sites[0].function + "(0x0)\n\t" +
            sites[0].file + ":" + l1 + "\nmain." + sites[1].function + "()\n\t" + sites[1].file + ":" + l2 +
            "\n\nThe config for the new region has no cache block, so the pointer is probably never set.";
  s.gist = fit({service + ": nil pointer dereference in " + sites[0].function, service + ": nil pointer dereference"});
  s.summary = service + " crash-loops in production on a nil pointer dereference (SIGSEGV) in " + sites[0].function +
              " at " + sites[0].file + ":" + l1 + ", reached from " + sites[1].function + " at " + sites[1].file + ":" +
              l2 + ".";
  s.narrative = "A production crash loop, likely tied to a config missing its cache block.";
  s.concepts = {"panic", "go", "nil pointer", "production incident"};
  s.topic("incident", "operations/incidents");
  s.entity(service, "service", "crash-looping in production");
  s.entity(sites[0].file, "file", "line " + l1 + " dereferences nil");
  s.entity(sites[1].file, "file", "line " + l2 + " calls it");
  s.action("crashed", service, "nil pointer dereference");
  s.cause("probable_cause", "the new region's config has no cache block");
  s.enums("critical", "concerning", "failure", int(r.between(86, 95)));
  return s;
}

Sample trace_python(Rng& r) {
  const std::vector<PySite> sites = r.sample(kPySites, 2);
  const std::string l1 = line_no(r), l2 = line_no(r);
  struct Failure {
    std::string code1, code2, error;
  };
  const std::vector<Failure> failures = {
      {"rows = " + sites[1].function + "(batch)", "return record[\"tenant_id\"]", "KeyError: 'tenant_id'"},
      {"profile = " + sites[1].function + "(user_id)", "return result.rows[0]",
       "AttributeError: 'NoneType' object has no attribute 'rows'"},
      {"total = " + sites[1].function + "(line)", "amount = float(cell)",
       "ValueError: could not convert string to float: 'n/a'"}};
  const Failure f = r.pick(failures);
  Sample s;
  s.type = "error";
  s.input = "Cron job output from last night:\nTraceback (most recent call last):\n  File \"" + sites[0].file +
            "\", line " + l1 + ", in " + sites[0].function + "\n    " + f.code1 + "\n  File \"" + sites[1].file +
            "\", line " + l2 + ", in " + sites[1].function + "\n    " + f.code2 + "\n" + f.error;
  const std::string error_type = f.error.substr(0, f.error.find(':'));
  s.gist = fit({error_type + " in " + sites[1].function + " (" + basename(sites[1].file) + ":" + l2 + ")",
                error_type + " in " + sites[1].function, error_type + " in a cron job"});
  s.summary = sites[1].function + " in " + sites[1].file + " raised " + f.error + " at line " + l2 + ", called from " +
              sites[0].function + " in " + sites[0].file + " at line " + l1 + ".";
  s.narrative = "A failed cron run; the note records only the traceback.";
  s.concepts = {"python", "traceback", "cron job"};
  s.topic("debugging", "engineering/crashes");
  s.entity(error_type, "error", f.error);
  s.entity(sites[1].file, "file", "line " + l2 + " raised");
  s.entity(sites[0].file, "file", "line " + l1 + " called it");
  s.action("raised", error_type, "in " + sites[1].function);
  s.enums("important", "concerning", "failure", int(r.between(70, 82)));
  return s;
}

Sample trace_rust(Rng& r) {
  const std::string l1 = line_no(r), c1 = num(r, 9, 40), l2 = line_no(r), c2 = num(r, 9, 40);
  const std::string module = r.pick(std::vector<std::string>{"merge", "replay", "snapshot"});
  Sample s;
  s.type = "error";
  s.input = "The sync worker died with:\n\nthread 'tokio-runtime-worker' panicked at src/sync/" + module + ".rs:" + l1 +
            ":" + c1 +
            ":\ncalled `Option::unwrap()` on a `None` value\nstack backtrace:\n   0: ledger::sync::" + module +
            "::apply_remote\n             at ./src/sync/" + module + ".rs:" + l1 + ":" + c1 +
            "\n   1: ledger::sync::session::pull\n             at ./src/sync/session.rs:" + l2 + ":" + c2 +
            "\n\nHappens only when the remote sends an empty change set.";
  s.gist = fit({"Rust panic: unwrap on None in apply_remote", "Rust panic: unwrap on None"});
  s.summary = "apply_remote in src/sync/" + module + ".rs:" + l1 +
              " panicked calling Option::unwrap() on a None value, "
              "reached from pull in src/sync/session.rs:" +
              l2 + "; it happens only on an empty change set.";
  s.narrative = "A worker crash with a known trigger but no fix yet.";
  s.concepts = {"rust", "panic", "sync"};
  s.topic("debugging", "engineering/crashes");
  s.entity("src/sync/" + module + ".rs", "file", "line " + l1 + " unwraps None");
  s.entity("apply_remote", "function", "panicking function");
  s.action("panicked", "sync worker", "unwrap on None");
  s.cause("triggered_by", "an empty change set from the remote");
  s.enums("important", "concerning", "failure", int(r.between(74, 86)));
  return s;
}

Sample trace_node(Rng& r) {
  const std::string l1 = line_no(r), c1 = num(r, 5, 40), l2 = line_no(r), c2 = num(r, 5, 40);
  const std::string field = r.pick(std::vector<std::string>{"id", "email", "createdAt"});
  const std::string page =
      r.pick(std::vector<std::string>{"the invoices page", "the admin dashboard", "the search results"});
  Sample s;
  s.type = "error";
  s.input = "Blank screen on " + page + ". Console says:\nTypeError: Cannot read properties of undefined (reading '" +
            field + "')\n    at renderRow (/app/src/components/table.js:" + l1 + ":" + c1 +
            ")\n    at Array.map (<anonymous>)\n    at renderTable (/app/src/components/table.js:" + l2 + ":" + c2 +
            ")";
  s.gist = fit({"TypeError reading '" + field + "' in renderRow", "TypeError in renderRow"});
  s.summary = "Blank screen on " + page + ": renderRow at table.js:" + l1 + " reads '" + field +
              "' of undefined, called through Array.map from renderTable at table.js:" + l2 + ".";
  s.narrative = "A front-end crash reported from the browser console.";
  s.concepts = {"javascript", "frontend", "debugging"};
  s.topic("frontend", "engineering/frontend");
  s.entity("/app/src/components/table.js", "file", "lines " + l1 + " and " + l2);
  s.entity("renderRow", "function", "reads the undefined value");
  s.action("crashed", page, "TypeError reading '" + field + "'");
  s.enums("important", "frustrating", "failure", int(r.between(66, 78)));
  return s;
}

const std::vector<Template> kStackTrace = {trace_go_index, trace_go_nil, trace_python, trace_rust, trace_node};

// ---- out-of-domain notes ----

const std::vector<std::string> kMonths = {"January", "February", "March",     "April",   "May",      "June",
                                          "July",    "August",   "September", "October", "November", "December"};
const std::vector<std::string> kSurnames = {"Okafor",  "Lindqvist", "Moreau",  "Haddad",   "Castillo", "Nakamura",
                                            "Brennan", "Petrov",    "Adeyemi", "Kowalski", "Fischer",  "Ramos"};

std::string date(Rng& r) {
  const std::string month = r.pick(kMonths);
  return month + expand(r, " {1-28}, {1998-2024}");
}

// A note outside software; `domain` names the field in the concepts and the narrative.
Sample ood(Rng& r, const std::string& domain, const std::string& kind) {
  Sample s;
  s.narrative = std::string(domain[0] == 'a' || domain[0] == 'e' ? "An " : "A ") + domain + " note with " + kind +
                "; nothing in it concerns software.";
  s.concepts = {domain};
  s.topic(domain, "general/" + domain);
  s.enums("routine", "neutral", "unknown", int(r.between(32, 48)));
  return s;
}

Sample ood_cooking(Rng& r) {
  const std::string people = num(r, 4, 12), kg = dec(r, 12, 32), hours = dec(r, 25, 40), temp = num(r, 140, 170),
                    wine = num(r, 250, 750), cook = r.pick(kPeople);
  Sample s = ood(r, "cooking", "quantities, times and temperatures");
  s.input = "Braised short ribs for " + people + " people: " + kg + " kg of ribs seared hard, then " + hours +
            " hours at " + temp + "°C in " + wine + " ml of red wine. " + cook +
            " says resting them overnight makes the fat easy to lift off.";
  s.gist = "Short ribs for " + people + ": " + hours + " hours at " + temp + "°C";
  s.summary = "Braised " + kg + " kg of short ribs for " + people + " people, " + hours + " hours at " + temp +
              "°C in " + wine + " ml of wine; " + cook + " suggests resting them overnight.";
  s.concepts.insert(s.concepts.end(), {"braising", "recipe"});
  s.entity(cook, "person", "suggested resting overnight");
  s.action("braised", "short ribs", hours + " hours at " + temp + "°C");
  return s;
}

Sample ood_legal(Rng& r) {
  const std::string unit = num(r, 2, 40),
                    street = r.pick(std::vector<std::string>{"Harbour Road", "Mill Lane", "Castle Street"});
  const std::string months = num(r, 12, 36), start = date(r), penalty = num(r, 2, 3), amount = big(r, 2400, 9800),
                    clause = expand(r, "{8-19}.{1-6}");
  Sample s = ood(r, "legal", "dates, amounts and a clause number");
  s.input = "The lease for Unit " + unit + " at " + street + " runs " + months + " months from " + start +
            ". Ending it early costs " + penalty + " months' rent (" + amount + " EUR) under clause " + clause + ".";
  s.gist = fit({"Unit " + unit + " lease: " + months + " months, clause " + clause, "Unit " + unit + " lease terms"});
  s.summary = "The Unit " + unit + " lease at " + street + " runs " + months + " months from " + start +
              "; early termination costs " + amount + " EUR under clause " + clause + ".";
  s.concepts.insert(s.concepts.end(), {"lease", "contract"});
  s.entity(street, "location", "address of Unit " + unit);
  s.action("runs", "lease", months + " months from " + start);
  return s;
}

Sample ood_medical(Rng& r) {
  const std::string age = num(r, 34, 81), hr = num(r, 88, 124), sys = num(r, 135, 170), dia = num(r, 85, 105),
                    doctor = r.pick(kSurnames), mg = r.pick(std::vector<std::string>{"5", "10", "20", "40"}),
                    days = num(r, 7, 21);
  const std::string drug = r.pick(std::vector<std::string>{"metoprolol", "amlodipine", "lisinopril"});
  Sample s = ood(r, "medical", "vital signs, a dose and a follow-up interval");
  s.input = "Patient, " + age + ", came in with a resting heart rate of " + hr + " bpm and blood pressure " + sys +
            "/" + dia + " mmHg. Dr. " + doctor + " started " + drug + " " + mg +
            " mg twice daily and booked a follow-up in " + days + " days.";
  s.gist = fit({"Patient " + age + ": BP " + sys + "/" + dia + ", " + drug + " " + mg + " mg",
                "Patient " + age + " started on " + drug});
  s.summary = "Patient, " + age + ", had a heart rate of " + hr + " bpm and blood pressure of " + sys + "/" + dia +
              " mmHg; Dr. " + doctor + " prescribed " + drug + " " + mg + " mg twice daily, follow-up in " + days +
              " days.";
  s.concepts.insert(s.concepts.end(), {"hypertension", "prescription"});
  s.entity(doctor, "person", "prescribing doctor");
  s.action("prescribed", drug, mg + " mg twice daily");
  s.enums("notable", "neutral", "ongoing", 45);
  return s;
}

Sample ood_sports(Rng& r) {
  const std::vector<std::string> teams =
      r.sample(std::vector<std::string>{"Riverside Rovers", "Northgate United", "Harbor City", "Ashford Town",
                                        "Eastfield Athletic"},
               2);
  const int64_t goals = r.between(2, 5);
  const std::string g1 = std::to_string(goals), g2 = std::to_string(r.between(0, goals - 1));
  const std::string first_name = r.pick(kPeople), scorer = first_name + " " + r.pick(kSurnames),
                    crowd = big(r, 4000, 42000), minute = num(r, 70, 89);
  Sample s = ood(r, "sports", "a score, a scorer, a minute and attendance");
  s.input = teams[0] + " beat " + teams[1] + " " + g1 + "-" + g2 + " on Saturday; " + scorer +
            " scored twice, the winner coming in minute " + minute + ", in front of " + crowd + " fans.";
  s.gist = fit({teams[0] + " beat " + teams[1] + " " + g1 + "-" + g2, teams[0] + " won " + g1 + "-" + g2});
  s.summary = teams[0] + " won " + g1 + "-" + g2 + " against " + teams[1] + "; " + scorer +
              " scored twice, including the winner in minute " + minute + ", before " + crowd + " fans.";
  s.concepts.insert(s.concepts.end(), {"football", "match report"});
  s.entity(teams[0], "team", "winner");
  s.entity(teams[1], "team", "loser");
  s.entity(scorer, "person", "scored twice");
  s.action("beat", teams[1], g1 + "-" + g2);
  s.outcome = "success";
  return s;
}

Sample ood_music(Rng& r) {
  const std::string bpm = num(r, 60, 84), marked = num(r, 88, 112), minutes = num(r, 20, 50), player = r.pick(kPeople);
  const std::string movement = r.pick(std::vector<std::string>{"second", "third", "slow"});
  Sample s = ood(r, "music", "tempos, a duration and who did what");
  s.input = "Quartet rehearsal: we took the " + movement + " movement at " + bpm + " bpm instead of the marked " +
            marked + ", and " + player + " retuned the cello's C string after " + minutes +
            " minutes because it kept drifting flat.";
  s.gist = fit({"Rehearsed the " + movement + " movement at " + bpm + " bpm", "Quartet rehearsal at " + bpm + " bpm"});
  s.summary = "Quartet rehearsal: the " + movement + " movement ran at " + bpm + " bpm against a marked " + marked +
              "; " + player + " retuned the drifting C string after " + minutes + " minutes.";
  s.concepts.insert(s.concepts.end(), {"rehearsal", "tempo"});
  s.entity(player, "person", "cellist who retuned");
  s.action("rehearsed", movement + " movement", bpm + " bpm");
  return s;
}

Sample ood_history(Rng& r) {
  const std::string bridge = r.pick(std::vector<std::string>{"Kingsmere", "Alderton", "Whitcombe"}) + " Bridge";
  const std::string month = r.pick(kMonths), opened = month + expand(r, " {1-28}, {1840-1910}");
  const std::string years = num(r, 3, 11), metres = num(r, 180, 900), cost = big(r, 60000, 480000);
  Sample s = ood(r, "history", "dates, a length and a cost");
  s.input = "The " + bridge + " opened on " + opened + " after " + years + " years of construction. It spans " +
            metres + " metres and cost " + cost + " pounds at the time.";
  s.gist = fit({bridge + " opened " + opened, bridge + " opening"});
  s.summary = "The " + bridge + " opened on " + opened + " after " + years + " years of work; it spans " + metres +
              " metres and cost " + cost + " pounds.";
  s.concepts.insert(s.concepts.end(), {"bridge", "construction"});
  s.entity(bridge, "landmark", "opened " + opened);
  s.action("opened", bridge, opened);
  return s;
}

Sample ood_chemistry(Rng& r) {
  // Tenths of a mL and thousandths of a mole per litre, so the result follows from the inputs.
  const int64_t ml = r.between(200, 500), base = r.between(50, 200), at = r.between(150, 450);
  const std::string volume = fixed(ml, 1), molar = fixed(base, 3), endpoint = fixed(at, 1),
                    conc = fixed((base * at + ml / 2) / ml, 3);
  const std::string indicator =
      r.pick(std::vector<std::string>{"phenolphthalein", "methyl orange", "bromothymol blue"});
  Sample s = ood(r, "chemistry", "volumes and molarities");
  s.input = "Titrated " + volume + " mL of the unknown acid with " + molar + " M NaOH using " + indicator +
            "; the endpoint came at " + endpoint + " mL, which puts the acid at " + conc + " M.";
  s.gist = fit({"Titration: acid at " + conc + " M", "Titration result"});
  s.summary = "Titrated " + volume + " mL of acid with " + molar + " M NaOH; endpoint at " + endpoint + " mL gives " +
              conc + " M.";
  s.concepts.insert(s.concepts.end(), {"titration", "acid"});
  s.entity("NaOH", "chemical", molar + " M titrant");
  s.action("titrated", "unknown acid", "endpoint " + endpoint + " mL");
  s.outcome = "success";
  return s;
}

Sample ood_astronomy(Rng& r) {
  const std::string time = expand(r, "{21-23}:{10-59}"), aperture = num(r, 80, 150), moons = num(r, 2, 4),
                    seeing = num(r, 2, 5), observer = r.pick(kPeople);
  Sample s = ood(r, "astronomy", "a time, an aperture and a seeing rating");
  s.input = "Observed Jupiter at " + time + " with the " + aperture + " mm refractor; " + moons +
            " moons were visible and seeing was " + seeing + "/5. " + observer + " sketched the Great Red Spot.";
  s.gist = fit({"Jupiter at " + time + ", " + moons + " moons, seeing " + seeing + "/5", "Jupiter observation"});
  s.summary = "Observed Jupiter at " + time + " through a " + aperture + " mm refractor with " + moons +
              " moons visible and seeing " + seeing + "/5; " + observer + " sketched the Great Red Spot.";
  s.concepts.insert(s.concepts.end(), {"jupiter", "observing"});
  s.entity("Jupiter", "planet", "observed target");
  s.entity(observer, "person", "sketched the Great Red Spot");
  s.action("observed", "Jupiter", aperture + " mm refractor");
  return s;
}

Sample ood_agriculture(Rng& r) {
  const std::string field = r.pick(std::vector<std::string>{"North", "Ridge", "Creek"}), planted = date(r),
                    seeds = big(r, 60000, 95000), moisture = num(r, 18, 38), rain = num(r, 5, 60);
  const std::string crop = r.pick(std::vector<std::string>{"maize", "soybeans", "sunflowers"});
  Sample s = ood(r, "agriculture", "a planting date, a density and field readings");
  s.input = "The " + field + " field went into " + crop + " on " + planted + " at " + seeds +
            " seeds per hectare. Soil moisture read " + moisture + "% and the forecast shows " + rain +
            " mm of rain this week.";
  s.gist = fit({field + " field: " + crop + " at " + seeds + " seeds/ha", field + " field planted"});
  s.summary = "The " + field + " field was planted with " + crop + " on " + planted + " at " + seeds +
              " seeds per hectare; soil moisture " + moisture + "%, " + rain + " mm of rain expected.";
  s.concepts.insert(s.concepts.end(), {crop, "planting"});
  s.action("planted", crop, seeds + " seeds per hectare");
  return s;
}

Sample ood_finance(Rng& r) {
  const std::string company = r.pick(std::vector<std::string>{"Brightwater", "Calloway", "Meridian"}) + " Foods";
  const int64_t tenths = r.between(1200, 9800);
  const std::string quarter = "Q" + num(r, 1, 4), revenue = fixed(tenths, 1), growth = dec(r, 10, 180),
                    margin = dec(r, 40, 220), guide = fixed(tenths * r.between(95, 115) / 100, 1);
  Sample s = ood(r, "finance", "revenue, growth, margin and guidance");
  s.input = company + " reported " + quarter + " revenue of " + revenue + " million dollars, up " + growth +
            "% year over year, with an operating margin of " + margin + "%. Guidance for next quarter is " + guide +
            " million.";
  s.gist = fit({company + " " + quarter + ": " + revenue + "M revenue, up " + growth + "%",
                company + " " + quarter + " results"});
  s.summary = company + " reported " + quarter + " revenue of " + revenue + " million dollars, up " + growth +
              "%, margin " + margin + "%, guiding " + guide + " million next quarter.";
  s.concepts.insert(s.concepts.end(), {"earnings", "revenue"});
  s.entity(company, "company", "reported " + quarter + " results");
  s.action("reported", quarter + " revenue", revenue + " million dollars");
  return s;
}

Sample ood_architecture(Rng& r) {
  const std::string columns = num(r, 6, 24), spacing = dec(r, 45, 90), tonnes = num(r, 40, 260),
                    target = dec(r, 30, 44), first_name = r.pick(kPeople), architect = first_name + " " + r.pick(kSurnames);
  Sample s = ood(r, "architecture", "member counts, spans and loads");
  s.input = "The atrium scheme uses " + columns + " glulam columns spaced " + spacing + " m apart to carry a " +
            tonnes + "-tonne green roof; " + architect + " wants the spacing cut to " + target + " m.";
  s.gist = fit({"Atrium: " + columns + " glulam columns at " + spacing + " m", "Atrium column layout"});
  s.summary = "The atrium uses " + columns + " glulam columns " + spacing + " m apart under a " + tonnes +
              "-tonne green roof; " + architect + " proposes " + target + " m spacing.";
  s.concepts.insert(s.concepts.end(), {"structure", "timber"});
  s.entity(architect, "person", "wants " + target + " m spacing");
  s.action("proposed", "column spacing", target + " m");
  s.outcome = "ongoing";
  return s;
}

Sample ood_linguistics(Rng& r) {
  const std::string language = r.pick(std::vector<std::string>{"Finnish", "Basque", "Icelandic"});
  const std::string donor = r.pick(std::vector<std::string>{"Swedish", "Latin", "Norse"});
  const std::string tokens = big(r, 200000, 4000000), hits = big(r, 300, 9000), share = num(r, 60, 95),
                    researcher = r.pick(kPeople);
  const std::string suffix = r.pick(std::vector<std::string>{"-sto", "-koa", "-ing"});
  Sample s = ood(r, "linguistics", "corpus counts and a percentage");
  s.input = "In our " + language + " corpus of " + tokens + " tokens the suffix " + suffix + " turns up " + hits +
            " times, " + share + "% of them after a vowel; " + researcher + " thinks it was borrowed from " + donor +
            ".";
  s.gist = fit({language + " suffix " + suffix + ": " + hits + " hits", language + " suffix count"});
  s.summary = "In a " + language + " corpus of " + tokens + " tokens, " + suffix + " occurs " + hits + " times, " +
              share + "% after vowels; " + researcher + " suspects a " + donor + " borrowing.";
  s.concepts.insert(s.concepts.end(), {"morphology", "corpus"});
  s.entity(language, "language", "corpus language");
  s.entity(researcher, "person", "suspects a borrowing from " + donor);
  s.action("counted", "suffix " + suffix, hits + " occurrences");
  return s;
}

Sample ood_aviation(Rng& r) {
  const std::string airline = r.pick(std::vector<std::string>{"EI", "BA", "LH"}), flight = airline + num(r, 100, 989);
  const std::string airport = r.pick(std::vector<std::string>{"Shannon", "Keflavik", "Gander"});
  const std::string level = "FL" + std::to_string(10 * r.between(30, 39)), minutes = num(r, 18, 55),
                    pax = num(r, 120, 290), crew = num(r, 8, 14);
  Sample s = ood(r, "aviation", "a flight level, a duration and head counts");
  s.input = "Flight " + flight + " diverted to " + airport + " from " + level +
            " after a cabin pressure warning. It landed " + minutes + " minutes later with " + pax +
            " passengers and " + crew + " crew, all unhurt.";
  s.gist = fit({"Flight " + flight + " diverted to " + airport + " from " + level, "Flight " + flight + " diversion"});
  s.summary = "Flight " + flight + " left " + level + " on a cabin pressure warning and landed at " + airport + " " +
              minutes + " minutes later; " + pax + " passengers and " + crew + " crew were unhurt.";
  s.concepts.insert(s.concepts.end(), {"diversion", "cabin pressure"});
  s.entity(airport, "airport", "diversion airport");
  s.action("diverted", "flight " + flight, "landed after " + minutes + " minutes");
  s.enums("notable", "neutral", "success", 45);
  return s;
}

Sample ood_geology(Rng& r) {
  const std::string core = "C-" + num(r, 10, 99), depth = big(r, 300, 2400), band = num(r, 12, 90),
                    age = num(r, 40, 320), porosity = dec(r, 30, 260);
  const std::string rock = r.pick(std::vector<std::string>{"basalt", "shale", "dolomite"});
  Sample s = ood(r, "geology", "depths, a thickness, an age and a porosity");
  s.input = "Core " + core + " from " + depth + " m shows a " + band + " cm band of " + rock + " dated to roughly " +
            age + " million years; porosity measured " + porosity + "%.";
  s.gist =
      fit({"Core " + core + ": " + band + " cm " + rock + " band at " + depth + " m", "Core " + core + " findings"});
  s.summary = "Core " + core + ", taken at " + depth + " m, has a " + band + " cm " + rock + " band about " + age +
              " million years old with " + porosity + "% porosity.";
  s.concepts.insert(s.concepts.end(), {rock, "core sample"});
  s.action("measured", "porosity", porosity + "%");
  return s;
}

Sample ood_nutrition(Rng& r) {
  const std::string grams = num(r, 100, 250), kcal = num(r, 110, 380), protein = dec(r, 60, 260),
                    fibre = dec(r, 30, 160), target = num(r, 90, 160), person = r.pick(kPeople);
  const std::string food = r.pick(std::vector<std::string>{"cooked lentils", "chickpeas", "tofu"});
  Sample s = ood(r, "nutrition", "a serving size and its macros");
  s.input = "A " + grams + " g serving of " + food + " has " + kcal + " kcal, " + protein + " g protein and " + fibre +
            " g fibre. " + person + " is aiming for " + target + " g of protein a day.";
  s.gist = fit({grams + " g " + food + ": " + kcal + " kcal, " + protein + " g protein", food + " macros"});
  s.summary = person + " is aiming for " + target + " g of protein a day; " + grams + " g of " + food + " gives " +
              kcal + " kcal, " + protein + " g protein and " + fibre + " g fibre.";
  s.concepts.insert(s.concepts.end(), {"protein", "diet"});
  s.entity(person, "person", "protein target " + target + " g");
  s.action("tracked", "protein intake", target + " g a day target");
  return s;
}

Sample ood_photography(Rng& r) {
  const std::string aperture = "f/" + std::to_string(r.pick(std::vector<int>{4, 8, 11, 16}));
  const std::string shutter = "1/" + std::to_string(r.pick(std::vector<int>{60, 125, 250, 500})),
                    iso = std::to_string(r.pick(std::vector<int>{100, 200, 400, 800})), lens = num(r, 24, 200),
                    sharp = num(r, 5, 30), total = num(r, 31, 80);
  Sample s = ood(r, "photography", "exposure settings and a keeper count");
  s.input = "Shot the harbour at dusk at " + aperture + ", " + shutter + " s, ISO " + iso + " on the " + lens +
            " mm lens; " + sharp + " of " + total + " frames came out sharp.";
  s.gist = fit({"Harbour at dusk: " + aperture + ", " + shutter + " s, ISO " + iso, "Harbour dusk shoot"});
  s.summary = "Harbour shoot at dusk with " + aperture + ", " + shutter + " s, ISO " + iso + " and a " + lens +
              " mm lens; " + sharp + " of " + total + " frames were sharp.";
  s.concepts.insert(s.concepts.end(), {"exposure", "landscape"});
  s.action("shot", "harbour at dusk", sharp + " of " + total + " sharp");
  return s;
}

Sample ood_meteorology(Rng& r) {
  const std::string town = r.pick(std::vector<std::string>{"Ballymore", "Tarrant", "Ostervik"}),
                    rain = dec(r, 200, 1100), hours = num(r, 3, 12), gust = num(r, 70, 140),
                    pressure = num(r, 962, 995), when = date(r);
  Sample s = ood(r, "meteorology", "rainfall, wind and pressure readings");
  s.input = "The station at " + town + " logged " + rain + " mm of rain in " + hours + " hours on " + when +
            ", with gusts to " + gust + " km/h and pressure bottoming out at " + pressure + " hPa.";
  s.gist = fit({town + ": " + rain + " mm of rain in " + hours + " hours", town + " storm readings"});
  s.summary = "The " + town + " station recorded " + rain + " mm of rain in " + hours + " hours on " + when +
              ", gusts of " + gust + " km/h and a low of " + pressure + " hPa.";
  s.concepts.insert(s.concepts.end(), {"storm", "rainfall"});
  s.entity(town, "location", "weather station");
  s.action("logged", "rainfall", rain + " mm");
  return s;
}

Sample ood_logistics(Rng& r) {
  const std::vector<std::string> ports =
      r.sample(std::vector<std::string>{"Rotterdam", "Antwerp", "Felixstowe", "Hamburg"}, 2);
  const std::string container = "MSKU" + num(r, 1000000, 9999999), pallets = num(r, 18, 33), kg = big(r, 8000, 26000),
                    days = num(r, 2, 9), when = date(r);
  Sample s = ood(r, "logistics", "a container number, a weight and an arrival estimate");
  s.input = "Container " + container + " left " + ports[0] + " on " + when + " with " + pallets + " pallets (" + kg +
            " kg gross); it is due in " + ports[1] + " in " + days + " days.";
  s.gist =
      fit({container + ": " + ports[0] + " to " + ports[1] + ", " + pallets + " pallets", container + " shipment"});
  s.summary = "Container " + container + " departed " + ports[0] + " on " + when + " carrying " + pallets +
              " pallets, " + kg + " kg gross, due in " + ports[1] + " in " + days + " days.";
  s.concepts.insert(s.concepts.end(), {"shipping", "container"});
  s.entity(container, "container", "in transit");
  s.entity(ports[1], "port", "destination");
  s.action("shipped", pallets + " pallets", ports[0] + " to " + ports[1]);
  s.outcome = "ongoing";
  return s;
}

Sample ood_education(Rng& r) {
  const int64_t total = r.between(22, 34);
  const std::string passed = std::to_string(r.between(total / 2, total)), of = std::to_string(total),
                    median = num(r, 58, 84), teacher = r.pick(kPeople);
  Sample s = ood(r, "education", "pass counts and a median score");
  s.input = passed + " of " + of + " students passed the algebra midterm and the median was " + median + "/100. " +
            teacher + " will reteach quadratic equations next week.";
  s.gist = fit(
      {"Algebra midterm: " + passed + " of " + of + " passed, median " + median + "/100", "Algebra midterm results"});
  s.summary = passed + " of " + of + " students passed the algebra midterm with a median of " + median + "/100; " +
              teacher + " will reteach quadratic equations.";
  s.concepts.insert(s.concepts.end(), {"exam results", "algebra"});
  s.entity(teacher, "person", "reteaching quadratics");
  s.action("passed", "algebra midterm", passed + " of " + of + " students");
  return s;
}

Sample ood_automotive(Rng& r) {
  const std::string year = num(r, 2009, 2021), model = r.pick(std::vector<std::string>{"Corolla", "Golf", "Civic"}),
                    km = big(r, 60000, 240000), cylinder = num(r, 1, 4), rpm = num(r, 650, 850);
  Sample s = ood(r, "automotive", "a mileage, a cylinder number and an idle speed");
  s.input = "The " + year + " " + model + " came in at " + km + " km with a misfire on cylinder " + cylinder +
            ". Swapped the coil pack and all four plugs; idle is steady at " + rpm + " rpm now.";
  s.gist = fit({year + " " + model + ": misfire on cylinder " + cylinder + " fixed", model + " misfire fixed"});
  s.summary = "The " + year + " " + model + " at " + km + " km had a cylinder " + cylinder +
              " misfire; a new coil pack and plugs brought idle to a steady " + rpm + " rpm.";
  s.concepts.insert(s.concepts.end(), {"misfire", "repair"});
  s.entity(model, "vehicle", year + " model at " + km + " km");
  s.action("replaced", "coil pack and plugs", "cylinder " + cylinder + " misfire");
  s.outcome = "success";
  return s;
}

Sample ood_marine(Rng& r) {
  const std::string turtles = num(r, 6, 48), transect = dec(r, 10, 60), temp = dec(r, 240, 310), delta = dec(r, 5, 25),
                    reef = r.pick(std::vector<std::string>{"Coral Bay", "Pelican Point", "Turtle Rock"});
  Sample s = ood(r, "marine biology", "a count, a distance and water temperatures");
  s.input = "Counted " + turtles + " green sea turtles along the " + transect + " km transect off " + reef +
            ". Water was " + temp + "°C, " + delta + " degrees above the seasonal average.";
  s.gist = fit({turtles + " green turtles on the " + reef + " transect", "Turtle count off " + reef});
  s.summary = "Counted " + turtles + " green sea turtles over " + transect + " km off " + reef + " in water at " +
              temp + "°C, " + delta + " degrees above average.";
  s.concepts = {"marine biology", "survey", "sea turtles"};
  s.entity(reef, "location", "survey site");
  s.action("counted", "green sea turtles", turtles);
  return s;
}

Sample ood_archaeology(Rng& r) {
  const std::string trench = num(r, 2, 14),
                    site = r.pick(std::vector<std::string>{"Hollow Hill", "Stanmore", "Dunrae"}),
                    sherds = num(r, 20, 240), depth = num(r, 40, 180), era = num(r, 800, 2400), lead = r.pick(kPeople);
  Sample s = ood(r, "archaeology", "find counts, a depth and a date estimate");
  s.input = "Trench " + trench + " at the " + site + " dig turned up " + sherds +
            " pottery sherds and a bronze pin at " + depth + " cm. " + lead + " puts the layer at about " + era +
            " BC.";
  s.gist = fit({"Trench " + trench + ": " + sherds + " sherds and a bronze pin", "Trench " + trench + " finds"});
  s.summary = "Trench " + trench + " at " + site + " yielded " + sherds + " sherds and a bronze pin at " + depth +
              " cm; " + lead + " dates the layer to about " + era + " BC.";
  s.concepts.insert(s.concepts.end(), {"excavation", "pottery"});
  s.entity(lead, "person", "dated the layer");
  s.action("excavated", "trench " + trench, sherds + " sherds");
  return s;
}

Sample ood_energy(Rng& r) {
  const std::string mw = num(r, 20, 180), mwh = big(r, 2000, 30000), factor = dec(r, 90, 290),
                    town = r.pick(std::vector<std::string>{"Millbrook", "Castlerea", "Vendsyssel"}),
                    month = r.pick(kMonths);
  Sample s = ood(r, "energy", "capacity, output and a capacity factor");
  s.input = "The " + mw + " MW solar farm near " + town + " produced " + mwh + " MWh in " + month +
            ", a capacity factor of " + factor + "%.";
  s.gist = fit({"Solar farm near " + town + ": " + mwh + " MWh", "Solar output near " + town + " in MWh"});
  s.summary = "The " + mw + " MW solar farm near " + town + " generated " + mwh + " MWh in " + month + " at a " +
              factor + "% capacity factor.";
  s.concepts.insert(s.concepts.end(), {"solar", "generation"});
  s.entity(town, "location", "solar farm site");
  s.action("produced", "electricity", mwh + " MWh");
  return s;
}

const std::vector<Template> kOutOfDomain = {
    ood_cooking,   ood_legal,      ood_medical,     ood_sports,      ood_music,        ood_history,
    ood_chemistry, ood_astronomy,  ood_agriculture, ood_finance,     ood_architecture, ood_linguistics,
    ood_aviation,  ood_geology,    ood_nutrition,   ood_photography, ood_meteorology,  ood_logistics,
    ood_education, ood_automotive, ood_marine,      ood_archaeology, ood_energy};

// ---- adversarial twins ----

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

// Side A picks the topic's first option, side B the second, each with two of its own reasons.
std::pair<Sample, Sample> twins(Rng& r, const TwinTopic& t) {
  const std::vector<int> frames = r.sample(std::vector<int>{0, 1, 2}, 2);
  const auto side = [&](int frame, const TwinOption& chosen, const TwinOption& rejected) {
    const std::vector<std::string> reasons = r.sample(chosen.reasons, 2);
    const std::string first = expand(r, reasons[0]), second = expand(r, reasons[1]);
    return twin_side(frame, t, chosen, rejected, first, second);
  };
  Sample a = side(frames[0], t.first, t.second);
  Sample b = side(frames[1], t.second, t.first);
  return {std::move(a), std::move(b)};
}

// ---- minimal inputs ----

enum class Terse { kSignal, kStatus, kLink, kPath, kReading, kNote, kHttp, kCommand };

struct TerseSeed {
  std::string text;  // an expand() template
  Terse kind;
  std::string concept;
  std::string person;  // a name the text mentions, if any
};

const std::vector<TerseSeed> kTerseSeeds = {
    {"SIGKILL", Terse::kSignal, "process signal", ""},
    {"SIGSEGV", Terse::kSignal, "crash", ""},
    {"ENOMEM", Terse::kSignal, "memory", ""},
    {"EADDRINUSE", Terse::kSignal, "networking", ""},
    {"OOM", Terse::kSignal, "memory", ""},
    {"segfault", Terse::kSignal, "crash", ""},
    {"deadlock", Terse::kSignal, "concurrency", ""},
    {"SIGTERM received", Terse::kSignal, "process signal", ""},
    {"build passed", Terse::kStatus, "build", ""},
    {"WAL mode on.", Terse::kStatus, "database", ""},
    {"cert renewed", Terse::kStatus, "security", ""},
    {"LGTM", Terse::kStatus, "review", ""},
    {"rolled back", Terse::kStatus, "deployment", ""},
    {"fixed it", Terse::kStatus, "fix", ""},
    {"works on my machine", Terse::kStatus, "debugging", ""},
    {"tests green again", Terse::kStatus, "testing", ""},
    {"cache cleared", Terse::kStatus, "cache", ""},
    {"hotfix merged", Terse::kStatus, "fix", ""},
    {"it works now", Terse::kStatus, "fix", ""},
    {"flaky again", Terse::kStatus, "testing", ""},
    {"migration applied", Terse::kStatus, "migration", ""},
    {"index rebuilt.", Terse::kStatus, "database", ""},
    {"staging is back up", Terse::kStatus, "deployment", ""},
    {"https://github.com/acme/ledger/pull/{300-480}", Terse::kLink, "code review", ""},
    {"https://grafana.example.com/d/api-latency", Terse::kLink, "monitoring", ""},
    {"https://docs.python.org/3/library/sqlite3.html", Terse::kLink, "documentation", ""},
    {"https://pkg.go.dev/golang.org/x/sync/errgroup", Terse::kLink, "documentation", ""},
    {"internal/store/sqlite.go:{24-480}", Terse::kPath, "source file", ""},
    {"/var/log/ledgerd/api.log", Terse::kPath, "logging", ""},
    {"~/.config/ledger/config.toml", Terse::kPath, "configuration", ""},
    {"scripts/migrate.sh", Terse::kPath, "migration", ""},
    {"/etc/nginx/conf.d/ledger.conf", Terse::kPath, "configuration", ""},
    {"disk at {85-99}%", Terse::kReading, "disk usage", ""},
    {"p99 latency {21-89.1}s", Terse::kReading, "latency", ""},
    {"queue depth {10000-90000,}", Terse::kReading, "queue", ""},
    {"{2-9} flaky tests", Terse::kReading, "testing", ""},
    {"memory at {120-300.1} GB", Terse::kReading, "memory", ""},
    {"error rate {1-99.2}%", Terse::kReading, "errors", ""},
    {"PR #{300-480} needs review", Terse::kNote, "code review", ""},
    {"Hana pushed to main", Terse::kNote, "git", "Hana"},
    {"ask Marcus about the cron", Terse::kNote, "scheduling", "Marcus"},
    {"Priya owns the rollout", Terse::kNote, "ownership", "Priya"},
    {"502 Bad Gateway", Terse::kHttp, "http error", ""},
    {"HTTP 429 from the payments API", Terse::kHttp, "rate limiting", ""},
    {"403 on /api/admin", Terse::kHttp, "authorization", ""},
    {"504 after {30-60} s", Terse::kHttp, "timeout", ""},
    {"git stash pop", Terse::kCommand, "git", ""},
    {"kubectl rollout undo deploy/api", Terse::kCommand, "kubernetes", ""},
    {"VACUUM;", Terse::kCommand, "database", ""},
    {"SELECT count(*) FROM jobs;", Terse::kCommand, "sql", ""},
    {"make clean && make", Terse::kCommand, "build", ""},
    {"go mod tidy", Terse::kCommand, "dependency", ""},
    {"docker compose down -v", Terse::kCommand, "docker", ""},
};

Sample minimal(Rng& r) {
  TerseSeed seed = r.pick(kTerseSeeds);
  // A quarter are two-word work notes, as terse as the seeds but less repetitive.
  if (r.chance(25)) {
    const std::string verb =
        r.pick(std::vector<std::string>{"fixed", "added", "removed", "updated", "deployed", "tested", "reviewed"});
    const std::string noun = r.pick(
        std::vector<std::string>{"auth", "cache", "config", "schema", "endpoint", "migration", "index", "query"});
    seed = {verb + " " + noun, Terse::kStatus, noun, ""};
  }
  Sample s;
  s.input = expand(r, seed.text);
  s.gist = s.input.back() == '.' ? s.input.substr(0, s.input.size() - 1) : s.input;
  const std::string said = s.input.back() == '.' || s.input.back() == ';' ? s.input : s.input + ".";
  switch (seed.kind) {
    case Terse::kSignal:
      s.summary = "A bare error name: " + said;
      s.narrative = "A signal or error name alone; no process, time or cause came with it.";
      s.enums("routine", "concerning", "unknown", int(r.between(25, 35)));
      break;
    case Terse::kStatus:
      s.summary = "A terse status note: " + said;
      s.narrative = "A status line that names no system, person or time.";
      s.enums("routine", "neutral", "success", int(r.between(10, 20)));
      break;
    case Terse::kLink:
      s.summary = "A bare link with no note: " + s.input;
      s.narrative = "A saved link; no reason for saving it was given.";
      s.entity(s.input, "url", "saved link");
      s.enums("routine", "neutral", "unknown", int(r.between(10, 18)));
      break;
    case Terse::kPath:
      s.summary = "A file reference with no note: " + s.input;
      s.narrative = "A path on its own; no change or problem is described.";
      s.entity(s.input, "file", "referenced path");
      s.enums("routine", "neutral", "unknown", int(r.between(10, 18)));
      break;
    case Terse::kReading:
      s.summary = "A one-line reading: " + said;
      s.narrative = "A single reading; no threshold or follow-up is mentioned.";
      s.enums("routine", "concerning", "ongoing", int(r.between(25, 36)));
      break;
    case Terse::kNote:
      s.summary = "A one-line work note: " + said;
      s.narrative = "A work note with no further context.";
      s.enums("routine", "neutral", "ongoing", int(r.between(15, 25)));
      break;
    case Terse::kHttp:
      s.summary = "A bare HTTP status: " + s.input;
      s.narrative = "A status code alone; no request or cause is described.";
      s.enums("routine", "concerning", "failure", int(r.between(22, 32)));
      break;
    case Terse::kCommand:
      if (r.chance(50)) {
        s.source = "terminal";
        s.type = "command_executed";
      }
      s.summary = "A lone command with no output: " + s.input;
      s.narrative = "A command with no output or result recorded.";
      s.enums("routine", "neutral", "unknown", int(r.between(10, 18)));
      break;
  }
  if (!seed.person.empty()) s.entity(seed.person, "person", "named in the note");
  s.concepts = {seed.concept};
  s.topic(seed.concept, "status/" + seed.concept);
  return s;
}

// ---- dense numbers ----

Sample dense(Rng& r, const std::string& concept, const std::string& what) {
  Sample s;
  s.type = "insight";
  s.narrative = "A " + what + " packed with figures, kept as given.";
  s.concepts = {concept, "metrics"};
  s.topic(concept, "metrics/" + concept);
  s.enums("notable", "neutral", "unknown", int(r.between(50, 62)));
  return s;
}

Sample dense_alert(Rng& r) {
  const std::string host = r.pick(kHosts), time = expand(r, "{10-23}:{10-59}"), p99 = big(r, 1200, 4800),
                    minutes = num(r, 5, 25), cpu = dec(r, 800, 999), mem = dec(r, 480, 630), conns = num(r, 900, 1990),
                    limit = "2000", errors = dec(r, 12, 90), iowait = dec(r, 50, 300);
  Sample s = dense(r, "monitoring", "monitoring alert");
  s.input = "Alert on " + host + " at " + time + ": p99 latency " + p99 + " ms against an 800 ms threshold for " +
            minutes + " minutes, CPU at " + cpu + "%, memory " + mem + " of 64 GB, " + conns +
            " open connections (limit " + limit + "), error rate " + errors + "% and I/O wait " + iowait + "%.";
  s.gist = fit({"Alert on " + host + ": p99 " + p99 + " ms, CPU " + cpu + "%", "Alert on " + host});
  s.summary = "Alert on " + host + ": p99 latency " + p99 + " ms over the 800 ms threshold for " + minutes +
              " minutes, with CPU at " + cpu + "% and errors at " + errors + "%.";
  s.entity(host, "host", "alerting host");
  s.action("alerted", "p99 latency", p99 + " ms for " + minutes + " minutes");
  s.enums("important", "concerning", "ongoing", int(r.between(72, 85)));
  return s;
}

Sample dense_training(Rng& r) {
  const int64_t total = 1000 * r.between(20, 90);
  const std::string step = grouped(r.between(1, total / 1000 - 1) * 1000), all = grouped(total),
                    loss = dec(r, 12000, 26000, 4), eval = dec(r, 12500, 27000, 4), lr = dec(r, 10, 60) + "e-4",
                    grad = dec(r, 20, 150, 2), tps = big(r, 9000, 52000), mem = dec(r, 400, 790),
                    step_time = dec(r, 40, 180, 2), eta = dec(r, 10, 300),
                    batch = std::to_string(64 * r.between(2, 16));
  Sample s = dense(r, "training", "training log line");
  s.input = "Step " + step + " of " + all + ": train loss " + loss + ", eval loss " + eval + ", lr " + lr +
            ", grad norm " + grad + ", " + tps + " tokens/s, GPU memory " + mem + " of 80 GB, " + step_time +
            " s per step, batch of " + batch + " sequences, ETA " + eta + " h.";
  s.gist = fit({"Step " + step + ": loss " + loss + ", eval " + eval, "Step " + step + " training stats"});
  s.summary = "Step " + step + " of " + all + " has train loss " + loss + " and eval loss " + eval + " at lr " + lr +
              ", " + tps + " tokens/s, ETA " + eta + " h.";
  s.action("logged", "training step " + step, "loss " + loss);
  s.outcome = "ongoing";
  return s;
}

Sample dense_benchmark(Rng& r) {
  const std::string rows = big(r, 100000, 5000000), btree = dec(r, 3, 30), hash = dec(r, 1, 9), scan = num(r, 180, 900),
                    size1 = num(r, 90, 240), size2 = num(r, 120, 320), insert = big(r, 12000, 90000),
                    build1 = dec(r, 40, 300), build2 = dec(r, 20, 200), p99 = dec(r, 31, 90), threads = num(r, 2, 16),
                    hits = dec(r, 700, 990);
  Sample s = dense(r, "database", "database benchmark");
  s.input = "Index benchmark on " + rows + " rows: B-tree lookup " + btree + " ms, hash lookup " + hash +
            " ms, full scan " + scan + " ms. Index sizes " + size1 + " MB (B-tree) and " + size2 +
            " MB (hash); bulk insert " + insert + " rows/s; build time " + build1 + " s and " + build2 + " s on " +
            threads + " threads. p99 B-tree lookup " + p99 + " ms with a " + hits + "% page cache hit rate.";
  s.gist = fit({"Index benchmark: B-tree " + btree + " ms, hash " + hash + " ms", "Index benchmark results"});
  s.summary = "Index benchmark on " + rows + " rows: B-tree lookups take " + btree + " ms and hash lookups " + hash +
              " ms versus a " + scan + " ms full scan; indexes use " + size1 + " MB and " + size2 + " MB.";
  s.action("benchmarked", "indexes", rows + " rows");
  return s;
}

Sample dense_ci(Rng& r) {
  const std::string pipeline = num(r, 1000, 9999), minutes = num(r, 9, 40), seconds = num(r, 10, 59),
                    passed = big(r, 800, 4000), failed = num(r, 1, 9), skipped = num(r, 3, 40),
                    coverage = dec(r, 600, 950), drop = dec(r, 1, 19), build = num(r, 2, 8), deploy = num(r, 1, 4),
                    artifact = num(r, 80, 400), queued = num(r, 10, 300), cache = dec(r, 400, 990);
  Sample s = dense(r, "ci", "CI pipeline summary");
  s.input = "Pipeline #" + pipeline + " took " + minutes + "m " + seconds + "s: " + passed + " tests passed, " +
            failed + " failed, " + skipped + " skipped. Coverage " + coverage + "% (down " + drop +
            " points); build stage " + build + " min, deploy stage " + deploy + " min; artifact size " + artifact +
            " MB; queued " + queued + " s before starting, cache hit rate " + cache + "%.";
  s.gist =
      fit({"Pipeline #" + pipeline + ": " + failed + " failed, coverage " + coverage + "%", "Pipeline #" + pipeline});
  s.summary = "Pipeline #" + pipeline + " ran " + minutes + "m " + seconds + "s with " + passed + " passed, " + failed +
              " failed and " + skipped + " skipped; coverage fell " + drop + " points to " + coverage + "%.";
  s.action("ran", "pipeline #" + pipeline, failed + " failures");
  s.enums("notable", "concerning", "failure", int(r.between(55, 68)));
  return s;
}

Sample dense_finance(Rng& r) {
  const std::string quarter = "Q" + num(r, 1, 4), revenue = dec(r, 120, 990, 2), growth = dec(r, 10, 250),
                    margin = dec(r, 300, 750), opex = dec(r, 50, 300, 2), income = dec(r, 5, 90, 2),
                    cash = dec(r, 20, 300), burn = big(r, 90000, 600000), hires = num(r, 2, 30), churn = dec(r, 5, 60),
                    headcount = num(r, 40, 400), arr = dec(r, 500, 4000, 2);
  Sample s = dense(r, "finance", "quarterly finance summary");
  s.input = quarter + " close: revenue " + revenue + " million dollars (up " + growth +
            "% on the prior quarter), gross margin " + margin + "%, opex " + opex + " million, net income " + income +
            " million, cash " + cash + " million, burn " + burn + " per month, " + hires +
            " new hires for a headcount of " + headcount + ", churn " + churn + "%, ARR " + arr + " million.";
  s.gist = fit({quarter + ": revenue " + revenue + "M, margin " + margin + "%", quarter + " close figures"});
  s.summary = quarter + " revenue was " + revenue + " million dollars, up " + growth + "%, with " + margin +
              "% gross margin, " + income + " million net income and " + cash + " million cash.";
  s.action("reported", quarter + " results", "revenue " + revenue + " million");
  return s;
}

Sample dense_network(Rng& r) {
  const std::string ip = expand(r, "10.{0-255}.{0-255}.{1-254}"), hops = num(r, 5, 16),
                    rtt = dec(r, 50, 900), loss = dec(r, 1, 90), hop = num(r, 2, 5), down = num(r, 200, 940),
                    up = num(r, 40, 400), jitter = dec(r, 5, 90), mtu = r.chance(50) ? "1,500" : "9,000",
                    retransmits = num(r, 41, 400), dns = num(r, 5, 40);
  Sample s = dense(r, "networking", "network diagnostic");
  s.input = "Traceroute to " + ip + ": " + hops + " hops, average RTT " + rtt + " ms, " + loss +
            "% packet loss starting at hop " + hop + ". iperf: " + down + " Mbit/s down, " + up +
            " Mbit/s up, jitter " + jitter + " ms, MTU " + mtu + " bytes, " + retransmits +
            " TCP retransmits, DNS lookup " + dns + " ms.";
  s.gist = fit({"Path to " + ip + ": " + loss + "% loss from hop " + hop, "Network diagnostics to " + ip});
  s.summary = "Traceroute to " + ip + " took " + hops + " hops at " + rtt + " ms average RTT with " + loss +
              "% loss from hop " + hop + "; iperf measured " + down + " Mbit/s down and " + up + " Mbit/s up.";
  s.action("measured", "path to " + ip, loss + "% loss");
  s.enums("notable", "concerning", "ongoing", int(r.between(50, 62)));
  return s;
}

Sample dense_weather(Rng& r) {
  const std::string time = "0" + num(r, 5, 9) + ":00", temp = dec(r, 20, 280), dew = dec(r, 10, 190),
                    humidity = num(r, 55, 98), wind = num(r, 8, 35), gust = num(r, 36, 80),
                    bearing = std::to_string(10 * r.between(1, 35)),
                    pressure = expand(r, "{980-1030,}.{0-9}"), fall = dec(r, 5, 40),
                    rain = dec(r, 0, 300), visibility = num(r, 2, 30);
  Sample s = dense(r, "weather", "weather station log");
  s.input = "Station log " + time + ": temperature " + temp + "°C, dew point " + dew + "°C, humidity " + humidity +
            "%, wind " + wind + " km/h gusting " + gust + " km/h from " + bearing + "°, pressure " + pressure +
            " hPa and falling " + fall + " hPa over 3 hours, rain " + rain + " mm since midnight, visibility " +
            visibility + " km.";
  s.gist = fit({"Station " + time + ": " + temp + "°C, gusts " + gust + " km/h", "Station log " + time});
  s.summary = "Station log " + time + ": " + temp + "°C, humidity " + humidity + "%, gusts to " + gust +
              " km/h, pressure " + pressure + " hPa falling " + fall + " hPa, " + rain + " mm of rain.";
  s.action("recorded", "weather readings", time);
  return s;
}

Sample dense_manufacturing(Rng& r) {
  const std::string line = num(r, 1, 6), batch = num(r, 1000, 9999), units = big(r, 1200, 9600),
                    rejects = num(r, 5, 90), rate = dec(r, 10, 190, 2), bore = "12.0" + num(r, 10, 99),
                    sigma = "0.0" + num(r, 10, 30), torque = dec(r, 60, 110), cycle = dec(r, 300, 600),
                    scrap = big(r, 400, 5000), speed = num(r, 100, 180), shift = num(r, 6, 12);
  Sample s = dense(r, "quality", "manufacturing QA report");
  s.input = "Line " + line + " QA for batch " + batch + ": " + units + " units inspected, " + rejects + " rejected (" +
            rate + "%), mean bore " + bore + " mm with sigma " + sigma + " mm, average torque " + torque +
            " Nm, cycle time " + cycle + " s, line speed " + speed + " units per hour over a " + shift +
            "-hour shift, scrap cost " + scrap + " EUR.";
  s.gist =
      fit({"Batch " + batch + ": " + rejects + " rejects of " + units + " (" + rate + "%)", "Batch " + batch + " QA"});
  s.summary = "Line " + line + " batch " + batch + " had " + rejects + " rejects in " + units + " units (" + rate +
              "%), bore " + bore + " mm, sigma " + sigma + " mm, scrap cost " + scrap + " EUR.";
  s.action("inspected", "batch " + batch, units + " units");
  return s;
}

Sample dense_box_score(Rng& r) {
  const std::string player = r.pick(kSurnames);
  const int64_t made = r.between(8, 15);
  const std::string points = num(r, 24, 44), fgm = std::to_string(made), fga = std::to_string(made + r.between(4, 12)),
                    rebounds = num(r, 3, 15), assists = num(r, 2, 12), minutes = num(r, 30, 42), fg = dec(r, 400, 560),
                    three = dec(r, 280, 460), ft = num(r, 12, 22), fta = num(r, 23, 30), us = num(r, 100, 125),
                    them = num(r, 88, 99), turnovers = num(r, 6, 19);
  Sample s = dense(r, "basketball", "basketball box score");
  s.input = player + " scored " + points + " points on " + fgm + "-of-" + fga + " shooting with " + rebounds +
            " rebounds and " + assists + " assists in " + minutes + " minutes. The team shot " + fg +
            "% from the field and " + three + "% from three, made " + ft + " of " + fta + " free throws, committed " +
            turnovers + " turnovers and won " + us + "-" + them + ".";
  s.gist = fit({player + " " + points + " points in a " + us + "-" + them + " win", player + " scores " + points});
  s.summary = player + " had " + points + " points (" + fgm + "-of-" + fga + "), " + rebounds + " rebounds and " +
              assists + " assists in a " + us + "-" + them + " win; the team shot " + fg + "%.";
  s.entity(player, "person", points + " points");
  s.action("won", "game", us + "-" + them);
  s.outcome = "success";
  return s;
}

Sample dense_vehicle(Rng& r) {
  const std::string km = big(r, 20000, 240000), coolant = num(r, 88, 112), oil = dec(r, 10, 45),
                    battery = dec(r, 118, 146), trim = dec(r, 10, 150), code = "P030" + num(r, 1, 6),
                    count = num(r, 2, 9), maf = dec(r, 20, 60), consumption = dec(r, 45, 110), tyres = dec(r, 190, 260);
  Sample s = dense(r, "vehicle diagnostics", "vehicle diagnostic scan");
  s.input = "OBD scan at " + km + " km: coolant " + coolant + "°C, oil pressure " + oil + " bar at idle, battery " +
            battery + " V, long-term fuel trim +" + trim + "% on bank 1, code " + code + " logged " + count +
            " times, MAF " + maf + " g/s, consumption " + consumption + " L per 100 km, tyres at " + tyres + " bar.";
  s.gist = fit({"OBD at " + km + " km: " + code + " x" + count + ", trim +" + trim + "%", "OBD scan at " + km + " km"});
  s.summary = "OBD scan at " + km + " km logged " + code + " " + count + " times with fuel trim +" + trim +
              "%, coolant " + coolant + "°C and battery " + battery + " V.";
  s.entity(code, "fault_code", "logged " + count + " times");
  s.action("scanned", "vehicle", km + " km");
  s.enums("notable", "concerning", "unknown", int(r.between(50, 62)));
  return s;
}

const std::vector<Template> kDense = {dense_alert,     dense_training, dense_benchmark, dense_ci,
                                      dense_finance,   dense_network,  dense_weather,   dense_manufacturing,
                                      dense_box_score, dense_vehicle};

// ---- several people ----

Sample people_standup(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 3);
  const std::string test =
                        r.pick(std::vector<std::string>{"TestReplayOrder", "TestCursorResume", "TestEvictUnderLoad"}),
                    runs = num(r, 5, 30), release = version(r);
  Sample s;
  s.input = "Standup: " + p[0] + " finished the rate limiter in internal/api/limit.go; " + p[1] +
            " is still chasing the flaky " + test + ", which fails 1 run in " + runs + "; " + p[2] + " will cut " +
            release + " after lunch.";
  s.gist = fit({"Standup: " + p[0] + ", " + p[1] + " and " + p[2] + " updates", "Standup updates"});
  s.summary = p[0] + " finished the rate limiter in internal/api/limit.go, " + p[1] + " is chasing the flaky " + test +
              ", and " + p[2] + " will cut " + release + ".";
  s.narrative = "A daily standup covering three people's work.";
  s.concepts = {"standup", "release", "testing"};
  s.topic("team status", "team/standup");
  s.entity(p[0], "person", "finished the rate limiter");
  s.entity(p[1], "person", "chasing " + test);
  s.entity(p[2], "person", "cutting " + release);
  s.entity("internal/api/limit.go", "file", "rate limiter");
  s.action("finished", "rate limiter", p[0]);
  s.action("will cut", release, p[2]);
  s.enums("routine", "neutral", "ongoing", int(r.between(40, 52)));
  return s;
}

Sample people_review(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 3);
  const std::string pr = num(r, 300, 980), ttl = num(r, 10, 60);
  Sample s;
  s.input = p[0] + " opened PR #" + pr + " to move sessions to signed cookies. " + p[1] +
            " asked for a test around expiry, and " + p[2] + " approved once the TTL dropped to " + ttl + " minutes.";
  s.gist = fit({"PR #" + pr + ": sessions move to signed cookies", "PR #" + pr + " approved"});
  s.summary = p[0] + " opened PR #" + pr + " for signed-cookie sessions; " + p[1] + " asked for an expiry test and " +
              p[2] + " approved after the TTL went to " + ttl + " minutes.";
  s.narrative = "A code review with three participants and a requested change.";
  s.concepts = {"code review", "authentication", "sessions"};
  s.topic("code review", "team/code-review");
  s.entity(p[0], "person", "opened the PR");
  s.entity(p[1], "person", "asked for an expiry test");
  s.entity(p[2], "person", "approved");
  s.action("approved", "PR #" + pr, "TTL " + ttl + " minutes");
  s.cause("condition", "approval came once the TTL dropped to " + ttl + " minutes");
  s.enums("notable", "neutral", "success", int(r.between(45, 58)));
  return s;
}

Sample people_incident(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 3);
  const std::string service = r.pick(kServices), release = version(r);
  const int64_t minute = r.between(10, 40);
  const std::string paged = "02:" + std::to_string(minute),
                    recovered = "02:" + std::to_string(minute + r.between(9, 19));
  Sample s;
  s.type = "error";
  s.input = "At " + paged + " the pager woke " + p[0] + " because " + service + " was returning 5xx; " + p[0] +
            " rolled back to " + release + " by " + recovered + ". " + p[1] +
            " traced it to a bad migration the next morning and " + p[2] + " is writing the postmortem.";
  s.gist = fit({service + " 5xx incident, rolled back to " + release, service + " 5xx incident"});
  s.summary = p[0] + " was paged at " + paged + " for " + service + " 5xx errors and rolled back to " + release +
              " by " + recovered + "; " + p[1] + " traced it to a bad migration and " + p[2] +
              " is writing the postmortem.";
  s.narrative = "An overnight incident handled by three people in turn.";
  s.concepts = {"incident", "rollback", "on-call"};
  s.topic("incident", "operations/incidents");
  s.entity(p[0], "person", "on call, rolled back");
  s.entity(p[1], "person", "found the bad migration");
  s.entity(p[2], "person", "writing the postmortem");
  s.entity(service, "service", "returned 5xx");
  s.action("rolled back", service, "to " + release + " by " + recovered);
  s.cause("caused_by", "a bad migration");
  s.enums("important", "concerning", "success", int(r.between(72, 84)));
  return s;
}

Sample people_rollback(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 2);
  const std::string service = r.pick(kServices), release = version(r), time = expand(r, "{10-17}:{10-59}"),
                    spike = dec(r, 20, 190);
  Sample s;
  s.input = p[0] + " shipped " + release + " of " + service + " at " + time + ", and ten minutes later " + p[1] +
            " saw the error rate jump to " + spike + "% in Grafana. " + p[0] +
            " rolled it back before the hour was out.";
  s.gist = fit({service + " " + release + " rolled back after an error spike", service + " rollback"});
  s.summary = p[0] + " shipped " + service + " " + release + " at " + time + "; " + p[1] + " saw errors jump to " +
              spike + "% in Grafana and " + p[0] + " rolled it back.";
  s.narrative = "A short-lived release reverted within the hour.";
  s.concepts = {"rollback", "deployment", "monitoring"};
  s.topic("deployment", "operations/deployment");
  s.entity(p[0], "person", "shipped and rolled back");
  s.entity(p[1], "person", "spotted the spike");
  s.entity("Grafana", "tool", "showed the error spike");
  s.action("rolled back", service + " " + release, "after errors reached " + spike + "%");
  s.cause("caused", "the error spike led to the rollback");
  s.enums("notable", "concerning", "success", int(r.between(58, 70)));
  return s;
}

Sample people_pairing(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 2);
  const GoSite site = r.pick(kGoSites);
  const std::string hours = num(r, 2, 6);
  Sample s;
  s.input = p[0] + " and " + p[1] + " paired on the " + site.area + " migration for " + hours + " hours: " + p[0] +
            " wrote the backfill script (scripts/backfill.py) and " + p[1] + " handled the dual writes in " +
            site.file + ".";
  s.gist = fit({p[0] + " and " + p[1] + " paired on the " + site.area + " migration", "Pairing on the migration"});
  s.summary = p[0] + " wrote the backfill (scripts/backfill.py) and " + p[1] + " the dual writes in " + site.file +
              " during " + hours + " hours of pairing on the " + site.area + " migration.";
  s.narrative = "A pairing session that split the migration work in two.";
  s.concepts = {"pairing", "migration", site.area};
  s.topic("migration", "engineering/migration");
  s.entity(p[0], "person", "wrote the backfill script");
  s.entity(p[1], "person", "handled the dual writes");
  s.entity("scripts/backfill.py", "file", "backfill script");
  s.action("paired", site.area + " migration", hours + " hours");
  s.enums("routine", "satisfying", "ongoing", int(r.between(40, 52)));
  return s;
}

const std::vector<Template> kMultiPerson = {people_standup, people_review, people_incident, people_rollback,
                                            people_pairing};

// ---- other languages ----

// The note is in another language; the gold record is in English and keeps its identifiers.
Sample foreign(Rng& r, const std::string& language) {
  Sample s;
  s.narrative = "A non-English note; its identifiers and figures are kept as written.";
  s.concepts = {language};
  s.enums("notable", "neutral", "ongoing", int(r.between(50, 62)));
  return s;
}

Sample foreign_japanese(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string conns = num(r, 50, 400), from = num(r, 4, 16), to = num(r, 20, 64), before = num(r, 300, 900),
                    after = num(r, 40, 250);
  Sample s = foreign(r, "japanese");
  s.input = site.file + " の " + site.function + " で、同時接続が " + conns + " を超えるとタイムアウトが発生する。" +
            "max_open_conns を " + from + " から " + to + " に上げたところ、p95 が " + before + " ms から " + after +
            " ms に下がった。";
  s.gist = fit({site.function + ": timeouts above " + conns + " connections", "Timeouts in " + site.function});
  s.summary = site.function + " in " + site.file + " timed out above " + conns +
              " concurrent connections; raising "
              "max_open_conns from " +
              from + " to " + to + " cut p95 from " + before + " ms to " + after + " ms.";
  s.concepts.insert(s.concepts.end(), {"timeouts", "configuration"});
  s.topic("performance", "engineering/performance");
  s.entity(site.function, "function", "timed out under load");
  s.action("raised", "max_open_conns", from + " to " + to);
  s.outcome = "success";
  return s;
}

Sample foreign_german(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string release = version(r), host = r.pick(kHosts), seconds = num(r, 30, 300), person = r.pick(kPeople);
  const std::string test = r.pick(std::vector<std::string>{"TestReplayOrder", "TestCompactRace", "TestVacuumLock"});
  Sample s = foreign(r, "german");
  s.type = "error";
  s.input = "Seit " + release + " bricht der nächtliche Build auf " + host + " ab: " + test + " läuft nach " + seconds +
            " s in einen Timeout. " + person + " vermutet den neuen Verbindungspool in " + site.file + ".";
  s.gist = fit({test + " times out after " + seconds + " s since " + release, test + " times out"});
  s.summary = test + " times out after " + seconds + " s in the nightly build on " + host + " since " + release + "; " +
              person + " suspects the new connection pool in " + site.file + ".";
  s.concepts.insert(s.concepts.end(), {"ci", "timeout"});
  s.topic("testing", "engineering/ci");
  s.entity(test, "test", "times out");
  s.entity(person, "person", "suspects the connection pool");
  s.action("timed out", test, seconds + " s");
  s.cause("suspected_cause", "the new connection pool in " + site.file);
  s.enums("important", "frustrating", "ongoing", int(r.between(62, 74)));
  return s;
}

Sample foreign_spanish(Rng& r) {
  const std::string table = r.pick(std::vector<std::string>{"pedidos", "clientes", "facturas"}),
                    pg = expand(r, "{14-16}.{1-9}"), rows = big(r, 200000, 9000000), minutes = num(r, 4, 90),
                    index = "idx_" + table + "_fecha", seconds = num(r, 20, 400), person = r.pick(kPeople);
  Sample s = foreign(r, "spanish");
  s.input = "Migramos la tabla " + table + " a PostgreSQL " + pg + ": " + rows + " filas en " + minutes +
            " minutos. El índice " + index + " tardó " + seconds + " s en reconstruirse y " + person +
            " revisó los conteos.";
  s.gist = fit({table + " migrated to PostgreSQL " + pg, "Table migration to PostgreSQL " + pg});
  s.summary = table + " moved to PostgreSQL " + pg + ": " + rows + " rows in " + minutes + " minutes; rebuilding " +
              index + " took " + seconds + " s and " + person + " checked the counts.";
  s.concepts.insert(s.concepts.end(), {"migration", "postgresql"});
  s.topic("migration", "engineering/migration");
  s.entity(index, "index", "rebuilt in " + seconds + " s");
  s.entity(person, "person", "checked the row counts");
  s.action("migrated", table, rows + " rows");
  s.outcome = "success";
  return s;
}

Sample foreign_french(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string release = version(r), service = r.pick(kServices), now = num(r, 900, 2400),
                    before = num(r, 200, 800), ticket = num(r, 1000, 4999), person = r.pick(kPeople);
  Sample s = foreign(r, "french");
  s.type = "error";
  s.input = "Après la mise à jour vers " + release + ", le service " + service + " consomme " + now +
            " Mo de RAM au lieu de " + before + " Mo. " + person + " a ouvert le ticket #" + ticket +
            " et soupçonne le cache dans " + site.file + ".";
  s.gist = fit({service + " uses " + now + " Mo after " + release, service + " memory jump"});
  s.summary = service + " uses " + now + " Mo of RAM instead of " + before + " Mo since " + release + "; " + person +
              " opened ticket #" + ticket + ", suspecting the cache in " + site.file + ".";
  s.concepts.insert(s.concepts.end(), {"memory", "regression"});
  s.topic("performance", "engineering/memory");
  s.entity(service, "service", "memory regression");
  s.entity(person, "person", "opened ticket #" + ticket);
  s.action("opened", "ticket #" + ticket, "suspects the cache");
  s.enums("important", "concerning", "ongoing", int(r.between(62, 74)));
  return s;
}

Sample foreign_portuguese(Rng& r) {
  const std::string job = r.pick(std::vector<std::string>{"sync-faturas", "export-relatorios", "reindex-busca"}),
                    times = num(r, 2, 6), person = r.pick(kPeople), time = expand(r, "0{1-6}:{10-59}"),
                    timeout = num(r, 30, 120);
  const std::string error = r.pick(std::vector<std::string>{"context deadline exceeded", "connection reset by peer"});
  Sample s = foreign(r, "portuguese");
  s.type = "error";
  s.input = "O job " + job + " falhou " + times + " vezes esta noite com o erro \"" + error + "\"; " + person +
            " reiniciou o worker às " + time + " e aumentou o timeout para " + timeout + " s.";
  s.gist = fit({job + " failed " + times + " times overnight", job + " failures"});
  s.summary = job + " failed " + times + " times overnight with \"" + error + "\"; " + person +
              " restarted the worker at " + time + " and raised the timeout to " + timeout + " s.";
  s.concepts.insert(s.concepts.end(), {"batch job", "timeout"});
  s.topic("operations", "operations/batch-jobs");
  s.entity(person, "person", "restarted the worker");
  s.action("raised", "timeout", timeout + " s");
  s.enums("notable", "frustrating", "ongoing", int(r.between(55, 66)));
  return s;
}

Sample foreign_chinese(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string service = r.pick(kServices), release = version(r), before = num(r, 80, 300),
                    after = num(r, 400, 2000), person = r.pick(kPeople);
  Sample s = foreign(r, "chinese");
  s.type = "error";
  s.input = service + " 升级到 " + release + " 之后，p99 延迟从 " + before + " ms 升到 " + after + " ms。" + person +
            " 正在排查 " + site.file + " 里的锁竞争，怀疑是 " + site.function + " 持锁时间过长。";
  s.gist = fit({service + " p99 " + before + " -> " + after + " ms after " + release, service + " latency regression"});
  s.summary = service + " p99 latency rose from " + before + " ms to " + after + " ms after " + release + "; " +
              person + " is investigating lock contention in " + site.file + ", suspecting " + site.function + ".";
  s.concepts.insert(s.concepts.end(), {"latency", "lock contention"});
  s.topic("performance", "engineering/performance");
  s.entity(site.function, "function", "suspected of holding the lock too long");
  s.entity(person, "person", "investigating");
  s.action("investigating", "lock contention", site.file);
  s.enums("important", "concerning", "ongoing", int(r.between(62, 74)));
  return s;
}

const std::vector<Template> kNonEnglish = {foreign_japanese, foreign_german,     foreign_spanish,
                                           foreign_french,   foreign_portuguese, foreign_chinese};

// ---- code, HTML and emoji ----

Sample code_go(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const int64_t attempts = r.between(3, 6), base = r.pick(std::vector<int64_t>{50, 100, 200});
  const std::string n = std::to_string(attempts), first = std::to_string(base),
                    last = std::to_string(base << (attempts - 1));
  Sample s;
  s.input = "Replaced the retry loop in " + site.file + " with:\n\nfor attempt := 0; attempt < " + n +
            "; attempt++ {\n\tif err = send(ctx, ev); err == nil {\n\t\tbreak\n\t}\n\ttime.Sleep(time.Duration(" +
            first + "<<attempt) * time.Millisecond)\n}\n\nThe last wait is " + last + " ms.";
  s.gist =
      fit({"Retry loop in " + basename(site.file) + ": " + n + " attempts with backoff", "Retry loop with backoff"});
  s.summary = "Replaced the retry loop in " + site.file + " with up to " + n + " attempts, waiting " + first +
              " ms doubled per attempt, so the last wait is " + last + " ms.";
  s.narrative = "A code change quoted inline, with the loop shown in full.";
  s.concepts = {"go", "retries", "backoff"};
  s.topic("reliability", "engineering/retries");
  s.entity(site.file, "file", "holds the retry loop");
  s.action("replaced", "retry loop", n + " attempts, " + first + " ms base");
  s.enums("routine", "neutral", "success", int(r.between(40, 52)));
  return s;
}

Sample code_python(Rng& r) {
  const PySite site = r.pick(kPySites);
  const std::string max_len = std::to_string(128 * r.between(2, 16)), line = line_no(r);
  Sample s;
  s.input = "Quick fix for the tokenizer crash in " + site.file +
            ":\n```python\nif not text:\n    return []\ntokens = "
            "tokenizer.encode(text)[:" +
            max_len + "]\n```\nEmpty strings used to raise IndexError at line " + line + ".";
  s.gist =
      fit({"Empty-string guard for the tokenizer in " + basename(site.file), "Empty-string guard for the tokenizer"});
  s.summary = "Quick fix in " + site.file + ": empty strings now return [] instead of raising IndexError at line " +
              line + ", and tokens are cut at " + max_len + ".";
  s.narrative = "A small defensive fix shown as a code snippet.";
  s.concepts = {"python", "tokenizer", "fix"};
  s.topic("debugging", "engineering/debugging");
  s.entity(site.file, "file", "tokenizer call site");
  s.entity("IndexError", "error", "raised on empty strings");
  s.action("guarded", "tokenizer call", "empty input returns []");
  s.cause("prevents", "IndexError on empty strings");
  s.enums("routine", "satisfying", "success", int(r.between(42, 54)));
  return s;
}

Sample code_html(Rng& r) {
  const std::string service = r.pick(kServices), release = version(r), host = r.pick(kHosts),
                    status = r.pick(std::vector<std::string>{"500", "502", "503"}), seconds = num(r, 10, 120),
                    deploy = num(r, 1000, 9999);
  Sample s;
  s.input = "<div class=\"alert alert-danger\"><strong>Deploy failed</strong> for <code>" + service + "</code> " +
            release + " on <em>" + host + "</em>: health check returned " + status + " after " + seconds +
            " s. <a href=\"/deploys/" + deploy + "\">details</a></div>";
  s.content = "Deploy failed for " + service + " " + release + " on " + host + ": health check returned " + status +
              " after " + seconds + " s. Details at /deploys/" + deploy + ".";
  s.gist = fit({"Deploy of " + service + " " + release + " failed on " + host, "Deploy of " + service + " failed"});
  s.summary = "Deploy of " + service + " " + release + " failed on " + host + ": the health check returned " + status +
              " after " + seconds + " s.";
  s.narrative = "An HTML alert fragment; the record keeps its text and drops the markup.";
  s.concepts = {"deployment", "health check", "html"};
  s.topic("deployment", "operations/deployment");
  s.entity(service, "service", "failed deploy");
  s.entity(host, "host", "deploy target");
  s.action("failed", "deploy " + release, "health check " + status);
  s.enums("important", "concerning", "failure", int(r.between(65, 76)));
  return s;
}

Sample code_emoji(Rng& r) {
  const std::string service = r.pick(kServices), release = version(r), p95 = num(r, 40, 300), errors = dec(r, 1, 50, 2);
  const std::string handle = lowered(r.pick(kPeople));
  Sample s;
  s.input = "🚀 " + service + " " + release + " is live! 🎉 p95 down to " + p95 + " ms 🔥 error rate " + errors +
            "% ✅ thanks @" + handle + " 🙏";
  s.gist = fit({service + " " + release + " live, p95 " + p95 + " ms", service + " " + release + " live"});
  s.summary = service + " " + release + " is live with p95 at " + p95 + " ms and an error rate of " + errors +
              "%; thanks to @" + handle + ".";
  s.narrative = "An upbeat release announcement written mostly in emoji.";
  s.concepts = {"release", "deployment"};
  s.topic("release", "operations/releases");
  s.entity(service, "service", "released " + release);
  s.entity(handle, "person", "thanked for the release");
  s.action("released", service + " " + release, "p95 " + p95 + " ms");
  s.enums("notable", "exciting", "success", int(r.between(55, 66)));
  return s;
}

Sample code_sql(Rng& r) {
  const std::string table = r.pick(std::vector<std::string>{"events", "audit_log", "page_views"}),
                    seconds = dec(r, 25, 400), days = num(r, 7, 90);
  Sample s;
  s.input = "Slow query on " + table + " (" + seconds + " s):\n\nSELECT tenant_id, count(*) FROM " + table +
            " WHERE created_at > now() - interval '" + days +
            " days' GROUP BY tenant_id;\n\nAn index on (tenant_id, created_at) should fix it.";
  s.gist = fit({"Slow " + table + " query: " + seconds + " s", "Slow " + table + " query"});
  s.summary = "Slow query on " + table + " takes " + seconds + " s counting rows per tenant_id over " + days +
              " days; an index on (tenant_id, created_at) is the planned fix.";
  s.narrative = "A slow SQL query quoted in full with a proposed index.";
  s.concepts = {"sql", "database", "performance"};
  s.topic("database", "engineering/database");
  s.entity(table, "table", "slow aggregate query");
  s.action("proposed", "index", "(tenant_id, created_at)");
  s.cause("slow_because", "no index on (tenant_id, created_at)");
  s.enums("notable", "concerning", "ongoing", int(r.between(52, 64)));
  return s;
}

Sample code_table(Rng& r) {
  const std::string before = num(r, 120, 600), after = num(r, 30, 110), rss_before = num(r, 300, 900),
                    rss_after = num(r, 901, 1600), hit_before = dec(r, 300, 700), hit_after = dec(r, 710, 990);
  Sample s;
  s.input = "Before/after for the cache change:\n\n| metric | before | after |\n|---|---|---|\n| p95 | " + before +
            " ms | " + after + " ms |\n| RSS | " + rss_before + " MB | " + rss_after + " MB |\n| hit rate | " +
            hit_before + "% | " + hit_after + "% |";
  s.gist = fit({"Cache change: p95 " + before + " -> " + after + " ms", "Cache change results"});
  s.summary = "Before/after for the cache change: p95 " + before + " ms to " + after + " ms, RSS " + rss_before +
              " MB to " + rss_after + " MB, hit rate " + hit_before + "% to " + hit_after + "%.";
  s.narrative = "A markdown table comparing the same metrics before and after a change.";
  s.concepts = {"cache", "performance", "memory"};
  s.topic("performance", "engineering/performance");
  s.action("compared", "cache metrics", "p95 " + before + " ms to " + after + " ms");
  s.cause("trade_off", "lower latency at the cost of more memory");
  s.enums("notable", "satisfying", "success", int(r.between(50, 62)));
  return s;
}

const std::vector<Template> kCodeHtmlEmoji = {code_go, code_python, code_html, code_emoji, code_sql, code_table};

// ---- handoffs ----

Sample handoff(Rng& r) {
  const std::string repo = r.pick(std::vector<std::string>{"ledger", "field-notes", "billing"});
  const std::string when = expand(r, "{2022-2025}-0{1-9}-{10-28}");
  const std::vector<std::string> people = r.sample(kPeople, 2);
  const std::string outage_month = r.pick(kMonths), outage = expand(r, "{2-28} ") + outage_month;
  const std::string done_pool[] = {
      "migrated the sessions table (internal/store/migrations/00" + num(r, 10, 99) + "_sessions.sql)",
      "fixed the flaky TestReplayOrder", "cut " + version(r) + " and tagged it",
      "moved search pagination to cursors in internal/api/search.go"};
  const std::string next_pool[] = {"wire the new index into ServeSearch",
                                   "backfill " + big(r, 10000, 90000) + " rows of embeddings",
                                   "profile compactSegments under load",
                                   "write the postmortem for the " + outage + " outage"};
  const std::string blocker_pool[] = {
      "staging DB still on PostgreSQL 14." + num(r, 2, 9) + ", needs " + people[1] + " to approve the upgrade",
      "CI runners out of disk (" + num(r, 90, 99) + "% used)", "waiting on the vendor API key from " + people[1]};
  const std::vector<size_t> done = r.sample(std::vector<size_t>{0, 1, 2, 3}, 2),
                            next = r.sample(std::vector<size_t>{0, 1, 2, 3}, 2);
  const size_t blocker = r.below(3);
  Sample s;
  s.input = "Handoff " + when + ", " + repo + "\nDone:\n- " + done_pool[done[0]] + ".\n- " + done_pool[done[1]] +
            ".\nNext:\n- " + next_pool[next[0]] + ".\n- " + next_pool[next[1]] + ".\nBlockers:\n- " +
            blocker_pool[blocker] + ".";
  s.gist = "Handoff for " + repo + ", " + when;
  s.summary = "Done: " + done_pool[done[0]] + "; " + done_pool[done[1]] + ". Next: " + next_pool[next[0]] +
              ". Blocker: " + blocker_pool[blocker] + ".";
  s.narrative = "An end-of-session handoff listing finished work, next steps and one blocker.";
  s.concepts = {"handoff", "status", "planning"};
  s.topic("handoff", "team/handoff");
  if (blocker != 1) s.entity(people[1], "person", "needed to unblock");
  s.action("completed", done_pool[done[0]], "done");
  s.action("completed", done_pool[done[1]], "done");
  s.action("planned", next_pool[next[0]], "next");
  s.action("planned", next_pool[next[1]], "next");
  s.cause("blocked_by", blocker_pool[blocker]);
  s.enums("important", "neutral", "ongoing", int(r.between(65, 75)));
  return s;
}

const std::vector<Template> kHandoff = {handoff};

// ---- self-corrections ----

Sample correction_number(Rng& r) {
  const std::string service = r.pick(kServices);
  const int64_t wrong = r.between(20, 90);
  const std::string a = std::to_string(wrong), b = std::to_string(wrong + r.between(3, 15));
  Sample s;
  s.input = "Cold start for " + service + " is " + a + " ms, no wait, " + b +
            " ms; the first figure was from the warm-cache run.";
  s.gist = service + " cold start: " + b + " ms";
  s.summary =
      "Cold start for " + service + " is " + b + " ms; the " + a + " ms first given came from the warm-cache run.";
  s.narrative = "A measurement corrected within the same note.";
  s.concepts = {"cold start", "performance"};
  s.topic("performance", "engineering/performance");
  s.entity(service, "service", "cold start " + b + " ms");
  s.action("corrected", "cold start figure", a + " ms to " + b + " ms");
  s.enums("routine", "neutral", "success", int(r.between(38, 48)));
  return s;
}

Sample correction_person(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 2);
  Sample s;
  s.input = p[0] + " approved the schema migration. Sorry, it was " + p[1] + "; " + p[0] + " only left comments on it.";
  s.gist = p[1] + " approved the schema migration";
  s.summary =
      p[1] + " approved the schema migration and " + p[0] + " only left comments; the note first named " + p[0] + ".";
  s.narrative = "A note that corrects who gave the approval.";
  s.concepts = {"code review", "migration"};
  s.topic("code review", "team/code-review");
  s.entity(p[1], "person", "approved the migration");
  s.entity(p[0], "person", "left comments");
  s.action("approved", "schema migration", p[1]);
  s.enums("routine", "neutral", "success", int(r.between(35, 45)));
  return s;
}

Sample correction_file(Rng& r) {
  const std::vector<GoSite> sites = r.sample(kGoSites, 2);
  const std::string line = line_no(r);
  Sample s;
  s.type = "error";
  s.input = "The connection leak is in " + sites[0].file + "... actually no, " + sites[0].file + " just calls into " +
            sites[1].file + ":" + line + ", which never closes the rows iterator.";
  s.gist = fit({"Connection leak in " + basename(sites[1].file) + ":" + line, "Connection leak located"});
  s.summary = "The connection leak is in " + sites[1].file + ":" + line + ", which never closes the rows iterator; " +
              sites[0].file + " only calls it.";
  s.narrative = "A diagnosis that moved to a different file mid-note.";
  s.concepts = {"resource leak", "debugging", "database"};
  s.topic("debugging", "engineering/debugging");
  s.entity(sites[1].file, "file", "never closes the rows iterator");
  s.entity(sites[0].file, "file", "only the caller");
  s.cause("caused_by", "the rows iterator is never closed");
  s.enums("notable", "concerning", "ongoing", int(r.between(58, 68)));
  return s;
}

Sample correction_metric(Rng& r) {
  const std::string wrong = dec(r, 500, 900), right = dec(r, 500, 900);
  Sample s;
  s.type = "insight";
  s.input = "Recall@10 on the eval set went up to " + wrong + "%. Correction: " + right + "%, I misread the column.";
  s.gist = "Recall@10 on the eval set: " + right + "%";
  s.summary =
      "Recall@10 on the eval set is " + right + "%; the " + wrong + "% first written came from misreading the column.";
  s.narrative = "An evaluation result corrected right after it was written.";
  s.concepts = {"evaluation", "recall"};
  s.topic("evaluation", "ml/evaluation");
  s.action("corrected", "recall@10", wrong + "% to " + right + "%");
  s.enums("notable", "neutral", "success", int(r.between(45, 56)));
  return s;
}

Sample correction_version(Rng& r) {
  const std::string minor = num(r, 2, 9), good = "v2." + minor + "." + num(r, 4, 9),
                    bad = "v2." + minor + "." + num(r, 0, 3);
  Sample s;
  s.type = "decision";
  s.input = "Pinned the client to " + bad + ". Scratch that: " + good + ", because " + bad +
            " still has the TLS handshake bug.";
  s.gist = "Client pinned to " + good;
  s.summary = "Pinned the client to " + good + " rather than " + bad + ", which still has the TLS handshake bug.";
  s.narrative = "A version pin revised before the note ended.";
  s.concepts = {"dependency", "tls"};
  s.topic("dependency", "engineering/dependencies");
  s.entity(good, "version", "pinned");
  s.entity(bad, "version", "has the TLS handshake bug");
  s.action("pinned", "client", good);
  s.enums("routine", "neutral", "success", int(r.between(38, 48)));
  return s;
}

Sample correction_time(Rng& r) {
  const std::string day = r.pick(std::vector<std::string>{"Tuesday", "Wednesday", "Thursday"});
  const int64_t hour = r.between(9, 15);
  const std::string wrong = std::to_string(hour) + ":00", right = std::to_string(hour + 2) + ":00";
  Sample s;
  s.input = "The deploy window is " + day + " at " + wrong + ", sorry, " + right + " UTC.";
  s.gist = "Deploy window: " + day + " " + right + " UTC";
  s.summary = "The deploy window is " + day + " at " + right + " UTC, corrected from " + wrong + ".";
  s.narrative = "A scheduling note with its time fixed mid-sentence.";
  s.concepts = {"deployment", "schedule"};
  s.topic("deployment", "operations/deployment");
  s.entity(day, "date", "deploy window at " + right + " UTC");
  s.action("scheduled", "deploy window", day + " " + right + " UTC");
  s.enums("routine", "neutral", "ongoing", int(r.between(30, 42)));
  return s;
}

const std::vector<Template> kSelfCorrection = {correction_number, correction_person,  correction_file,
                                               correction_metric, correction_version, correction_time};

// ---- the mix ----

constexpr size_t kTwinCategory = 3;
static_assert(std::string_view(kCategories[kTwinCategory]) == "adversarial-twin");
const std::vector<Template> kMinimal = {minimal};
// Per category, in kCategories order; twins are built in pairs apart from these.
const std::vector<Template>* const kTemplates[] = {&kDeveloper,     &kStackTrace, &kOutOfDomain,   nullptr,
                                                   &kMinimal,       &kDense,      &kMultiPerson,   &kNonEnglish,
                                                   &kCodeHtmlEmoji, &kHandoff,    &kSelfCorrection};
constexpr size_t kCategoryCount = sizeof kTemplates / sizeof kTemplates[0];
static_assert(kCategoryCount == sizeof kCategories / sizeof kCategories[0]);
// Units per block of 40 records (a twin unit is a pair): about a third developer notes, then
// out-of-domain prose, and the rest as mnemonic's v7 mix suggests.
constexpr int kBlockUnits[kCategoryCount] = {14, 3, 6, 2, 3, 3, 2, 2, 1, 1, 1};

// One block's categories: one of each first, so short runs cover every category, then the rest.
std::vector<size_t> block_plan(Rng& r) {
  std::vector<size_t> head, tail;
  for (size_t c = 0; c < kCategoryCount; ++c) {
    head.push_back(c);
    for (int i = 1; i < kBlockUnits[c]; ++i) tail.push_back(c);
  }
  r.shuffle(head);
  r.shuffle(tail);
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// Draws indices in shuffled rounds, so every template of a category appears before any repeats.
class Deck {
 public:
  explicit Deck(size_t size) : size_(size) {}
  size_t next(Rng& r) {
    if (order_.empty()) {
      for (size_t i = 0; i < size_; ++i) order_.push_back(i);
      r.shuffle(order_);
    }
    const size_t i = order_.back();
    order_.pop_back();
    return i;
  }

 private:
  size_t size_;
  std::vector<size_t> order_;
};

Json make_record(int64_t id, const char* category, const Sample& s, const PromptTemplate& prompt,
                 const std::string& pair = "", const std::string& side = "") {
  const Json gold = gold_record(s);
  Json record = Json::object();
  record["id"] = id;
  record["raw_input"] = s.input;
  record["source"] = s.source;
  record["type"] = s.type;
  record["category"] = category;
  if (!pair.empty()) {
    record["pair"] = pair;
    record["side"] = side;
  }
  record["gold_output"] = gold;
  record["domain"] = category;
  Json messages = Json::array();
  for (const text::ChatMessage& m : prompt_messages(prompt, s.input, s.source, s.type))
    messages.push_back(Json::object({{"role", m.role}, {"content", m.content}}));
  messages.push_back(Json::object({{"role", "assistant"}, {"content", python_dumps(gold, /*ensure_ascii=*/false)}}));
  record["messages"] = std::move(messages);
  return record;
}

}  // namespace

std::vector<Json> generate_encoding_records(const GeneratorOptions& options, const PromptTemplate& prompt) {
  Rng r(options.seed);
  std::vector<Deck> decks;
  for (const auto* templates : kTemplates) decks.emplace_back(templates ? templates->size() : kTwinTopics.size());
  std::vector<Json> out;
  std::vector<size_t> plan;
  size_t next = 0;
  int64_t pairs = 0;
  while (static_cast<int64_t>(out.size()) < options.n) {
    if (next == plan.size()) {
      plan = block_plan(r);
      next = 0;
    }
    size_t category = plan[next++];
    const int64_t id = static_cast<int64_t>(out.size()) + 1;
    if (category == kTwinCategory && id < options.n) {
      const TwinTopic& topic = kTwinTopics[decks[category].next(r)];
      const auto [a, b] = twins(r, topic);
      const std::string pair = topic.slug + "-" + std::to_string(++pairs);
      out.push_back(make_record(id, kCategories[category], a, prompt, pair, "A"));
      out.push_back(make_record(id + 1, kCategories[category], b, prompt, pair, "B"));
      continue;
    }
    if (category == kTwinCategory) category = 0;  // one slot left: a pair never splits
    const std::vector<Template>& templates = *kTemplates[category];
    out.push_back(make_record(id, kCategories[category], templates[decks[category].next(r)](r), prompt));
  }
  return out;
}

}  // namespace bespoke::task::encoding
