// The encoding metrics against mnemonic's own scorer: tests/fixtures/encoding_oracle/ holds a
// gold set, predictions and the figures eval_faithfulness.py computed for them. Every figure
// the scorer writes is compared with what bespoke computes, to 1e-6.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "bespoke/task/encoding/dataset.h"
#include "bespoke/task/encoding/entities.h"
#include "bespoke/task/encoding/report.h"
#include "test_util.h"

namespace bespoke {
namespace {

using task::encoding::Json;
namespace enc = task::encoding;

const std::string kDir = std::string(BESPOKE_FIXTURES) + "/encoding_oracle/";
constexpr double kTol = 1e-6;

Json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return Json::parse(in);
}

std::set<std::string> as_set(const Json& list) {
  std::set<std::string> out;
  for (const Json& s : list) out.insert(s.get<std::string>());
  return out;
}

// gold.jsonl without `category` and `pair`: mnemonic's probe layout, whose roles are the ids.
std::string gold_without_roles() {
  const std::string path = test::scratch_dir("encoding-oracle") + "/gold_plain.jsonl";
  std::ifstream in(kDir + "gold.jsonl");
  std::ofstream out(path);
  std::string line;
  while (std::getline(in, line)) {
    Json r = Json::parse(line);
    r.erase("category");
    r.erase("pair");
    out << r.dump() << "\n";
  }
  return path;
}

// `report` (bespoke's REPORT.json) against `expected` (the scorer's --output), figure by figure.
void expect_matches_scorer(const Json& report, const Json& expected, bool categories) {
  const Json& summary = expected["summary"];
  const Json& m = report["metrics"];
  EXPECT_EQ(report["n"], summary["total"]);
  EXPECT_EQ(report["valid_json"], summary["valid"]);
  EXPECT_NEAR(m["epr"].get<double>(), summary["avg_epr"].get<double>(), kTol);
  EXPECT_NEAR(m["fr"].get<double>(), summary["avg_fr"].get<double>(), kTol);
  EXPECT_NEAR(m["np"].get<double>(), summary["avg_np"].get<double>(), kTol);
  EXPECT_NEAR(m["np_dense"].get<double>(), summary["avg_np_dense"].get<double>(), kTol);
  EXPECT_EQ(m["ted_failures"], summary["ted_failures"]);
  EXPECT_NEAR(m["ted_failures"].get<double>() / report["valid_json"].get<double>(), summary["ted_rate"].get<double>(),
              kTol);
  EXPECT_EQ(m["sc_pass"], summary["sc_pass"]);
  EXPECT_NEAR(m["sc"].get<double>(), summary["sc_rate"].get<double>(), kTol);
  EXPECT_EQ(m["mih_pass"], summary["mih_pass"]);
  EXPECT_EQ(m["mih_total"], summary["mih_total"]);
  EXPECT_EQ(m["ccs_pass"], summary["ccs_pass"]);
  EXPECT_EQ(m["ccs_pairs"], summary["ccs_total"]);

  // The scorer's exit rule.
  const bool pass = summary["avg_epr"].get<double>() >= 0.9 && summary["avg_fr"].get<double>() <= 0.05 &&
                    summary["ted_failures"].get<int64_t>() == 0 && summary["sc_rate"].get<double>() == 1.0;
  EXPECT_EQ(report["verdict"]["pass"].get<bool>(), pass);

  // Items, in id order.
  const Json& results = expected["results"];
  ASSERT_EQ(report["items"].size(), results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    const Json& want = results[i];
    const Json& got = report["items"][i];
    SCOPED_TRACE("id " + want["id"].dump());
    ASSERT_EQ(got["id"], want["id"]);
    if (categories) EXPECT_EQ(got["category"], want["category"]);
    const bool valid = !want.contains("error");
    ASSERT_EQ(got["valid_json"].get<bool>(), valid);
    if (!valid) continue;  // the scorer's placeholder figures count in no average
    EXPECT_NEAR(got["epr"].get<double>(), want["epr"].get<double>(), kTol);
    EXPECT_NEAR(got["fr"].get<double>(), want["fr"].get<double>(), kTol);
    EXPECT_NEAR(got["np"].get<double>(), want["np"].get<double>(), kTol);
    EXPECT_EQ(got["ted"], want["ted"]);
    EXPECT_EQ(got["sc"], want["sc"]);
    EXPECT_EQ(as_set(got["missing"]), as_set(want["epr_missing"]));
    EXPECT_EQ(as_set(got["fabricated"]), as_set(want["fr_fabricated"]));
    EXPECT_EQ(as_set(got["missing_numbers"]), as_set(want["np_missing"]));
    EXPECT_EQ(as_set(got["echoed"]), as_set(want["ted_echoed"]));
    if (want.contains("mih")) {
      ASSERT_TRUE(got.contains("mih"));
      EXPECT_EQ(got["mih"], want["mih"]);
    } else {
      EXPECT_FALSE(got.contains("mih"));
    }
  }

  // Twin pairs: the scored ones, by their ids.
  std::map<std::string, Json> scored;
  for (const Json& p : report["pairs"]) {
    if (p["ccs"].is_null()) continue;
    scored[p["ids"][0].dump() + "-" + p["ids"][1].dump()] = p;
  }
  ASSERT_EQ(scored.size(), expected["ccs_results"].size());
  for (const Json& want : expected["ccs_results"]) {
    const std::string name = want["pair"].get<std::string>();
    ASSERT_TRUE(scored.count(name)) << name;
    EXPECT_NEAR(scored[name]["ccs"].get<double>(), want["ccs"].get<double>(), kTol) << name;
    EXPECT_EQ(scored[name]["pass"], want["pass"]) << name;
  }

  // Per category: the scorer's items grouped by their category, averaged in id order.
  if (!categories) return;
  struct Sums {
    int64_t n = 0, valid = 0, ted = 0, sc = 0;
    double epr = 0, fr = 0, np = 0;
  };
  std::map<std::string, Sums> by;
  for (const Json& r : results) {
    Sums& s = by[r["category"].get<std::string>()];
    ++s.n;
    if (r.contains("error")) continue;
    ++s.valid;
    s.epr += r["epr"].get<double>();
    s.fr += r["fr"].get<double>();
    s.np += r["np"].get<double>();
    s.ted += r["ted"].get<bool>();
    s.sc += r["sc"].get<bool>();
  }
  ASSERT_EQ(report["per_category"].size(), by.size());
  for (const auto& [name, s] : by) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(report["per_category"].contains(name));
    const Json& c = report["per_category"][name];
    EXPECT_EQ(c["n"].get<int64_t>(), s.n);
    EXPECT_EQ(c["valid_json"].get<int64_t>(), s.valid);
    EXPECT_EQ(c["ted_failures"].get<int64_t>(), s.ted);
    if (!s.valid) continue;
    EXPECT_NEAR(c["epr"].get<double>(), s.epr / s.valid, kTol);
    EXPECT_NEAR(c["fr"].get<double>(), s.fr / s.valid, kTol);
    EXPECT_NEAR(c["np"].get<double>(), s.np / s.valid, kTol);
    EXPECT_NEAR(c["sc"].get<double>(), static_cast<double>(s.sc) / s.valid, kTol);
  }
}

