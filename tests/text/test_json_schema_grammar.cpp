// The JSON-schema grammar against the JSON-Schema-Test-Suite (Debian's json-schema-test-suite:
// every case of the supported keywords' files, fed as canonical_json, must be complete exactly
// when the suite says valid), hand-written cases for the layout rules, and a seeded property
// test: generated instances are accepted, and mutations that break the JSON are rejected.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bespoke/core/error.h"
#include "bespoke/text/json_schema_grammar.h"

namespace bespoke::text {
namespace {

using Json = nlohmann::ordered_json;

// Debian 12's package (2.0.0) ships drafts 3 to 7; draft 7 is the newest it has. For the
// supported subset draft 7 differs from 2020-12 only where this grammar refuses the schema
// ($ref beside other keywords, items as a list), so its cases are the ones that apply.
const std::string kSuiteDir = "/usr/share/json-schema-test-suite/tests/draft7";

bool matches(const JsonSchemaGrammar& g, std::string_view text) {
  JsonSchemaGrammar::State s = g.start();
  return g.accept(s, text) && g.complete(s);
}

JsonSchemaGrammar grammar(const std::string& schema) {
  return JsonSchemaGrammar::compile(Json::parse(schema));
}

// ---- the test suite ----

// Files of the supported keywords, each with the fewest cases it must check (what it checks
// now; definitions.json has none to check: both its groups $ref the remote metaschema).
const std::vector<std::pair<std::string, size_t>> kSuiteFiles = {
    {"type.json", 59},           {"properties.json", 10}, {"required.json", 7}, {"additionalProperties.json", 6},
    {"items.json", 8},           {"minItems.json", 4},    {"maxItems.json", 4}, {"enum.json", 9},
    {"const.json", 12},          {"anyOf.json", 7},       {"ref.json", 12},     {"definitions.json", 0},
    {"boolean_schema.json", 18}, {"default.json", 2}};

// Cases the grammar gets wrong by construction: none so far. {file, group, case, reason}.
struct Exclusion {
  const char* file;
  const char* group;
  const char* test;
  const char* reason;
};
const std::vector<Exclusion> kExclusions = {};

bool excluded(const std::string& file, const std::string& group, const std::string& test) {
  for (const Exclusion& e : kExclusions)
    if (file == e.file && group == e.group && test == e.test) return true;
  return false;
}

TEST(JsonSchemaGrammar, AgreesWithTheJsonSchemaTestSuite) {
  ASSERT_TRUE(std::filesystem::is_directory(kSuiteDir))
      << kSuiteDir << " is missing: run scripts/setup.sh --test (it installs json-schema-test-suite)";
  size_t total_groups = 0, total_cases = 0, total_refused = 0, total_excluded = 0;
  for (const auto& [file, min_cases] : kSuiteFiles) {
    std::ifstream in(kSuiteDir + "/" + file);
    ASSERT_TRUE(in) << file;
    const Json groups = Json::parse(in);
    size_t compiled = 0, checked = 0, refused = 0;
    for (const Json& group : groups) {
      const std::string name = group["description"];
      std::optional<JsonSchemaGrammar> g;
      try {
        g = JsonSchemaGrammar::compile(group["schema"]);
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << file << " / " << name << ": " << e.what();
        ++refused;
        std::printf("  refused %s / %s: %s\n", file.c_str(), name.c_str(), e.what());
        continue;
      }
      ++compiled;
      for (const Json& t : group["tests"]) {
        const std::string test = t["description"];
        if (excluded(file, name, test)) {
          ++total_excluded;
          continue;
        }
        const std::string text = canonical_json(t["data"], group["schema"]);
        EXPECT_EQ(matches(*g, text), t["valid"].get<bool>()) << file << " / " << name << " / " << test << ": " << text;
        ++checked;
      }
    }
    std::printf("%-26s groups compiled %zu, cases checked %zu, groups refused %zu\n", file.c_str(), compiled, checked,
                refused);
    EXPECT_GE(checked, min_cases) << file;
    total_groups += compiled, total_cases += checked, total_refused += refused;
  }
  std::printf("suite: %zu files, %zu groups compiled, %zu cases checked, %zu groups refused, %zu cases excluded\n",
              kSuiteFiles.size(), total_groups, total_cases, total_refused, total_excluded);
}

// ---- hand-written cases ----

// mnemonic's encoding record (the shape task/encoding/record.cpp writes, plus its
// production enums): ten required keys, nested objects, no extra keys anywhere.
Json encoding_schema() {
  const auto object = [](const std::vector<std::pair<std::string, Json>>& props) {
    Json o = {{"type", "object"},
              {"properties", Json::object()},
              {"required", Json::array()},
              {"additionalProperties", false}};
    for (const auto& [name, schema] : props) {
      o["properties"][name] = schema;
      o["required"].push_back(name);
    }
    return o;
  };
  const Json str = {{"type", "string"}};
  const auto list_of = [](const Json& item) { return Json{{"type", "array"}, {"items", item}}; };
  const auto one_of = [](std::vector<std::string> values) { return Json{{"type", "string"}, {"enum", values}}; };
  return object(
      {{"gist", str},
       {"summary", str},
       {"content", str},
       {"narrative", str},
       {"concepts", list_of(str)},
       {"structured_concepts", object({{"topics", list_of(object({{"label", str}, {"path", str}}))},
                                       {"entities", list_of(object({{"name", str}, {"type", str}, {"context", str}}))},
                                       {"actions", list_of(object({{"verb", str}, {"object", str}, {"details", str}}))},
                                       {"causality", list_of(object({{"relation", str}, {"description", str}}))}})},
       {"significance", one_of({"routine", "notable", "important", "critical"})},
       {"emotional_tone", one_of({"neutral", "satisfying", "frustrating", "exciting", "concerning"})},
       {"outcome", one_of({"success", "failure", "ongoing", "unknown"})},
       {"salience", {{"type", "number"}}}});
}

Json encoding_record() {
  return Json::parse(R"({"gist": "fixed the flaky build", "summary": "The CI cache key missed the compiler version.",
    "content": "Added the compiler's version to the cache key; caf\u00e9 \ud83d\ude00 \"quoted\"\nnext line",
    "narrative": "We chased it for a day.", "concepts": ["ci", "cache"],
    "structured_concepts": {"topics": [{"label": "build", "path": "ci/cache"}], "entities": [],
      "actions": [{"verb": "added", "object": "cache key", "details": "compiler version"}], "causality": []},
    "significance": "notable", "emotional_tone": "satisfying", "outcome": "success", "salience": 0.75})");
}

TEST(JsonSchemaGrammar, EncodingRecordCompactAndPretty) {
  const Json schema = encoding_schema();
  const JsonSchemaGrammar g = JsonSchemaGrammar::compile(schema);
  const Json record = encoding_record();
  EXPECT_TRUE(matches(g, record.dump()));
  EXPECT_TRUE(matches(g, record.dump(2)));
  EXPECT_TRUE(matches(g, record.dump(1, '\t')));

  Json missing = record;
  missing.erase("outcome");
  EXPECT_FALSE(matches(g, missing.dump()));
  Json wrong_enum = record;
  wrong_enum["significance"] = "huge";
  EXPECT_FALSE(matches(g, wrong_enum.dump()));
  Json extra = record;
  extra["mood"] = "fine";
  EXPECT_FALSE(matches(g, extra.dump()));
  Json nested_extra = record;
  nested_extra["structured_concepts"]["topics"][0]["weight"] = 1;
  EXPECT_FALSE(matches(g, nested_extra.dump()));
  Json reordered = Json::object();
  reordered["summary"] = record["summary"];
  for (const auto& [k, v] : record.items())
    if (k != "summary") reordered[k] = v;
  EXPECT_FALSE(matches(g, reordered.dump()));
  EXPECT_TRUE(matches(g, canonical_json(reordered, schema)));
  EXPECT_EQ(canonical_json(reordered, schema), record.dump());
}

TEST(JsonSchemaGrammar, OptionalKeysKeepTheirOrderAndOtherKeysCannotReuseThem) {
  const JsonSchemaGrammar closed = grammar(R"({"type": "object", "additionalProperties": false,
      "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}}, "required": ["b"]})");
  EXPECT_TRUE(matches(closed, R"({"a":1,"b":2,"c":3})"));
  EXPECT_TRUE(matches(closed, R"({"b":2})"));
  EXPECT_TRUE(matches(closed, R"({"b":2,"c":3})"));
  EXPECT_FALSE(matches(closed, R"({"a":1})"));
  EXPECT_FALSE(matches(closed, R"({"b":2,"a":1})"));
  EXPECT_FALSE(matches(closed, R"({"b":2,"b":2})"));
  EXPECT_FALSE(matches(closed, R"({"b":2,"d":4})"));

  const JsonSchemaGrammar prefixes = grammar(R"({"additionalProperties": false,
      "properties": {"p1": {}, "p10": {"type": "string"}, "p2": {}, "p": {}}})");
  EXPECT_TRUE(matches(prefixes, R"({"p1":1,"p10":"x","p2":2,"p":3})"));
  EXPECT_TRUE(matches(prefixes, R"({"p10":"x","p":3})"));
  EXPECT_FALSE(matches(prefixes, R"({"p10":1})"));
  EXPECT_FALSE(matches(prefixes, R"({"p10":"x","p1":1})"));
  EXPECT_FALSE(matches(prefixes, R"({"p3":1})"));

