// Calibration data for importance and one-shot pruning: tokenized examples packed end to end
// into full rows, so no position is padding and every token counts once.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "bespoke/text/encoder.h"

namespace bespoke::prune {

struct CalibrationOptions {
  int64_t samples = 0;  // rows of seq_len tokens; 0: as many as the examples fill
  int64_t seq_len = 512;
  int64_t batch = 8;  // rows per batch; the last batch may hold fewer
};

// [B, seq_len] int64 batches on the CPU. Throws Error(kInput) naming `source` when the examples
// hold fewer than seq_len tokens.
std::vector<torch::Tensor> calibration_batches(const std::vector<text::Example>& examples,
                                               const CalibrationOptions& options, const std::string& source);

// Mean next-token cross-entropy of `logits` [B, T, V] against the ids [B, T] shifted by one.
double next_token_loss(const torch::Tensor& logits, const torch::Tensor& ids);

}  // namespace bespoke::prune
