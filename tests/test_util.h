// Helpers shared by the tests: fixture paths, scratch directories, running the CLI.
#pragma once

#include <torch/torch.h>

#include "bespoke/model/transformer.h"

#include <random>
#include <string>

namespace bespoke::test {

// The copied transformers fixture directory of `family` (tests/fixtures/hf/<family>).
std::string fixture_dir(const std::string& family);

// A fresh empty directory under the system temp dir, unique per call.
std::string scratch_dir(const std::string& tag);

// Largest absolute elementwise difference.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `command` through the shell; stdout and stderr are captured.
CommandResult run_command(const std::string& command);

// Runs the built `bespoke` binary with `args` (shell-quoted by the caller).
CommandResult run_bespoke(const std::string& args);

// A model of `spec` with `from`'s weights, each cut to the new shape (its leading rows and
// columns): a pruned cut when `spec` is smaller, the same model computed differently when only
// the arithmetic changes.
model::Transformer with_spec(model::Transformer& from, const model::ModelSpec& spec);

// The fixture of `family` cut as pruning leaves it: layer i keeps its first heads[i] query
// heads, kv_heads[i] kv heads and ffn[i] FFN units.
model::Transformer cut_fixture(const std::string& family, const std::vector<int64_t>& heads,
                               const std::vector<int64_t>& kv_heads, const std::vector<int64_t>& ffn);

// Random text of up to `max_chars` code points from ASCII, Latin, Greek, CJK, emoji, combining
// marks and Unicode spaces; `newlines` allows line breaks.
std::string random_text(std::mt19937& rng, size_t max_chars, bool newlines = true);

}  // namespace bespoke::test