  const JsonSchemaGrammar open = grammar(R"({"type": "object", "properties": {"a": {"type": "integer"}}})");
  EXPECT_TRUE(matches(open, R"({"a":1,"b":"x","c":[]})"));
  EXPECT_TRUE(matches(open, R"({"b":"x"})"));
  EXPECT_FALSE(matches(open, R"({"b":1,"a":"x"})"));  // "a" later would dodge its schema
  EXPECT_FALSE(matches(open, R"({"b":1,"\u0061":"x"})"));
  EXPECT_TRUE(matches(open, R"({"a\"b":1,"ab":2})"));
  EXPECT_TRUE(matches(open, R"({"\u001f\n":1})"));  // other keys in dump()'s escapes only
  EXPECT_FALSE(matches(open, R"({"\u0008":1})"));
  EXPECT_FALSE(matches(open, R"({"x\/":1})"));
  EXPECT_TRUE(matches(grammar(R"({"type": "object"})"), R"({"\u0061\/":1})"));  // no declared keys: any escapes

  const JsonSchemaGrammar typed = grammar(R"({"properties": {"a": {}}, "additionalProperties": {"type": "boolean"}})");
  EXPECT_TRUE(matches(typed, R"({"a":1,"b":true})"));
  EXPECT_FALSE(matches(typed, R"({"a":1,"b":1})"));
  EXPECT_TRUE(matches(typed, "12"));  // no type: other kinds of value pass
}

