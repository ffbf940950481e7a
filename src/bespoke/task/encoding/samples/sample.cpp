#include "bespoke/task/encoding/samples/sample.h"

#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding::samples {

std::string grouped(int64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string fixed(int64_t scaled, int places) {
  int64_t unit = 1;
  for (int i = 0; i < places; ++i) unit *= 10;
  std::string fraction = std::to_string(scaled % unit);
  fraction.insert(0, places - fraction.size(), '0');
  return std::to_string(scaled / unit) + "." + fraction;
}

std::string num(Rng& r, int64_t lo, int64_t hi) {
  return std::to_string(r.between(lo, hi));
}
std::string big(Rng& r, int64_t lo, int64_t hi) {
  return grouped(r.between(lo, hi));
}
std::string dec(Rng& r, int64_t lo, int64_t hi, int places) {
  return fixed(r.between(lo, hi), places);
}

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

std::string basename(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string fit(std::initializer_list<std::string> options) {
  for (const std::string& o : options)
    if (text::utf8_chars(o).size() <= kGistMax) return o;
  return *(options.end() - 1);
}

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

const std::vector<std::string> kPeople = {"Priya", "Marcus", "Elena", "Kenji", "Amara",  "Dmitri", "Sofia", "Jonas",
                                          "Leila", "Owen",   "Farah", "Mateo", "Ingrid", "Rahul",  "Chloe", "Tariq",
                                          "Nadia", "Felix",  "Hana",  "Bruno", "Yusuf",  "Greta"};

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

const std::vector<PySite> kPySites = {
    {"scripts/backfill.py", "build_index"},       {"training/data/loader.py", "collate_batch"},
    {"app/billing/invoice.py", "apply_discount"}, {"services/ranker/features.py", "extract_features"},
    {"tools/export_csv.py", "write_rows"},        {"app/accounts/models.py", "load_profile"},
};

const std::vector<std::string> kServices = {"search-api",   "ingest-worker", "billing-svc",
                                            "auth-gateway", "ledgerd",       "notify-relay"};
const std::vector<std::string> kHosts = {"web-03",    "db-primary-1", "ci-runner-7",
                                         "edge-eu-2", "batch-11",     "api-canary"};
const std::vector<std::string> kMonths = {"January", "February", "March",     "April",   "May",      "June",
                                          "July",    "August",   "September", "October", "November", "December"};
const std::vector<std::string> kSurnames = {"Okafor",  "Lindqvist", "Moreau",  "Haddad",   "Castillo", "Nakamura",
                                            "Brennan", "Petrov",    "Adeyemi", "Kowalski", "Fischer",  "Ramos"};

std::string line_no(Rng& r) {
  return num(r, 24, 480);
}
std::string version(Rng& r) {
  return expand(r, "v{0-4}.{0-24}.{0-12}");
}

}  // namespace bespoke::task::encoding::samples
