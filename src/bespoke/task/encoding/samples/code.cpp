// Code, HTML and emoji: notes carrying Go, Python, HTML, SQL, a Markdown table or emoji.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

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

}  // namespace

const std::vector<Template>& code_templates() {
  static const std::vector<Template> templates = {code_go, code_python, code_html, code_emoji, code_sql, code_table};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