TEST(JsonSchemaGrammar, RecursionThroughRef) {
  const JsonSchemaGrammar root = grammar(R"({"type": "object", "additionalProperties": false,
      "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#"}}},
      "required": ["value", "children"]})");
  const JsonSchemaGrammar defs = grammar(R"({"$ref": "#/$defs/tree", "$defs": {"tree": {"type": "object",
      "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/tree"}}},
      "required": ["value", "children"], "additionalProperties": false}}})");
  const std::string tree =
      R"({"value":1,"children":[{"value":2,"children":[]},{"value":3,"children":[{"value":4,"children":[]}]}]})";
  for (const JsonSchemaGrammar* g : {&root, &defs}) {
    EXPECT_TRUE(matches(*g, tree));
    EXPECT_FALSE(matches(*g, R"({"value":1,"children":[{"children":[]}]})"));
    EXPECT_FALSE(matches(*g, R"({"value":1,"children":[{"value":1.5,"children":[]}]})"));
  }
  // A recursion with no way out matches nothing, and the grammar says so from the start.
  const JsonSchemaGrammar endless =
      grammar(R"({"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]})");
  EXPECT_TRUE(endless.dead_end(endless.start()));
}

TEST(JsonSchemaGrammar, AnyOfKeepsEveryAlternativeAlive) {
  const JsonSchemaGrammar g = grammar(R"({"anyOf": [{"type": "integer"}, {"type": "number"}]})");
  for (const char* ok : {"1", "1.5", "-0", "-2e5", "0.25E-3"}) EXPECT_TRUE(matches(g, ok)) << ok;
  for (const char* bad : {"1.", "01", ".5", "1e", "+1", "--1"}) EXPECT_FALSE(matches(g, bad)) << bad;
  const JsonSchemaGrammar objects = grammar(R"({"anyOf": [
      {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind", "x"], "additionalProperties": false},
      {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}}, "required": ["kind", "y"], "additionalProperties": false}]})");
  EXPECT_TRUE(matches(objects, R"({"kind":"a","x":1})"));
  EXPECT_TRUE(matches(objects, R"({"kind":"b","y":"s"})"));
  EXPECT_FALSE(matches(objects, R"({"kind":"a","y":"s"})"));
  const JsonSchemaGrammar nullable = grammar(R"({"type": ["string", "null"]})");
  EXPECT_TRUE(matches(nullable, "null"));
  EXPECT_TRUE(matches(nullable, R"("x")"));
  EXPECT_FALSE(matches(nullable, "1"));
}