TEST(EncodingOracle, PredictionsMatchTheScorer) {
  const Json report = enc::evaluate_predictions(enc::load_items(kDir + "gold.jsonl"),
                                                enc::load_predictions(kDir + "predictions.jsonl"));
  expect_matches_scorer(report, read_json(kDir + "expected.json"), true);
}

TEST(EncodingOracle, GoldSelfScoresMatchTheScorersValidateOnly) {
  const Json report = enc::evaluate_predictions(enc::load_items(kDir + "gold.jsonl"),
                                                enc::load_predictions(kDir + "validate_predictions.jsonl"));
  expect_matches_scorer(report, read_json(kDir + "validate.json"), true);
}

TEST(EncodingOracle, ProbeLayoutWithoutCategoriesOrPairsTakesRolesFromIds) {
  const std::vector<enc::Item> items = enc::load_items(gold_without_roles());
  ASSERT_EQ(items.size(), 25u);
  EXPECT_EQ(items[8].role(), enc::Role::kTwin);
  EXPECT_EQ(items[8].pair, "9-10");
  EXPECT_EQ(items[13].pair, "13-14");
  EXPECT_EQ(items[14].role(), enc::Role::kMinimal);
  EXPECT_EQ(items[18].role(), enc::Role::kDenseNumbers);
  EXPECT_EQ(items[19].role(), enc::Role::kPlain);
  expect_matches_scorer(enc::evaluate_predictions(items, enc::load_predictions(kDir + "predictions.jsonl")),
                        read_json(kDir + "expected.json"), false);
  expect_matches_scorer(enc::evaluate_predictions(items, enc::load_predictions(kDir + "validate_predictions.jsonl")),
                        read_json(kDir + "validate.json"), false);
}

TEST(EncodingOracle, EmptyOutputFallsBackToGoldAndBoolSalienceIsOne) {
  // id 23: "output": "" is falsy, so the scorer scores its gold_output, whose 72-code-point gist
  // fails SC (gist_too_long:72).
  const auto predictions = enc::load_predictions(kDir + "predictions.jsonl");
  ASSERT_TRUE(predictions.at("23").has_value());
  const Json& gold = *predictions.at("23");
  EXPECT_EQ(enc::code_points(gold["gist"].get<std::string>()), 72u);
  EXPECT_FALSE(enc::schema_compliant(gold));
  // Python's True is 1: inside [0, 1], so the scorer's SC passes.
  Json r = *predictions.at("1");
  r["salience"] = true;
  EXPECT_TRUE(enc::schema_compliant(r));
  r["salience"] = false;
  EXPECT_TRUE(enc::schema_compliant(r));
  // The scorer raises on a string salience; bespoke counts the record as non-compliant instead.
  r["salience"] = "0.5";
  EXPECT_FALSE(enc::schema_compliant(r));
}

}  // namespace
}  // namespace bespoke
