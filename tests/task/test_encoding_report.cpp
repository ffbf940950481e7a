// REPORT.json from outputs, scored as mnemonic's scorer scores a probe set: unparseable items
// leave every average, a twin pair with a failed member is skipped, a failed minimal item
// drops out of the MIH count, items go in id order; and the go/no-go gate over two reports.
#include <gtest/gtest.h>

#include <fstream>

#include "bespoke/core/error.h"
#include "bespoke/task/encoding/dataset.h"
#include "bespoke/task/encoding/gate.h"
#include "bespoke/task/encoding/metrics.h"
#include "bespoke/task/encoding/report.h"
#include "bespoke/task/encoding/stress.h"
#include "test_util.h"

namespace bespoke {
namespace {

using task::encoding::Json;
namespace enc = task::encoding;

std::string write_lines(const std::string& name, const std::vector<Json>& lines) {
  const std::string path = test::scratch_dir("encoding-report") + "/" + name;
  std::ofstream out(path);
  for (const Json& l : lines) out << l.dump() << "\n";
  return path;
}

Json record(const std::string& content, double salience = 0.2) {
  Json r = Json::parse(R"({"gist": "g", "summary": "s", "content": "", "narrative": "n", "concepts": [],
    "structured_concepts": {"topics": [], "entities": [], "actions": [], "causality": []},
    "significance": "routine", "emotional_tone": "neutral", "outcome": "success", "salience": 0})");
  r["content"] = content;
  r["salience"] = salience;
  return r;
}

// Six probe items in shuffled order: two twin pairs (one member of the second unparseable),
// two minimal items (one unparseable), a dense-number item and a plain one.
struct Probe {
  std::vector<enc::Item> items;
  std::map<std::string, std::optional<Json>> predictions;
};

Probe probe() {
  const std::string gold = write_lines(
      "gold.jsonl",
      {
          {{"id", 6}, {"raw_input", "SIGKILL"}, {"category", "minimal"}},
          {{"id", 2}, {"raw_input", "We chose SQLite for the cache"}, {"category", "adversarial-twin"}, {"pair", "db"}},
          {{"id", 1},
           {"raw_input", "We chose Postgres for the cache"},
           {"category", "adversarial-twin"},
           {"pair", "db"}},
          {{"id", 3}, {"raw_input", "p99 at 120 ms and 4 errors"}, {"category", "dense-numbers"}, {"type", "insight"}},
          {{"id", 4}, {"raw_input", "Went with React"}, {"category", "adversarial-twin"}, {"pair", "ui"}},
          {{"id", 5}, {"raw_input", "Went with Svelte"}, {"category", "adversarial-twin"}, {"pair", "ui"}},
          {{"id", 7}, {"raw_input", "build passed"}, {"category", "minimal"}},
      });
  const std::string preds = write_lines(
      "preds.jsonl", {
                         {{"id", 1}, {"output", "```json\n" + record("postgres cache chosen").dump() + "\n```"}},
                         {{"id", 2}, {"output", record("sqlite picked for caching")}},
                         {{"id", 3}, {"output", "Sure! " + record("p99 120 ms").dump()}},  // keeps 99 and 120, loses 4
                         {{"id", 4}, {"output", record("went with react")}},
                         {{"id", 5}, {"output", "I cannot do that"}},
                         {{"id", 6}, {"output", record("SIGKILL received", 0.1)}},
                         // id 7 has no prediction at all
                     });
  return {enc::load_items(gold), enc::load_predictions(preds)};
}

TEST(EncodingReport, ItemsAreReadInIdOrderWithRolesFromTheirCategory) {
  const Probe p = probe();
  ASSERT_EQ(p.items.size(), 7u);
  for (size_t i = 0; i < p.items.size(); ++i) EXPECT_EQ(p.items[i].id, static_cast<int>(i + 1));
  EXPECT_EQ(p.items[0].role(), enc::Role::kTwin);
  EXPECT_EQ(p.items[0].pair, "db");
  EXPECT_EQ(p.items[2].role(), enc::Role::kDenseNumbers);
  EXPECT_EQ(p.items[2].type, "insight");
  EXPECT_EQ(p.items[5].role(), enc::Role::kMinimal);
  EXPECT_EQ(p.items[5].source, "mcp");  // the default
}

TEST(EncodingReport, UnparseableItemsLeaveTheAverages) {
  const Probe p = probe();
  const Json r = enc::evaluate_predictions(p.items, p.predictions);
  EXPECT_EQ(r["n"], 7);
  EXPECT_EQ(r["valid_json"], 5);
  // EPR and NP of the five parseable items, summed in id order.
  std::vector<double> epr, np;
  for (int id : {1, 2, 3, 4, 6}) {
    const enc::ItemMetrics m = enc::score_item(p.items[id - 1].raw_input, *p.predictions.at(std::to_string(id)));
    epr.push_back(m.epr);
    np.push_back(m.np);
  }
  EXPECT_EQ(np[2], 2.0 / 3.0);  // id 3: 99 and 120 of {99, 120, 4}
  double epr_sum = 0, np_sum = 0;
  for (size_t i = 0; i < epr.size(); ++i) epr_sum += epr[i], np_sum += np[i];
  EXPECT_EQ(r["metrics"]["epr"].get<double>(), epr_sum / 5);
  EXPECT_EQ(r["metrics"]["np"].get<double>(), np_sum / 5);
  EXPECT_EQ(r["metrics"]["np_dense"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(r["metrics"]["sc"].get<double>(), 1.0);
  EXPECT_EQ(r["metrics"]["sc_pass"], 5);
  // The ui pair lost a member: only the db pair is scored.
  EXPECT_EQ(r["metrics"]["ccs_pairs"], 1);
  EXPECT_EQ(r["pairs"][0]["pair"], "db");
  EXPECT_EQ(r["pairs"][0]["ccs"].get<double>(), enc::ccs(*p.predictions.at("1"), *p.predictions.at("2")));
  EXPECT_TRUE(r["pairs"][1]["ccs"].is_null());
  // Minimal item 7 has no output: MIH is 1 of 1.
  EXPECT_EQ(r["metrics"]["mih_pass"], 1);
  EXPECT_EQ(r["metrics"]["mih_total"], 1);
  EXPECT_EQ(r["per_category"]["adversarial-twin"]["n"], 4);
  EXPECT_EQ(r["per_category"]["adversarial-twin"]["valid_json"], 3);
  EXPECT_FALSE(r["items"][4]["valid_json"].get<bool>());
  EXPECT_TRUE(r["stress"].is_null());
}

TEST(EncodingReport, PooledFrCountsEveryWrittenEntityNotEveryRecord) {
  const std::vector<enc::Item> items = enc::load_items(write_lines(
      "fr.jsonl", {
                      {{"id", 1}, {"raw_input", "the cache was cold this morning"}, {"category", "developer"}},
                      {{"id", 2}, {"raw_input", "the cache was cold again"}, {"category", "developer"}},
                  }));
  // Record 1 names nothing; record 2 names only what its input does not hold.
  const std::map<std::string, std::optional<Json>> predictions = {
      {"1", record("cold cache")}, {"2", record("Postgres and Redis on Kubernetes, 4 nodes")}};
  const enc::ItemMetrics quiet = enc::score_item(items[0].raw_input, *predictions.at("1"));
  const enc::ItemMetrics made_up = enc::score_item(items[1].raw_input, *predictions.at("2"));
  ASSERT_EQ(quiet.entities_out, 0);
  ASSERT_GE(made_up.entities_out, 3);
  ASSERT_EQ(made_up.fr, 1.0);
  const Json r = enc::evaluate_predictions(items, predictions);
  EXPECT_EQ(r["metrics"]["fr"].get<double>(), 0.5);         // the silent record counts as faithful
  EXPECT_EQ(r["metrics"]["fr_pooled"].get<double>(), 1.0);  // every entity written was made up
  EXPECT_EQ(r["metrics"]["entities_out"], made_up.entities_out);
  EXPECT_EQ(r["items"][1]["entities_out"], made_up.entities_out);
}

TEST(EncodingReport, NoParseableOutputGivesNullAveragesAndAFailedVerdict) {
  const Probe p = probe();
  const Json r = enc::evaluate_predictions(p.items, {});
  EXPECT_EQ(r["valid_json"], 0);
  EXPECT_TRUE(r["metrics"]["epr"].is_null());
  EXPECT_FALSE(r["verdict"]["pass"].get<bool>());
}

TEST(EncodingReport, BadItemFilesNameTheLine) {
  const std::string path = write_lines("bad.jsonl", {{{"id", 1}, {"raw_input", "x"}}, {{"id", 2}}});
  try {
    enc::load_items(path);
    FAIL() << "read a record without raw_input";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2: needs \"raw_input\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(
      enc::load_items(write_lines("twin.jsonl", {{{"id", 1}, {"raw_input", "x"}, {"category", "adversarial-twin"}}})),
      Error);
}

Json report_with(double epr, double fr, int ted, int ccs_pass, int mih_pass, double np, double sc) {
  return {{"n", 10},
          {"valid_json", 10},
          {"metrics",
           {{"epr", epr},
            {"fr", fr},
            {"ted_failures", ted},
            {"ccs_pass", ccs_pass},
            {"ccs_pairs", 3},
            {"mih_pass", mih_pass},
            {"mih_total", 3},
            {"np", np},
            {"np_dense", np},
            {"sc", sc}}}};
}

TEST(EncodingGate, NoGoWhenWorseOnMoreThanTwoMetricsOrMissingAHardTarget) {
  const Json baseline = report_with(0.95, 0.02, 0, 3, 3, 0.97, 1.0);
  // Worse on EPR and NP only, hard targets met: go.
  enc::GateResult r = enc::gate(report_with(0.93, 0.02, 0, 3, 3, 0.96, 1.0), baseline);
  EXPECT_EQ(r.worse, 2);
  EXPECT_TRUE(r.go) << enc::gate_table(r);
  // And worse on MIH too: no-go.
  r = enc::gate(report_with(0.93, 0.02, 0, 3, 2, 0.96, 1.0), baseline);
  EXPECT_EQ(r.worse, 3);
  EXPECT_FALSE(r.go);
  // Better everywhere but one record out of schema: a hard target.
  r = enc::gate(report_with(0.99, 0.0, 0, 3, 3, 0.99, 0.9), baseline);
  EXPECT_EQ(r.worse, 1);
  EXPECT_FALSE(r.go);
  EXPECT_EQ(r.hard_failures, std::vector<std::string>{"SC below 100%"});
  EXPECT_NE(enc::gate_table(r).find("NO-GO"), std::string::npos);
  EXPECT_THROW(enc::gate(Json::object(), baseline), Error);
}

TEST(EncodingGate, AnExperimentsRuleSetsTheAllowanceAndTheHardTargets) {
  const Json baseline = report_with(0.95, 0.02, 0, 3, 3, 0.97, 1.0);
  const Json candidate = report_with(0.99, 0.0, 0, 3, 3, 0.99, 0.9);  // better but SC: a hard target missed
  enc::GateResult r = enc::gate(candidate, baseline, {2, false});
  EXPECT_TRUE(r.go);
  EXPECT_EQ(r.hard_failures, std::vector<std::string>{"SC below 100%"});  // still reported
  EXPECT_NE(enc::gate_table(r).find("hard target missed (not applied): SC below 100%\nGO\n"), std::string::npos)
      << enc::gate_table(r);
  // Worse on one metric, none allowed.
  r = enc::gate(report_with(0.93, 0.02, 0, 3, 3, 0.97, 1.0), baseline, {0, true});
  EXPECT_EQ(r.worse, 1);
  EXPECT_FALSE(r.go);
  EXPECT_NE(enc::gate_table(r).find("(no-go above 0)"), std::string::npos);
}

TEST(EncodingStress, TermsAreFoundIgnoringCaseInTheAsciiDump) {
  const auto& cases = enc::stress_cases();
  ASSERT_EQ(cases.size(), 7u);
  std::vector<std::optional<Json>> outputs;
  for (const auto& c : cases) {
    std::string all;
    for (const std::string& term : c.must_contain) all += term + " ";
    outputs.push_back(record(all));
  }
  outputs[1] = record("only 2.3MS and 0.8ms");  // case-insensitive, but the rest is missing
  outputs[4] = std::nullopt;                    // nothing required, but unparseable fails
  const Json s = enc::score_stress(outputs);
  EXPECT_EQ(s["passed"], 5);
  EXPECT_EQ(s["cases"][1]["missing"].size(), 5u);
  EXPECT_FALSE(s["cases"][4]["pass"].get<bool>());
  // Each case's input holds its own required terms.
  for (const auto& c : cases)
    for (const std::string& term : c.must_contain)
      EXPECT_NE(c.input.find(term), std::string::npos) << c.name << ": " << term;
}

}  // namespace
}  // namespace bespoke
