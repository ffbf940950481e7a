// The demo's checks, read from a report's own numbers: the parent's size over the student's,
// llama.cpp agreeing and the pruned file decoding faster, the time, and the lottery's finding
// put in words either way. (The demo itself runs end to end, shrunken, in test_run.cpp; the
// full one is the README's first command.)
#include <gtest/gtest.h>

#include "bespoke/pipeline/demo.h"

namespace bespoke {
namespace {

using Json = pipeline::Json;

Json report(double parent, double student, double speedup, double a, double b) {
  const Json file = {{"type", "q8_0"}, {"llama_cpp_ok", true}, {"tokens_per_s", 100.0}};
  return {{"minutes", 14.0},
          {"prune", {{"quality", {{"rows", {{{"params", parent}}, {{"params", student}}}}}}}},
          {"gate", {{"verdict", "go"}}},
          {"lottery",
           {{"arms", {{"A", {{"final_eval_loss", a}}}, {"B", {{"final_eval_loss", b}}}}},
            {"a_beats_b", a < b},
            {"a_minus_b", b - a},
            {"token_multiplier", {{"text", "more than 2x"}}}}},
          {"export",
           {{"base", {{"files", {file}}}}, {"pruned", {{"files", {file}}}}, {"speedup", {{"q8_0", speedup}}}}}};
}

TEST(Demo, ChecksHoldOnTheirOwnNumbers) {
  const Json c = pipeline::demo_checks(report(4e6, 1e6, 2.5, 2.0, 2.4));
  EXPECT_TRUE(c["parent_at_least_4x"].get<bool>());
  EXPECT_DOUBLE_EQ(c["parent_over_student"].get<double>(), 4.0);
  EXPECT_TRUE(c["llama_cpp_agrees"].get<bool>());
  EXPECT_TRUE(c["pruned_decodes_faster"].get<bool>());
  EXPECT_TRUE(c["within_15_minutes"].get<bool>());
  EXPECT_EQ(c["gate_verdict"], "go");
  EXPECT_TRUE(c["a_beats_b"].get<bool>());
  EXPECT_NE(c["a_vs_b"].get<std::string>().find("A (inherited weights) beats B (fresh init) at equal tokens: eval "
                                                "loss 2.0000 vs 2.4000 (0.4000 lower); B needs more than 2x"),
            std::string::npos)
      << c["a_vs_b"];
  std::string failed;
  EXPECT_TRUE(pipeline::demo_checks_hold(c, &failed));
  EXPECT_EQ(failed, "");
}

TEST(Demo, ChecksThatFailAreNamedAndALosingArmAIsExplained) {
  Json r = report(3.9e6, 1e6, 0.9, 2.5, 2.4);
  r["minutes"] = 15.5;
  r["export"]["pruned"]["files"][0]["llama_cpp_ok"] = false;
  const Json c = pipeline::demo_checks(r);
  std::string failed;
  EXPECT_FALSE(pipeline::demo_checks_hold(c, &failed));
  EXPECT_EQ(failed, "parent_at_least_4x, llama_cpp_agrees, pruned_decodes_faster, within_15_minutes");
  EXPECT_FALSE(c["a_beats_b"].get<bool>());
  EXPECT_EQ(c["a_vs_b"].get<std::string>().rfind("A does not beat B at equal tokens: eval loss 2.5000 vs 2.4000.", 0),
            0u)
      << c["a_vs_b"];
  // A finding is not a check: a losing A is reported, not failed.
  EXPECT_EQ(failed.find("a_beats_b"), std::string::npos);
  EXPECT_EQ(pipeline::demo_checks(Json::object())["a_vs_b"], "the lottery arms did not run");
}

}  // namespace
}  // namespace bespoke
