// mnemonic's faithfulness metrics on hand-computed cases: entity extraction under Python's
// regex rules, each metric's definition, and the scorer's edge behaviours (empty entity sets,
// comma-stripped numbers, Unicode digits, case rules, Python number printing).
#include <gtest/gtest.h>

#include "bespoke/task/encoding/entities.h"
#include "bespoke/task/encoding/extract.h"
#include "bespoke/task/encoding/metrics.h"

namespace bespoke {
namespace {

using task::encoding::Json;
namespace enc = task::encoding;
using Set = std::set<std::string>;

TEST(EncodingEntities, NumbersFollowTheScorersAlternation) {
  EXPECT_EQ(
      enc::extract_numbers("worker-3 took 1,247.5 ms, a -2.5% drop, 12.8/16 GB, lr 2.3e-4, 12/21 passed, -7, 80%"),
      (Set{"3", "1247.5", "-2.5%", "12.8", "16", "2.3e-4", "12/21", "7", "80%"}));
  EXPECT_EQ(enc::extract_numbers("-47,231 rows and -3/4 and 5e3"), (Set{"-47231", "-3/4", "5", "3"}));
  // Python's \d is Unicode: full-width and Devanagari digits are numbers.
  EXPECT_EQ(enc::extract_numbers("\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95 items, \xE0\xA5\xA8 left"),
            (Set{"\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95", "\xE0\xA5\xA8"}));
  EXPECT_TRUE(enc::extract_numbers("no digits here").empty());
}

TEST(EncodingEntities, PathsVersionsAndProperNouns) {
  EXPECT_EQ(enc::extract_entities("see internal/store/sqlite.go:142 and ship v1.4.2"),
            (Set{"internal/store/sqlite.go", "142", "v1.4.2", "1.4", "2"}));
  EXPECT_EQ(enc::extract_entities("logs in /var/log/app and </tmp/x> ok"), (Set{"/var/log/app"}));
  EXPECT_EQ(enc::extract_entities("Maria Chen met with Jason, Anthony and the Renée team about PostgreSQL. "
                                  "@caleb_g says the SpreadActivation fix works"),
            (Set{"Maria Chen", "Chen", "Jason", "Anthony", "PostgreSQL", "caleb_g", "SpreadActivation"}));
  // Sentence starters are not names and "The ..." runs are dropped, but their words after a
  // lower-case letter still count; a mention keeps Japanese letters.
  EXPECT_EQ(enc::extract_entities(
                "Deploy failed. The Big Apple office pinged @\xE7\x94\xB0\xE4\xB8\xAD\xE3\x81\x95\xE3\x82\x93 today"),
            (Set{"Big", "Apple", "\xE7\x94\xB0\xE4\xB8\xAD\xE3\x81\x95\xE3\x82\x93"}));
  // Python's \s includes the no-break space, inside a name and before a word.
  EXPECT_EQ(enc::extract_entities("met Maria\xC2\xA0"
                                  "Chen"),
            (Set{"Maria", "Chen",
                 "Maria\xC2\xA0"
                 "Chen"}));
}

TEST(EncodingEntities, LowerCaseIsPythons) {
  EXPECT_EQ(enc::python_lower("\xC4\xB0STANBUL"), "i\xCC\x87stanbul");
  EXPECT_EQ(enc::python_lower("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3 \xCE\xA3"),
            "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82 \xCF\x83");
  EXPECT_EQ(enc::python_lower("Renée ÉCOLE"), "renée école");
  EXPECT_EQ(enc::code_points("Renée"), 5u);
}

Json record(const std::string& content, double salience = 0.3) {
  Json r = Json::object();
  r["gist"] = "raised the pool size";
  r["summary"] = "pool size raised.";
  r["content"] = content;
  r["narrative"] = "connections ran out under load.";
  r["concepts"] = Json::array({"database"});
  r["structured_concepts"] = Json::parse(R"({"topics": [], "entities": [], "actions": [], "causality": []})");
  r["significance"] = "routine";
  r["emotional_tone"] = "neutral";
  r["outcome"] = "success";
  r["salience"] = salience;
  return r;
}

TEST(EncodingMetrics, PreservationAndFabricationByHand) {
  const std::string input = "Bumped the pool to 25 in db.go:88 for Jason after 1,024 timeouts.";
  // Entities: 25, 88, 1024, db.go, Jason. The output keeps 25, db.go and 1,024 (found once
  // commas are stripped) and invents Maria and 40.
  const Json out = record("Set the pool to 25 in db.go with Maria after 1,024 timeouts and 40 retries.");
  const enc::ItemMetrics m = enc::score_item(input, out);
  EXPECT_DOUBLE_EQ(m.epr, 3.0 / 5.0);
  EXPECT_EQ(Set(m.missing.begin(), m.missing.end()), (Set{"88", "Jason"}));
  EXPECT_DOUBLE_EQ(m.np, 2.0 / 3.0);
  EXPECT_EQ(m.missing_numbers, std::vector<std::string>{"88"});
  // Prose entities: 25, db.go, Maria, 1024, 40 -> Maria and 40 are not in the input.
  EXPECT_DOUBLE_EQ(m.fr, 2.0 / 5.0);
  EXPECT_EQ(Set(m.fabricated.begin(), m.fabricated.end()), (Set{"Maria", "40"}));
  EXPECT_FALSE(m.ted);
  EXPECT_TRUE(m.sc);
}

TEST(EncodingMetrics, EmptySetsAndCaseRules) {
  const enc::ItemMetrics none = enc::score_item("it works now", record("It works now."));
  EXPECT_EQ(none.epr, 1.0);  // no input entities
  EXPECT_EQ(none.np, 1.0);
  EXPECT_EQ(none.fr, 0.0);  // no output entities
  // EPR ignores case, NP does not: "2.3E-4" is found as an entity but not as a number.
  const enc::ItemMetrics cased = enc::score_item("lr 2.3e-4 from Kyoto, then", record("LR 2.3E-4 FROM KYOTO"));
  EXPECT_EQ(cased.epr, 1.0);
  EXPECT_EQ(cased.np, 0.0);
  // FR reads only the prose fields: an entity in concepts is not a fabrication.
  Json out = record("nothing");
  out["concepts"] = Json::array({"Tokyo Tower"});
  EXPECT_EQ(enc::score_item("nothing", out).fr, 0.0);
}

TEST(EncodingMetrics, NumbersAreSearchedAsPythonPrintsThem) {
  // The dump prints 0.50 as 0.5, 2.5e3 as 2500.0 and 0.00001 as 1e-05.
  const Json out = Json::parse(R"({"content": "see fields", "ratio": 0.50, "big": 2.5e3, "tiny": 0.00001})");
  EXPECT_EQ(enc::score_item("ratio 0.5, big 2500.0, again 0.50", out).np, 2.0 / 3.0);
  EXPECT_EQ(enc::extract_numbers("1e-05"), (Set{"1", "05"}));  // no scientific form without a decimal point
  EXPECT_EQ(enc::score_item("tiny 1e-05", out).np, 1.0);
}

TEST(EncodingMetrics, TemplateEchoIsSearchedLowerCasedInTheAsciiDump) {
  EXPECT_TRUE(enc::score_item("x", record("Keep the Gist UNDER 60 CHARACTERS")).ted);
  EXPECT_EQ(enc::score_item("x", record("fill in every JSON field")).echoed,
            std::vector<std::string>{"fill in every json field"});
  EXPECT_FALSE(enc::score_item("x", record("under 61 characters")).ted);
}

TEST(EncodingMetrics, CrossContaminationIsACosineOfWordCounts) {
  // Schema key words are left out; what remains: a = {x: 2, y: 1}, b = {x: 1, z: 1} (the
  // ensure_ascii=False dump of "x\ny" escapes the newline, so the word is "ny").
  const Json a = Json::parse(R"({"gist": "x x y"})"), b = Json::parse(R"({"summary": "x z"})");
  EXPECT_DOUBLE_EQ(enc::ccs(a, b), 2.0 / (std::sqrt(5.0) * std::sqrt(2.0)));
  EXPECT_DOUBLE_EQ(enc::ccs(a, a), 1.0);
  EXPECT_DOUBLE_EQ(enc::ccs(Json::parse(R"({"content": "q\nr"})"), Json::parse(R"({"content": "q nr"})")), 1.0);
  EXPECT_EQ(enc::ccs(Json::parse(R"({"gist": ""})"), Json::parse(R"({"gist": "a"})")), 0.0);  // only keys on one side
  EXPECT_EQ(enc::ccs(Json::object(), Json::object()), 1.0);                                   // no words at all
}

TEST(EncodingMetrics, MinimalInputHandling) {
  EXPECT_TRUE(enc::mih(record(std::string(150, 'c'), 0.39)));
  EXPECT_FALSE(enc::mih(record("short", 0.4)));
  EXPECT_FALSE(enc::mih(record(std::string(151, 'c'), 0.1)));
  Json r = record("short", 0.1);
  r["narrative"] = std::string(201, 'n');
  EXPECT_FALSE(enc::mih(r));
  r = record("short", 0.1);
  r.erase("salience");  // a missing salience counts as 1.0
  EXPECT_FALSE(enc::mih(r));
  r = record("\xC3\xA9", 0.1);
  r["content"] = std::string(75, 'a') + [] {
    std::string s;
    for (int i = 0; i < 75; ++i) s += "\xC3\xA9";
    return s;
  }();
  EXPECT_TRUE(enc::mih(r));  // 150 code points, 225 bytes
}

TEST(EncodingMetrics, ExtractionMatchesTheScorersEdgeCases) {
  // </think> without <think> is left alone; the object is still found after it.
  EXPECT_EQ(enc::extract_json("done</think>{\"n\": 4}").value()["n"], 4);
  // A JSON value that is not an object ends the search.
  EXPECT_FALSE(enc::extract_json("\"see {\\\"n\\\": 1}\"").has_value());
  // A backslash outside strings skips the next character, brace included.
  EXPECT_FALSE(enc::extract_json("x {\"a\": 1 \\} y").has_value());
  // Python's strip() removes a no-break space before the fence.
  EXPECT_EQ(enc::extract_json("\xC2\xA0```json\n{\"n\": 5}\n```").value()["n"], 5);
}

}  // namespace
}  // namespace bespoke