TEST(JsonSchemaGrammar, EnumAndConstMatchTheirCompactBytes) {
  const JsonSchemaGrammar g = grammar(R"({"enum": [1.0, "a", {"b": 1, "a": [true, null]}, 12]})");
  EXPECT_TRUE(matches(g, "1"));
  EXPECT_TRUE(matches(g, "12"));
  EXPECT_TRUE(matches(g, R"({"a":[true,null],"b":1})"));
  EXPECT_TRUE(matches(g, R"( "a" )"));
  EXPECT_FALSE(matches(g, "1.0"));
  EXPECT_FALSE(matches(g, R"({"b":1,"a":[true,null]})"));
  EXPECT_FALSE(matches(g, R"({"a": [true,null],"b":1})"));
  const JsonSchemaGrammar typed = grammar(R"({"type": "string", "enum": ["x", 1]})");
  EXPECT_TRUE(matches(typed, R"("x")"));
  EXPECT_FALSE(matches(typed, "1"));
}

TEST(JsonSchemaGrammar, WhitespaceDigitsAndNestingAreBounded) {
  const JsonSchemaGrammar g = grammar(R"({"type": "array", "items": {"type": "number"}})");
  const std::string ws(kJsonMaxWhitespace, ' ');
  EXPECT_TRUE(matches(g, ws + "[" + ws + "1" + ws + "," + ws + "2" + ws + "]" + ws));
  EXPECT_FALSE(matches(g, "[" + ws + " 1]"));
  EXPECT_FALSE(matches(g, "[1]" + ws + "\n"));
  const std::string digits(kJsonMaxDigits, '7');
  EXPECT_TRUE(matches(g, "[" + digits + "." + digits + "e" + digits + "]"));
  EXPECT_FALSE(matches(g, "[" + digits + "7]"));
  EXPECT_FALSE(matches(g, "[1." + digits + "7]"));
  EXPECT_FALSE(matches(g, "[1e-" + digits + "7]"));
  const JsonSchemaGrammar obj = grammar(R"({"type": "object"})");
  EXPECT_TRUE(matches(obj, "{" + ws + "\"a\"" + ws + ":" + ws + "1" + ws + "}"));
  EXPECT_FALSE(matches(obj, "{\"a\"" + ws + " :1}"));
  const JsonSchemaGrammar any = grammar("true");
  const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(matches(any, nested(kJsonMaxDepth)));
  EXPECT_FALSE(matches(any, nested(kJsonMaxDepth + 1)));
}

