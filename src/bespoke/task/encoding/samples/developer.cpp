// Developer observations, about a third of the mix: first-person notes on tuning, fixes, deploys
// and decisions, and what the terminal, git and the file watcher report.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

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
      case 3:
        s.input += " Nothing else changed in the diff.";
        break;
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
      case 6:
        s.input += " Adding it to the runbook.";
        break;
      default:
        s.input += " Worth raising at the next planning meeting.";
        break;
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

}  // namespace

const std::vector<Template>& developer_templates() {
  static const std::vector<Template> templates = {
      dev_tuning,   dev_bugfix,   dev_latency, dev_upgrade,  dev_investigation, dev_learning,    dev_deploy,
      dev_refactor, dev_decision, dev_flag,    dev_terminal, dev_commit,        dev_file_change, dev_override};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
