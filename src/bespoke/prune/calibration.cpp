#include "bespoke/prune/calibration.h"

#include <algorithm>

#include "bespoke/core/error.h"

namespace bespoke::prune {

std::vector<torch::Tensor> calibration_batches(const std::vector<text::Example>& examples, const CalibrationOptions& o,
                                               const std::string& source) {
  if (o.seq_len < 2 || o.batch < 1)
    fail(ErrorKind::kInput, "calibration needs --seq-len of at least 2 and --batch of at least 1");
  if (o.samples < 0) fail(ErrorKind::kInput, "--samples must be 0 (all the data fills) or more");
  std::vector<int64_t> stream;
  for (const text::Example& e : examples) stream.insert(stream.end(), e.ids.begin(), e.ids.end());
  int64_t rows = int64_t(stream.size()) / o.seq_len;
  if (rows == 0)
    fail(ErrorKind::kInput,
         source + ": " + std::to_string(stream.size()) + " tokens, fewer than one row of " + std::to_string(o.seq_len));
  if (o.samples > 0) rows = std::min(rows, o.samples);
  const torch::Tensor all = torch::tensor(stream, torch::kInt64).narrow(0, 0, rows * o.seq_len).view({rows, o.seq_len});
  std::vector<torch::Tensor> out;
  for (int64_t r = 0; r < rows; r += o.batch) out.push_back(all.narrow(0, r, std::min(o.batch, rows - r)).clone());
  return out;
}

double next_token_loss(const torch::Tensor& logits, const torch::Tensor& ids) {
  const int64_t T = ids.size(1);
  const torch::Tensor pred = logits.narrow(1, 0, T - 1).reshape({-1, logits.size(-1)}).to(torch::kFloat32);
  return torch::nn::functional::cross_entropy(pred, ids.narrow(1, 1, T - 1).reshape({-1}).to(pred.device()))
      .item<double>();
}

}  // namespace bespoke::prune
