// The synthetic encoding data: the same bytes for a seed, every category in short runs, twins
// in complete A/B pairs, the record and message layout, and gold records that pass the strict
// schema and mnemonic's faithfulness metrics (EPR, NP, FR, TED, SC, MIH, CCS) as its scorer
// computes them.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "bespoke/task/encoding/entities.h"
#include "bespoke/task/encoding/generator.h"
#include "bespoke/task/encoding/metrics.h"
#include "bespoke/task/encoding/python_json.h"

namespace bespoke {
namespace {

using task::encoding::Json;
namespace enc = task::encoding;

std::vector<Json> generate(int64_t n, uint64_t seed) {
  return enc::generate_encoding_records({n, seed});
}

std::string dumps(const std::vector<Json>& records) {
  std::string out;
  for (const Json& r : records) out += r.dump() + "\n";
  return out;
}

size_t word_count(const std::string& s) {
  std::istringstream in(s);
  size_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

TEST(EncodingGenerator, TheSameSeedGivesTheSameBytes) {
  const std::string a = dumps(generate(120, 7));
  EXPECT_EQ(a, dumps(generate(120, 7)));
  EXPECT_NE(a, dumps(generate(120, 8)));
}

TEST(EncodingGenerator, ShortRunsCoverEveryCategory) {
  for (int64_t n : {12, 40, 60}) {
    const std::vector<Json> records = generate(n, 3);
    ASSERT_EQ(records.size(), size_t(n));
    std::set<std::string> seen;
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i]["id"], int64_t(i) + 1);
      seen.insert(records[i]["category"].get<std::string>());
    }
    for (const char* category : enc::kCategories)
      EXPECT_TRUE(seen.count(category)) << category << " missing at n=" << n;
  }
}

TEST(EncodingGenerator, TheMixFollowsTheBlockShares) {
  std::map<std::string, int> count;
  for (const Json& r : generate(400, 5)) ++count[r["category"].get<std::string>()];
  EXPECT_EQ(count["developer"], 140);
  EXPECT_EQ(count["out-of-domain"], 60);
  EXPECT_EQ(count["adversarial-twin"], 40);
  EXPECT_EQ(count["minimal"], 30);
  EXPECT_EQ(count["handoff"], 10);
}

TEST(EncodingGenerator, TwinsComeInCompletePairs) {
  for (int64_t n : {41, 77, 200}) {
    const std::vector<Json> records = generate(n, 11);
    std::set<std::string> pairs;
    for (size_t i = 0; i < records.size(); ++i) {
      const Json& r = records[i];
      EXPECT_EQ(r.contains("pair"), r["category"] == "adversarial-twin");
      if (!r.contains("pair") || r["side"] != "A") continue;
      ASSERT_LT(i + 1, records.size()) << "a pair split at the end, n=" << n;
      const Json& b = records[i + 1];
      EXPECT_EQ(b["pair"], r["pair"]);
      EXPECT_EQ(b["side"], "B");
      EXPECT_EQ(r["type"], "decision");
      EXPECT_NE(r["raw_input"], b["raw_input"]);
      EXPECT_TRUE(pairs.insert(r["pair"].get<std::string>()).second) << "pair names are unique";
    }
    size_t twins = 0;
    for (const Json& r : records) twins += r.contains("pair");
    EXPECT_EQ(twins, 2 * pairs.size());
  }
}

TEST(EncodingGenerator, RecordsHaveTheTrainingLayout) {
  const enc::PromptTemplate prompt = enc::PromptTemplate::builtin();
  for (const Json& r : generate(80, 2)) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : r.items()) keys.push_back(k);
    std::vector<std::string> want = {"id", "raw_input", "source", "type", "category"};
    if (r.contains("pair")) want.insert(want.end(), {"pair", "side"});
    want.insert(want.end(), {"gold_output", "domain", "messages"});
    EXPECT_EQ(keys, want);
    EXPECT_EQ(r["domain"], r["category"]);
    const Json& messages = r["messages"];
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_EQ(messages[0]["role"], "system");
    EXPECT_EQ(messages[0]["content"], prompt.system);
    const auto expected = enc::prompt_messages(prompt, r["raw_input"], r["source"], r["type"]);
    EXPECT_EQ(messages[1]["role"], "user");
    EXPECT_EQ(messages[1]["content"], expected.back().content);
    EXPECT_EQ(messages[2]["role"], "assistant");
    const std::string answer = messages[2]["content"];
    EXPECT_EQ(answer, enc::python_dumps(r["gold_output"], false));
    EXPECT_EQ(Json::parse(answer), r["gold_output"]);
  }
}

