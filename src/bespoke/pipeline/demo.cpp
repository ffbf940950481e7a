#include "bespoke/pipeline/demo.h"

#include <cstdio>

#include "bespoke/pipeline/json_fields.h"

namespace bespoke::pipeline {
namespace {

// Why A did or did not beat B, from the numbers: a fresh init that matches inherited weights at
// equal tokens says the cut kept little the short recovery could use.
std::string arms_in_words(const Json& lottery) {
  const std::optional<double> a = number(field(field(field(lottery, "arms"), "A"), "final_eval_loss"));
  const std::optional<double> b = number(field(field(field(lottery, "arms"), "B"), "final_eval_loss"));
  if (!a || !b) return "the lottery arms did not run";
  char line[512];
  const std::string mult = field(field(lottery, "token_multiplier"), "text").is_string()
                               ? field(field(lottery, "token_multiplier"), "text").get<std::string>()
                               : std::string("?");
  if (*a < *b)
    std::snprintf(line, sizeof line,
                  "A (inherited weights) beats B (fresh init) at equal tokens: eval loss %.4f vs %.4f (%.4f lower); "
                  "B needs %s A's tokens to get there",
                  *a, *b, *b - *a, mult.c_str());
  else
    std::snprintf(line, sizeof line,
                  "A does not beat B at equal tokens: eval loss %.4f vs %.4f. The cut's inherited weights gave the "
                  "student nothing a fresh init does not learn within these tokens: the parent is small and briefly "
                  "pretrained, so what it knows is close to what the student relearns from the same distillation",
                  *a, *b);
  return line;
}

}  // namespace

Json demo_checks(const Json& r) {
  const Json& rows = field(field(field(r, "prune"), "quality"), "rows");
  const std::optional<double> parent = rows.is_array() && !rows.empty() ? number(field(rows.front(), "params")) : std::nullopt;
  const std::optional<double> student = rows.is_array() && !rows.empty() ? number(field(rows.back(), "params")) : std::nullopt;
  const Json& exp = field(r, "export");
  bool agrees = exp.is_object(), faster = exp.is_object();
  for (const char* which : {"base", "pruned"}) {
    const Json& files = field(field(exp, which), "files");
    if (!files.is_array()) agrees = false;
    else
      for (const Json& f : files) agrees = agrees && field(f, "llama_cpp_ok") == true;
  }
  const Json& speedup = field(exp, "speedup");
  faster = faster && speedup.is_object() && !speedup.empty();
  if (speedup.is_object())
    for (const auto& [type, v] : speedup.items()) faster = faster && number(v) && *number(v) > 1;
  const std::optional<double> minutes = number(field(r, "minutes"));
  const Json& lottery = field(r, "lottery");
  return {{"parent_at_least_4x", parent && student && *parent >= 4 * *student},
          {"parent_over_student", parent && student ? Json(*parent / *student) : Json()},
          {"llama_cpp_agrees", agrees},
          {"pruned_decodes_faster", faster},
          {"within_15_minutes", minutes && *minutes <= 15},
          {"gate_verdict", field(field(r, "gate"), "verdict")},
          {"a_beats_b", field(lottery, "a_beats_b")},
          {"a_minus_b", field(lottery, "a_minus_b")},
          {"token_multiplier", field(field(lottery, "token_multiplier"), "text")},
          {"a_vs_b", arms_in_words(lottery)}};
}

bool demo_checks_hold(const Json& checks, std::string* failed) {
  bool all = true;
  for (const char* key : {"parent_at_least_4x", "llama_cpp_agrees", "pruned_decodes_faster", "within_15_minutes"}) {
    if (field(checks, key) == true) continue;
    all = false;
    if (failed) *failed += (failed->empty() ? "" : ", ") + std::string(key);
  }
  return all;
}

}  // namespace bespoke::pipeline