TEST(JsonSchemaGrammar, StringsAreValidUtf8) {
  const JsonSchemaGrammar g = grammar(R"({"type": "string"})");
  EXPECT_TRUE(matches(g, "\"caf\xC3\xA9\""));
  EXPECT_TRUE(matches(g, "\"\xF0\x9F\x98\x80\""));
  EXPECT_TRUE(matches(g, "\"\xEF\xBF\xBF \xF4\x8F\xBF\xBF\""));
  EXPECT_TRUE(matches(g, R"("\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00")"));
  EXPECT_FALSE(matches(g, "\"\xC0\x80\""));          // overlong NUL
  EXPECT_FALSE(matches(g, "\"\xE0\x80\xAF\""));      // overlong '/'
  EXPECT_FALSE(matches(g, "\"\xED\xA0\x80\""));      // a surrogate in UTF-8
  EXPECT_FALSE(matches(g, "\"\xF4\x90\x80\x80\""));  // past U+10FFFF
  EXPECT_FALSE(matches(g, "\"\xF5\x80\x80\x80\""));
  EXPECT_FALSE(matches(g, "\"\x80\""));
  EXPECT_FALSE(matches(g, "\"\xC3\""));
  EXPECT_FALSE(matches(g, "\"a\nb\""));
  EXPECT_FALSE(matches(g, std::string("\"a\0b\"", 5)));
  EXPECT_FALSE(matches(g, R"("\ud800")"));  // unpaired surrogates
  EXPECT_FALSE(matches(g, R"("\udc00")"));
  EXPECT_FALSE(matches(g, R"("\ud800\u0041")"));
  EXPECT_FALSE(matches(g, R"("\x41")"));
  EXPECT_FALSE(matches(g, R"("\u00g0")"));
}

void expect_error(const std::string& schema, ErrorKind kind, const std::vector<std::string>& in_message) {
  try {
    grammar(schema);
    ADD_FAILURE() << "compiled: " << schema;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << schema << ": " << e.what();
    for (const std::string& part : in_message)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what() << " lacks " << part;
  }
}

