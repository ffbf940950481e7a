// Minimal inputs: a bare signal name, status line, link, path, reading, note, HTTP status or
// command, with nothing around it.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

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

}  // namespace

const std::vector<Template>& minimal_templates() {
  static const std::vector<Template> templates = {minimal};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
