// Glue shared by subcommands: device/dtype options and token-id input.
#pragma once

#include <torch/torch.h>
#include <CLI/CLI.hpp>
#include <string>

#include "bespoke/model/load.h"

namespace bespoke::cli {

struct RunOptions {
  std::string device = "cpu";
  std::string dtype = "f32";
};

// Adds --device and --dtype to `cmd`.
void add_run_options(CLI::App* cmd, RunOptions& options);
model::LoadOptions load_options(const RunOptions& options);

// Reads the int64 tensor `name` ([B, T] or [T]) from a safetensors file as [B, T] and checks
// every id is below `vocab_size`.
torch::Tensor read_ids(const std::string& path, const std::string& name, int64_t vocab_size);

}  // namespace bespoke::cli