TEST(JsonSchemaGrammar, RefusesWhatItCannotEnforce) {
  expect_error(R"({"type": "object", "properties": {"name": {"type": "string", "pattern": "^a"}}})",
               ErrorKind::kUnsupported, {"\"pattern\"", "/properties/name"});
  for (const char* keyword :
       {"minLength", "maxLength", "minimum", "maximum", "format", "patternProperties", "propertyNames", "allOf",
        "oneOf", "not", "if", "prefixItems", "contains", "uniqueItems", "dependentRequired", "multipleOf", "$anchor"})
    expect_error(std::string(R"({"items": {")") + keyword + R"(": 1}})", ErrorKind::kUnsupported,
                 {std::string("\"") + keyword + "\"", "/items"});
  expect_error(R"({"items": [{"type": "integer"}]})", ErrorKind::kUnsupported, {"\"items\""});
  expect_error(R"({"$ref": "#/$defs/a", "maxItems": 2, "$defs": {"a": {}}})", ErrorKind::kUnsupported,
               {"\"maxItems\"", "$ref"});
  expect_error(R"({"type": "string", "anyOf": [{}]})", ErrorKind::kUnsupported, {"\"type\"", "anyOf"});
  expect_error(R"({"$ref": "http://example.com/s.json"})", ErrorKind::kUnsupported, {"http://example.com/s.json"});
  expect_error(R"({"properties": {"a": {"$id": "x"}}})", ErrorKind::kUnsupported, {"\"$id\"", "/properties/a"});
  expect_error(R"({"properties": {"a": {"$ref": "#/$defs/missing"}}})", ErrorKind::kInput, {"#/$defs/missing"});
  expect_error(R"({"type": 5})", ErrorKind::kInput, {"type"});
  expect_error(R"({"type": "text"})", ErrorKind::kInput, {"text"});
  expect_error(R"({"required": "a"})", ErrorKind::kInput, {"required"});
  expect_error(R"({"minItems": -1})", ErrorKind::kInput, {"minItems"});
  // Annotations are no constraint.
  EXPECT_NO_THROW(grammar(R"({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x", "title": "t",
      "description": "d", "default": 1, "examples": [1], "$comment": "c", "type": "integer"})"));
}

TEST(JsonSchemaGrammar, FalseMatchesNothing) {
  const JsonSchemaGrammar g = grammar("false");
  JsonSchemaGrammar::State s = g.start();
  EXPECT_TRUE(g.dead_end(s));
  EXPECT_FALSE(g.accept(s, "null"));
  EXPECT_FALSE(g.complete(s));
  EXPECT_FALSE(matches(grammar(R"({"type": "array", "items": false, "minItems": 1})"), "[]"));
  EXPECT_TRUE(matches(grammar(R"({"type": "array", "items": false})"), "[]"));
  EXPECT_FALSE(matches(grammar(R"({"type": "array", "items": false})"), "[1]"));
}

TEST(JsonSchemaGrammar, AnyObject) {
  const JsonSchemaGrammar g = JsonSchemaGrammar::any_object();
  EXPECT_TRUE(matches(g, "{}"));
  EXPECT_TRUE(matches(g, R"({"a":[1,{"b":null}], "\u00e9": "\ud83d\ude00"})"));
  EXPECT_TRUE(matches(g, R"({"a":1,"a":2})"));
  EXPECT_FALSE(matches(g, "[]"));
  EXPECT_FALSE(matches(g, "1"));
  EXPECT_FALSE(matches(g, "{} {}"));
  EXPECT_FALSE(matches(g, R"({"a":})"));
}

TEST(JsonSchemaGrammar, AcceptIsAllOrNothing) {
  const JsonSchemaGrammar g =
      grammar(R"({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false})");
  JsonSchemaGrammar::State s = g.start();
  ASSERT_TRUE(g.accept(s, R"({"a":)"));
  EXPECT_FALSE(g.accept(s, "1x"));
  EXPECT_FALSE(g.accept(s, '"'));
  EXPECT_FALSE(g.complete(s));
  ASSERT_TRUE(g.accept(s, "12"));
  EXPECT_FALSE(g.complete(s));
  ASSERT_TRUE(g.accept(s, '}'));
  EXPECT_TRUE(g.complete(s));
  EXPECT_FALSE(g.accept(s, "x"));
  EXPECT_TRUE(g.complete(s));
}

TEST(JsonSchemaGrammar, CanonicalJsonLaysOutLikeTheGrammar) {
  const Json schema = Json::parse(R"({"$defs": {"p": {"type": "object", "properties": {"z": {}, "a": {}}}},
      "anyOf": [{"type": "integer"}, {"$ref": "#/$defs/p"}]})");
  EXPECT_EQ(canonical_json(Json::parse(R"({"b": 1.0, "a": [2.5, 3.0], "z": {"y": 1, "x": 2}})"), schema),
            R"({"z":{"y":1,"x":2},"a":[2.5,3],"b":1})");
  EXPECT_EQ(canonical_json(Json::parse(R"({"b": 1, "a": 2})"), Json::parse(R"({"const": {"b": 1, "a": 2}})")),
            R"({"a":2,"b":1})");
  EXPECT_EQ(canonical_json(Json::parse("1e300"), Json(true)), "1e+300");
}

// ---- property test: generated instances pass, broken JSON does not ----

struct Generator {
  std::mt19937 rng;
  const Json& root;

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
  bool coin() { return pick(2) == 0; }

  std::string text() {
    static const std::vector<std::string> pieces = {"a",  "Z",  " ",  "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                                    "\"", "\\", "\n", "\t",       "\x01",         "/",
                                                    "{",  "]",  ":",  ","};
    std::string s;
    for (size_t n = pick(8); n > 0; --n) s += pieces[pick(pieces.size())];
    return s;
  }

  Json number(bool integer) {
    if (integer || coin()) return int64_t(pick(2000)) - 1000;
    return (double(pick(100000)) - 50000.0) / 64.0;
  }

  Json any(int depth) {
    switch (pick(depth > 0 ? 7 : 5)) {
      case 0:
        return nullptr;
      case 1:
        return coin();
      case 2:
        return number(false);
      case 3:
        return number(true);
      case 4:
        return text();
      case 5: {
        Json a = Json::array();
        for (size_t n = pick(4); n > 0; --n) a.push_back(any(depth - 1));
        return a;
      }
      default: {
        Json o = Json::object();
        for (size_t n = pick(4); n > 0; --n) o[text()] = any(depth - 1);
        return o;
      }
    }
  }

  Json value(const Json& schema, int depth) {
    if (schema.is_boolean()) return any(depth);
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"];
      return value(root.at(Json::json_pointer(ref.substr(1))), depth);
    }
    if (schema.contains("anyOf")) return value(schema["anyOf"][pick(schema["anyOf"].size())], depth);
    if (schema.contains("const")) return schema["const"];
    if (schema.contains("enum")) return schema["enum"][pick(schema["enum"].size())];
    if (!schema.contains("type")) return any(depth);
    const Json& t = schema["type"];
    const std::string type = t.is_array() ? t[pick(t.size())].get<std::string>() : t.get<std::string>();
    if (type == "null") return nullptr;
    if (type == "boolean") return coin();
    if (type == "integer" || type == "number") return number(type == "integer");
    if (type == "string") return text();
    if (type == "array") {
      Json a = Json::array();
      const size_t n = schema.value("minItems", size_t(0)) + (depth > 0 ? pick(3) : 0);
      for (size_t i = 0; i < std::min(n, schema.value("maxItems", size_t(8))); ++i)
        a.push_back(value(schema.value("items", Json(true)), depth - 1));
      return a;
    }
    Json o = Json::object();
    const Json required = schema.value("required", Json::array());
    const Json props = schema.value("properties", Json::object());
    for (const auto& [k, sub] : props.items())
      if (std::find(required.begin(), required.end(), k) != required.end() || (depth > 0 && coin()))
        o[k] = value(sub, depth - 1);
    if (schema.value("additionalProperties", Json(true)) != false && depth > 0 && coin())
      o["extra " + text()] = any(depth - 1);
    return o;
  }
};

// nlohmann refuses the text as JSON; a number out of double's range (1e999) is JSON all the same.
bool syntax_error(const std::string& text) {
  try {
    const nlohmann::json parsed = nlohmann::json::parse(text);
    return parsed.is_discarded();  // never: parse() threw if it was not JSON
  } catch (const nlohmann::json::parse_error&) {
    return true;
  } catch (const nlohmann::json::out_of_range&) {
    return false;
  }
}

TEST(JsonSchemaGrammar, GeneratedInstancesPassAndBrokenJsonDoesNot) {
  const std::vector<Json> schemas = {
      encoding_schema(), Json(true), Json::parse(R"({"type": "object"})"),
      Json::parse(R"({"type": "object", "properties": {"value": {"type": "integer"}, "tags": {"type": "array",
          "items": {"type": "string"}, "maxItems": 3}, "children": {"type": "array", "items": {"$ref": "#"}}},
          "required": ["value"]})"),
      Json::parse(R"({"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "number"},
          {"enum": ["x", [1, 2], {"k": null}]}, {"type": ["string", "null", "boolean"]}]}, "minItems": 1})")};
  Generator gen{std::mt19937(1234), schemas[0]};
  size_t accepted = 0, mutants = 0;
  for (const Json& schema : schemas) {
    const JsonSchemaGrammar g = JsonSchemaGrammar::compile(schema);
    Generator local{std::mt19937(gen.rng()), schema};
    for (int i = 0; i < 60; ++i) {
      const std::string text = canonical_json(local.value(schema, 3), schema);
      ASSERT_TRUE(matches(g, text)) << schema.dump() << "\n" << text;
      ++accepted;
      for (int m = 0; m < 20; ++m) {
        std::string broken = text;
        broken[local.pick(broken.size())] = char(local.pick(256));
        if (!syntax_error(broken)) continue;
        EXPECT_FALSE(matches(g, broken)) << schema.dump() << "\n" << broken;
        ++mutants;
      }
    }
  }
  std::printf("property test: %zu instances accepted, %zu broken mutants rejected\n", accepted, mutants);
  EXPECT_GT(mutants, 1000u);
}

