// The training engine's flags, shared by `train` and by the mask learning of `prune --method
// l0`: everything but the model, data, output, steps, sequence length, batch and seed, which
// each command names in its own terms.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "bespoke/train/trainer.h"

namespace bespoke::cli {

struct TrainFlags {
  train::TrainConfig cfg;
  std::string dtype = "f32", domains;
  std::vector<std::string> lr_groups;
};

// Registers the flags on `cmd`, writing into `flags` (which must outlive the parse), but those
// named in `except`, which the command has of its own.
void add_engine_flags(CLI::App* cmd, TrainFlags& flags, const std::vector<std::string>& except = {});

// --dtype, --lr-group and --domains into cfg. Throws Error(kUsage) naming a malformed one.
void finish_engine_flags(TrainFlags& flags);

}  // namespace bespoke::cli
