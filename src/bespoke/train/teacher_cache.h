// A teacher's top-K next-token log-probabilities, computed once and read back while training,
// so a teacher too large to sit beside the student on the device still guides it.
// File (safetensors): "ids" int32 [examples, seq_len, K] and "logprobs" float32 [examples,
// seq_len, K], row i for example i of the data file after split_documents(..., seq_len),
// position t for the token after t. Its metadata says what it was made from: the examples'
// tokens_hash (data.h) and the teacher's vocabulary size.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "bespoke/io/safetensors.h"
#include "bespoke/train/data.h"

namespace bespoke::train {

// Runs `teacher_dir` over every example of `data` (tokenized by the teacher's tokenizer) and
// writes the top `k` log-probabilities at each of the first `seq_len` positions.
void write_teacher_topk(const std::string& teacher_dir, const std::string& data, const std::string& out,
                        int64_t seq_len, int64_t k, int64_t batch = 8, const std::string& device = "cpu",
                        const std::string& chat_template = "");

class TeacherTopK {
 public:
  explicit TeacherTopK(const std::string& path);
  int64_t examples() const { return examples_; }
  int64_t seq_len() const { return seq_len_; }
  // Throws Error(kInput) unless the file was made from examples with this tokens_hash (data.h)
  // by a teacher with this vocabulary size (files that do not say are taken on trust).
  void check_made_from(const std::string& examples_hash, int64_t vocab) const;
  // The rows of these examples: ids [rows, seq_len, K] int64 and logprobs [rows, seq_len, K].
  std::pair<torch::Tensor, torch::Tensor> rows(const std::vector<int64_t>& examples) const;

 private:
  std::unique_ptr<io::SafetensorsFile> file_;
  int64_t examples_ = 0, seq_len_ = 0;
};

}  // namespace bespoke::train