// A server shares one grammar between the requests it decodes at once.
TEST(JsonSchemaGrammar, ConcurrentUseOfOneGrammar) {
  const JsonSchemaGrammar g = JsonSchemaGrammar::compile(encoding_schema());
  const std::string text = encoding_record().dump(2);
  std::vector<int> ok(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < ok.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) ok[t] += matches(g, text);
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(ok, std::vector<int>(4, 50));
}

// What a server can budget for token filtering: bytes a second through accept(), and a State copy.
TEST(JsonSchemaGrammar, CostOfAStep) {
  const JsonSchemaGrammar g = JsonSchemaGrammar::compile(encoding_schema());
  Json record = encoding_record();
  record["content"] = std::string(1200, 'x');
  const std::string text = record.dump(2);
  const auto now = [] { return std::chrono::steady_clock::now(); };
  const int rounds = 50;
  auto t0 = now();
  for (int r = 0; r < rounds; ++r) {
    JsonSchemaGrammar::State s = g.start();
    for (char ch : text) ASSERT_TRUE(g.accept(s, uint8_t(ch)));
    ASSERT_TRUE(g.complete(s));
  }
  const double secs = std::chrono::duration<double>(now() - t0).count();
  // A typical mid-document state (in structured_concepts.topics[0].path: six frames, one
  // parse), copied as a decoder copies it per candidate token, then a 4-byte token tried on it.
  JsonSchemaGrammar::State mid = g.start();
  ASSERT_TRUE(g.accept(mid, text.substr(0, text.find("ci/cache") + 2)));
  std::vector<JsonSchemaGrammar::State> slots(1000);
  const int copy_rounds = 200;
  const auto per_copy = [&](auto t) {
    return std::chrono::duration<double>(now() - t).count() / (copy_rounds * slots.size()) * 1e9;
  };
  std::vector<JsonSchemaGrammar::State> fresh;
  fresh.reserve(slots.size());
  t0 = now();
  for (int r = 0; r < copy_rounds; ++r) {
    fresh.clear();
    for (size_t i = 0; i < slots.size(); ++i) fresh.push_back(mid);  // allocates
  }
  const double new_ns = per_copy(t0);
  t0 = now();
  for (int r = 0; r < copy_rounds; ++r)
    for (JsonSchemaGrammar::State& slot : slots) slot = mid;  // reuses the slot's buffer
  const double copy_ns = per_copy(t0);
  t0 = now();
  size_t tried = 0;
  for (int r = 0; r < copy_rounds; ++r)
    for (JsonSchemaGrammar::State& slot : slots) tried += g.accept(slot = mid, "xy\\");
  const double token_ns = per_copy(t0);
  EXPECT_EQ(tried, copy_rounds * slots.size());
  std::printf(
      "accept: %zu-byte document, %.1f MB/s (%.0f ns a byte); State copy %.0f ns new, %.0f ns into a slot; "
      "slot copy + 4-byte token %.0f ns\n",
      text.size(), double(text.size()) * rounds / secs / 1e6, secs / (double(text.size()) * rounds) * 1e9, new_ns,
      copy_ns, token_ns);
}

