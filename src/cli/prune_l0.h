// `bespoke prune --method l0`: the flags of mask learning on the prune command (the training
// engine's, train_flags.h, and the masks' own), and the run that learns, binarises, folds and
// writes the cut.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "bespoke/pipeline/l0.h"
#include "bespoke/pipeline/progressive.h"
#include "train_flags.h"

namespace bespoke::cli {

struct L0Flags {
  TrainFlags train;
  pipeline::L0Options l0;
  std::string run_dir;                // default: OUT-run
  std::vector<CLI::Option*> options;  // every flag registered here, to refuse them for other methods
};

// The engine's flags named in `except` are left to the command, which fills them in.
void add_l0_flags(CLI::App* cmd, L0Flags& flags, const std::vector<std::string>& except);

// Throws Error(kUsage) naming a mask-learning flag given to another method.
void refuse_l0_flags(const L0Flags& flags, const std::string& method);

// Learns masks on `model` at `target` from the rows of `data` (its --seq-len and --batch), then
// writes the cut model to `out`. SIGINT/SIGTERM: the step in flight finishes, a checkpoint is
// written, exit 130 (rerun with --resume).
void run_l0(L0Flags& flags, const std::string& model, const prune::Target& target, const std::string& data,
            int64_t seq_len, int64_t batch, uint64_t seed, const std::string& out);

// Mask learning as a progressive run's cut: each round learns masks on its input model and the
// round's data, at the round's shape (a budget is refused: masks learn at a shape), into
// OUT/round-K/l0/.
pipeline::RoundPrune l0_round(const L0Flags& flags, int64_t seq_len, int64_t batch, uint64_t seed);

}  // namespace bespoke::cli
