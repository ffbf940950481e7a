// `bespoke demo`: the plan in miniature (configs/demo.toml through run.h): a parent pretrained
// here on the encoding task and a general domain (Python's standard library source), fine-tuned,
// cut to a student at least 4x smaller, recovered by distillation, gated against the parent,
// checked against the lottery-ticket controls, and exported to GGUF for llama.cpp.
#pragma once

#include "bespoke/pipeline/stage.h"

namespace bespoke::pipeline {

// What the demo claims, on its report's own numbers: `parent_at_least_4x` (the parent's exact
// parameter count over the student's), `llama_cpp_agrees` (every exported file),
// `pruned_decodes_faster` (in llama.cpp, every type), `within_15_minutes`, and `gate_verdict`,
// `a_beats_b` (arm A's mean final eval loss below B's at equal tokens), `a_minus_b` and
// `token_multiplier` as measured, with `a_vs_b` saying in words what the arms showed and why.
Json demo_checks(const Json& report);

// The checks that must hold for `bespoke demo --check` (the measured findings aside).
bool demo_checks_hold(const Json& checks, std::string* failed);

}  // namespace bespoke::pipeline
