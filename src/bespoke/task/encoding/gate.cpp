#include "bespoke/task/encoding/gate.h"

#include <cstdio>

#include "bespoke/core/error.h"

namespace bespoke::task::encoding {
namespace {

std::optional<double> number(const Json& v) {
  return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
}

std::optional<double> share(const Json& m, const char* pass, const char* total) {
  const double n = m.value(total, 0.0);
  return n > 0 ? std::optional<double>(m.value(pass, 0.0) / n) : std::nullopt;
}

// The seven metrics of one report, as comparable numbers.
std::vector<GateRow> measure(const Json& report, const std::string& which) {
  if (!report.is_object() || !report.contains("metrics") || !report["metrics"].is_object())
    fail(ErrorKind::kInput, which + " is not a report of `bespoke eval encoding` (no \"metrics\")");
  const Json& m = report["metrics"];
  const double valid = report.value("valid_json", 0.0);
  const std::optional<double> ted =
      valid > 0 ? std::optional<double>(m.value("ted_failures", 0.0) / valid) : std::nullopt;
  return {{"EPR", number(m.value("epr", Json())), {}, true},
          {"FR", number(m.value("fr", Json())), {}, false},
          {"TED", ted, {}, false},
          {"CCS", share(m, "ccs_pass", "ccs_pairs"), {}, true},
          {"MIH", share(m, "mih_pass", "mih_total"), {}, true},
          {"NP", number(m.value("np", Json())), {}, true},
          {"SC", number(m.value("sc", Json())), {}, true}};
}

std::string cell(const std::optional<double>& v) {
  if (!v) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", *v);
  return buf;
}

}  // namespace

GateResult gate(const Json& candidate, const Json& baseline, const GateRule& rule) {
  GateResult r;
  r.rule = rule;
  r.rows = measure(candidate, "the candidate");
  const std::vector<GateRow> base = measure(baseline, "the baseline");
  for (size_t i = 0; i < r.rows.size(); ++i) {
    GateRow& row = r.rows[i];
    row.baseline = base[i].candidate;
    if (row.candidate && row.baseline)
      row.worse = row.higher_is_better ? *row.candidate < *row.baseline : *row.candidate > *row.baseline;
    else
      row.worse = !row.candidate && row.baseline;  // lost a measurement the baseline had
    r.worse += row.worse;
  }
  const auto& at = [&](int i) { return r.rows[i].candidate; };
  if (!at(0) || *at(0) < 0.9) r.hard_failures.push_back("EPR below 0.90");
  if (!at(1) || *at(1) > 0.05) r.hard_failures.push_back("FR above 0.05");
  if (!at(2) || *at(2) > 0) r.hard_failures.push_back("template echo");
  if (!at(6) || *at(6) < 1.0) r.hard_failures.push_back("SC below 100%");
  r.go = r.worse <= rule.max_worse && (!rule.hard_targets || r.hard_failures.empty());
  return r;
}

std::string gate_table(const GateResult& r) {
  std::string out = "metric  candidate  baseline  better  worse\n";
  for (const GateRow& row : r.rows) {
    char line[128];
    std::snprintf(line, sizeof line, "%-6s  %9s  %8s  %-6s  %s\n", row.metric.c_str(), cell(row.candidate).c_str(),
                  cell(row.baseline).c_str(), row.higher_is_better ? "higher" : "lower", row.worse ? "yes" : "");
    out += line;
  }
  out += "worse on " + std::to_string(r.worse) + " of 7 (no-go above " + std::to_string(r.rule.max_worse) + ")";
  for (const std::string& f : r.hard_failures)
    out += (r.rule.hard_targets ? "; hard target missed: " : "; hard target missed (not applied): ") + f;
  out += r.go ? "\nGO\n" : "\nNO-GO\n";
  return out;
}

}  // namespace bespoke::task::encoding
