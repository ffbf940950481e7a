// The encoding record: the strict validator lists every violation; the SC metric follows
// mnemonic's scorer (empty enums pass, missing salience fails, lengths in code points); JSON
// is found in raw outputs the scorer's way (think blocks, fences, turn markers, the first
// balanced object with braces inside strings).
#include <gtest/gtest.h>

#include "bespoke/task/encoding/extract.h"
#include "bespoke/task/encoding/python_json.h"
#include "bespoke/task/encoding/record.h"

namespace bespoke {
namespace {

using task::encoding::Json;
namespace enc = task::encoding;

Json good() {
  return Json::parse(R"({"gist": "Bumped pool size to 25 in db.go:88", "summary": "Raised the DB pool size.",
    "content": "Set max pool size to 25 in db.go line 88.", "narrative": "Connections were exhausted under load.",
    "concepts": ["database", "configuration"],
    "structured_concepts": {"topics": [{"label": "database", "path": "backend/database"}],
      "entities": [{"name": "db.go", "type": "file", "context": "pool config"}],
      "actions": [{"verb": "set", "object": "pool size", "details": "25"}], "causality": []},
    "significance": "routine", "emotional_tone": "neutral", "outcome": "success", "salience": 0.35})");
}

TEST(EncodingRecord, AValidRecordHasNoViolations) {
  EXPECT_TRUE(enc::violations(good()).empty());
  EXPECT_TRUE(enc::schema_compliant(good()));
}

TEST(EncodingRecord, EveryViolationIsListedByField) {
  Json r = good();
  r.erase("narrative");
  r["extra"] = 1;
  r["significance"] = "trivial";
  r["salience"] = 1.5;
  r["gist"] = std::string(61, 'x');
  r["concepts"] = Json::array({"ok", 3});
  r["structured_concepts"]["entities"][0].erase("type");
  r["structured_concepts"]["topics"][0]["label"] = 7;
  const std::vector<std::string> v = enc::violations(r);
  const auto has = [&](const std::string& needle) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(has("missing \"narrative\""));
  EXPECT_TRUE(has("unexpected key \"extra\""));
  EXPECT_TRUE(has("significance: \"trivial\""));
  EXPECT_TRUE(has("salience: outside [0, 1]"));
  EXPECT_TRUE(has("gist: over 60"));
  EXPECT_TRUE(has("concepts[1]: not a string"));
  EXPECT_TRUE(has("structured_concepts.entities[0]: missing \"type\""));
  EXPECT_TRUE(has("structured_concepts.topics[0].label: not a string"));
  EXPECT_EQ(v.size(), 8u);
  const std::vector<std::string> reordered = enc::violations(Json::parse(R"({"summary": "s", "gist": "g"})"));
  EXPECT_TRUE(std::any_of(reordered.begin(), reordered.end(), [](const std::string& s) {
    return s.find("\"gist\" is out of order") != std::string::npos;
  }));
}

TEST(EncodingRecord, ComplianceFollowsTheScorersRules) {
  Json r = good();
  r["outcome"] = "";  // an empty enum value passes
  EXPECT_TRUE(enc::schema_compliant(r));
  r["emotional_tone"] = "Neutral";  // case-sensitive
  EXPECT_FALSE(enc::schema_compliant(r));
  r = good();
  r.erase("salience");  // missing salience fails
  EXPECT_FALSE(enc::schema_compliant(r));
  r = good();
  r["gist"] = std::string(20, 'a') +
              "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9" +
              std::string(30, 'b');  // 60 code points, 70 bytes
  EXPECT_TRUE(enc::schema_compliant(r));
  r["structured_concepts"]["entities"][0] = "db.go";  // sub-item shapes are not the scorer's business
  EXPECT_TRUE(enc::schema_compliant(r));
  EXPECT_FALSE(enc::violations(r).empty());
  r["structured_concepts"].erase("causality");
  EXPECT_FALSE(enc::schema_compliant(r));
  r["structured_concepts"] = nullptr;  // the scorer checks its lists only when it is not None
  EXPECT_TRUE(enc::schema_compliant(r));
  r["structured_concepts"] = "none";  // no "topics" in it, so missing
  EXPECT_FALSE(enc::schema_compliant(r));
}

TEST(EncodingRecord, JsonIsFoundInRawOutputs) {
  const std::string obj = R"({"gist": "a {brace} in a string", "n": 1})";
  EXPECT_EQ(enc::extract_json(obj).value()["n"], 1);
  EXPECT_EQ(enc::extract_json("```json\n" + obj + "\n```").value()["n"], 1);
  EXPECT_EQ(enc::extract_json("<think>{not json} maybe {\"n\": 2}</think>\n" + obj).value()["n"], 1);
  EXPECT_EQ(enc::extract_json("Here you go: " + obj + " hope that helps {").value()["gist"], "a {brace} in a string");
  EXPECT_EQ(enc::extract_json("<start_of_turn>model\n" + obj + "<end_of_turn>").value()["n"], 1);
  EXPECT_EQ(enc::extract_json(R"(x {"s": "quote \" and } brace", "n": 3} y)").value()["n"], 3);
  EXPECT_FALSE(enc::extract_json("no json here").has_value());
  EXPECT_FALSE(enc::extract_json("{\"unterminated\": ").has_value());
  EXPECT_FALSE(enc::extract_json("[1, 2]").has_value());  // an object, not any JSON value
}

// Python's json.dumps, which the scorer searches: values as CPython 3 prints them.
TEST(EncodingRecord, SerialisedAsPythonDoes) {
  EXPECT_EQ(enc::python_float(0.5), "0.5");
  EXPECT_EQ(enc::python_float(2500.0), "2500.0");
  EXPECT_EQ(enc::python_float(1e-5), "1e-05");
  EXPECT_EQ(enc::python_float(0.0001), "0.0001");
  EXPECT_EQ(enc::python_float(1e16), "1e+16");
  EXPECT_EQ(enc::python_float(1.5e16), "1.5e+16");
  EXPECT_EQ(enc::python_float(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(enc::python_float(-0.35), "-0.35");
  EXPECT_EQ(enc::python_float(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(enc::python_float(0.0), "0.0");
  const Json r = Json::parse(
      R"({"b": 0.50, "a": [1, 2.5e3, "x\ny"], "s": "caf\u00e9 \ud83d\ude00 \u0001", "t": true, "n": null})");
  // ensure_ascii=False keeps characters as they are; control characters and \n are escaped.
  EXPECT_EQ(enc::python_dumps(r, false),
            "{\"b\": 0.5, \"a\": [1, 2500.0, \"x\\ny\"], \"s\": \"caf\xC3\xA9 \xF0\x9F\x98\x80 \\u0001\", \"t\": true, "
            "\"n\": null}");
  EXPECT_EQ(enc::python_dumps(r, true),
            R"({"b": 0.5, "a": [1, 2500.0, "x\ny"], "s": "caf\u00e9 \ud83d\ude00 \u0001", "t": true, "n": null})");
}

}  // namespace
}  // namespace bespoke