// The shortest completion, counted by hand from the shortest instance's bytes, is what a decoder
// with a budget is held to: every prefix must still close within the tokens left.
TEST(JsonSchemaGrammar, CompletionLengthIsTheShortestWayToClose) {
  const JsonSchemaGrammar g = JsonSchemaGrammar::compile(Json::parse(
      R"({"type":"object","additionalProperties":false,"required":["a","n"],
          "properties":{"a":{"type":"string"},"n":{"enum":["long-value",7]},"t":{"type":"array"}}})"));
  JsonSchemaGrammar::State s = g.start();
  EXPECT_EQ(g.completion_length(s, 100), std::string(R"({"a":"","n":7})").size());
  ASSERT_TRUE(g.accept(s, std::string_view(R"({"a":"xyz)")));
  EXPECT_EQ(g.completion_length(s, 100), std::string(R"(","n":7})").size());
  EXPECT_EQ(g.completion_length(s, 3), 4u);  // more than the limit: limit + 1
  ASSERT_TRUE(g.accept(s, std::string_view(R"(","n":"lo)")));
  EXPECT_EQ(g.completion_length(s, 100), std::string(R"(ng-value"})").size());
  ASSERT_TRUE(g.accept(s, std::string_view(R"(ng-value"})")));
  EXPECT_TRUE(g.complete(s));
  EXPECT_EQ(g.completion_length(s, 100), 0u);
}

}  // namespace
}  // namespace bespoke::text