TEST(EncodingGenerator, ACustomPromptFillsTheUserMessage) {
  const enc::PromptTemplate prompt{"", "{source}|{type}|{content}"};
  for (const Json& r : enc::generate_encoding_records({20, 4}, prompt)) {
    const Json& messages = r["messages"];
    ASSERT_EQ(messages.size(), 2u);  // no system message in this template
    EXPECT_EQ(messages[0]["content"], r["source"].get<std::string>() + "|" + r["type"].get<std::string>() + "|" +
                                          r["raw_input"].get<std::string>());
  }
}

TEST(EncodingGenerator, CategoriesHaveTheirShape) {
  // file:line, or a Python traceback's File "...", line N.
  const std::regex file_line(R"(\w\.(go|py|rs|js):\d+|\.py", line \d+)");
  std::set<std::string> domains;
  for (const Json& r : generate(400, 9)) {
    const std::string category = r["category"], input = r["raw_input"];
    const Json& gold = r["gold_output"];
    if (category == "minimal") {
      EXPECT_GE(word_count(input), 1u);
      EXPECT_LE(word_count(input), 10u) << input;
    } else if (category == "stack-trace") {
      const auto refs =
          std::distance(std::sregex_iterator(input.begin(), input.end(), file_line), std::sregex_iterator());
      EXPECT_GE(refs, 2) << input;
    } else if (category == "dense-numbers") {
      EXPECT_GE(enc::extract_numbers(input).size(), 10u) << input;
    } else if (category == "out-of-domain") {
      EXPECT_GE(enc::extract_entities(input).size(), 3u) << input;
      domains.insert(gold["concepts"][0].get<std::string>());
    } else if (category == "multi-person") {
      int people = 0;
      for (const Json& e : gold["structured_concepts"]["entities"]) people += e["type"] == "person";
      EXPECT_GE(people, 2) << input;
    }
  }
  EXPECT_GE(domains.size(), 20u);
}

// Self-consistency, not an oracle: the golds are the targets a model learns, so they must score
// as a perfect model would under bespoke's own metrics.
TEST(EncodingGenerator, SelfConsistencyGoldsMeetTheSchemaAndFaithfulnessTargets) {
  for (uint64_t seed : {1, 2}) {
    const std::vector<Json> records = generate(200, seed);
    double epr = 0, np = 0;
    std::map<std::string, const Json*> side_a;
    size_t pairs = 0;
    for (const Json& r : records) {
      const std::string input = r["raw_input"];
      const Json& gold = r["gold_output"];
      const std::string where = "id " + r["id"].dump() + " (" + r["category"].get<std::string>() + ")";
      const std::vector<std::string> problems = enc::violations(gold);
      EXPECT_TRUE(problems.empty()) << where << ": " << (problems.empty() ? "" : problems.front());
      const enc::ItemMetrics m = enc::score_item(input, gold);
      epr += m.epr;
      np += m.np;
      EXPECT_TRUE(m.sc) << where;
      EXPECT_FALSE(m.ted) << where << ": " << (m.echoed.empty() ? "" : m.echoed.front());
      EXPECT_EQ(m.fr, 0.0) << where << ": fabricated " << (m.fabricated.empty() ? "" : m.fabricated.front());
      EXPECT_EQ(m.missing, std::vector<std::string>{}) << where;
      if (r["category"] == "minimal") {
        EXPECT_TRUE(enc::mih(gold)) << where;
        EXPECT_LT(gold["salience"].get<double>(), 0.4);
      }
      if (r.contains("pair")) {
        const std::string pair = r["pair"];
        if (r["side"] == "A") {
          side_a[pair] = &gold;
        } else {
          ASSERT_TRUE(side_a.count(pair));
          EXPECT_LT(enc::ccs(*side_a[pair], gold), 0.7) << pair;
          ++pairs;
        }
      }
    }
    EXPECT_GE(epr / records.size(), 0.99);
    EXPECT_GE(np / records.size(), 0.99);
    EXPECT_GE(pairs, 8u);
  }
}

}  // namespace
}  // namespace bespoke
