// JSON files and typed keys: every failure is one line naming the file or the key.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "test_util.h"

namespace bespoke {
namespace {

// Expects `f` to throw Error(kind) whose message contains every needle and no newline.
template <typename F>
void expect_error(F f, ErrorKind kind, std::initializer_list<std::string> needles) {
  try {
    f();
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.kind(), kind) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const std::string& n : needles) EXPECT_NE(what.find(n), std::string::npos) << what;
  }
}

TEST(Json, ReadsAFileAndNamesAMissingOrMalformedOne) {
  const std::string dir = test::scratch_dir("json");
  std::ofstream(dir + "/good.json") << R"({"a": [1, 2]})";
  std::ofstream(dir + "/bad.json") << R"({"a": [1, 2)";
  EXPECT_EQ(read_json(dir + "/good.json")["a"][1].get<int>(), 2);
  expect_error([&] { read_json(dir + "/absent.json"); }, ErrorKind::kIo, {dir + "/absent.json", "cannot open"});
  expect_error([&] { read_json(dir + "/bad.json"); }, ErrorKind::kInput, {dir + "/bad.json", "not valid JSON"});
  expect_error([&] { read_json(dir); }, ErrorKind::kIo, {dir, "cannot read"});  // a directory opens, then fails to read
}

TEST(Json, TypedKeysTakeTheFallbackWhenAbsentOrNullAndNameAWrongType) {
  const nlohmann::json c =
      nlohmann::json::parse(R"({"n": 3, "x": 0.5, "b": true, "s": "hi", "l": [1, 2.5], "none": null, "bad": "3"})");
  EXPECT_EQ(config_int(c, "n"), 3);
  EXPECT_EQ(config_int(c, "none", 7), 7);
  EXPECT_EQ(config_int(c, "absent", 7), 7);
  EXPECT_DOUBLE_EQ(config_double(c, "x", 0), 0.5);
  EXPECT_DOUBLE_EQ(config_double(c, "n", 0), 3.0);
  EXPECT_TRUE(config_bool(c, "b", false));
  EXPECT_EQ(config_string(c, "s", ""), "hi");
  EXPECT_EQ(config_string(c, "absent", "x"), "x");
  EXPECT_EQ(config_doubles(c, "l"), (std::vector<double>{1, 2.5}));
  expect_error([&] { config_int(c, "absent"); }, ErrorKind::kInput, {"missing key 'absent'"});
  expect_error([&] { config_int(c, "bad", 0); }, ErrorKind::kInput, {"'bad'", "integer"});
  expect_error([&] { config_int(c, "x", 0); }, ErrorKind::kInput, {"'x'", "integer"});
  expect_error([&] { config_double(c, "bad", 0); }, ErrorKind::kInput, {"'bad'", "number"});
  expect_error([&] { config_bool(c, "n", false); }, ErrorKind::kInput, {"'n'", "boolean"});
  expect_error([&] { config_string(c, "n", ""); }, ErrorKind::kInput, {"'n'", "string"});
  expect_error([&] { config_doubles(c, "s"); }, ErrorKind::kInput, {"'s'", "list of numbers"});
  expect_error([&] { config_doubles(c, "absent"); }, ErrorKind::kInput, {"'absent'"});
}

}  // namespace
}  // namespace bespoke
