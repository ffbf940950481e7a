#include "bespoke/train/teacher_cache.h"

#include <filesystem>

#include "bespoke/core/error.h"
#include "bespoke/model/load.h"

namespace bespoke::train {

constexpr int64_t kPositionsPerChunk = 1024;

void write_teacher_topk(const std::string& teacher_dir, const std::string& data, const std::string& out,
                        int64_t seq_len, int64_t k, int64_t batch, const std::string& device,
                        const std::string& chat_template) {
  if (seq_len < 2) fail(ErrorKind::kUsage, "--seq-len must be at least 2");
  if (batch < 1) fail(ErrorKind::kUsage, "--batch must be positive");
  std::error_code ec;
  if (std::filesystem::equivalent(data, out, ec))
    fail(ErrorKind::kUsage, out + " is the data file: choose another --out");
  const text::Encoder encoder(teacher_dir, chat_template);
  const std::vector<text::Example> examples = split_documents(read_examples(data, encoder), seq_len);
  model::Transformer teacher = model::load_model(teacher_dir, {torch::kFloat32, torch::Device(device)});
  if (k < 1 || k > teacher->spec().vocab_size) fail(ErrorKind::kUsage, "--top-k must be in [1, vocabulary size]");
  check_token_ids(examples, teacher->spec().vocab_size, data);
  const int64_t n = examples.size();
  const std::vector<io::TensorLayout> layout = {{"ids", torch::kInt32, {n, seq_len, k}},
                                                {"logprobs", torch::kFloat32, {n, seq_len, k}}};
  torch::NoGradGuard no_grad;
  // A batch of rows at a time to the file, and within it a chunk of positions at a time through
  // the head: neither the file's contents nor [positions, vocabulary] in fp32 is ever whole.
  // What the file was made from, for train to compare with what it reads.
  const std::map<std::string, std::string> made_from = {{"format", "bespoke-teacher-topk"},
                                                        {"tokens_hash", tokens_hash(examples)},
                                                        {"vocab", std::to_string(teacher->spec().vocab_size)}};
  io::write_safetensors_by_rows(out, layout, made_from, [&](const io::RowWriter& write) {
    for (int64_t first = 0; first < n; first += batch) {
      std::vector<int64_t> rows;
      for (int64_t i = first; i < std::min(n, first + batch); ++i) rows.push_back(i);
      const Batch b = make_batch(examples, rows, seq_len);
      const int64_t length = b.ids.size(1);
      const torch::Tensor h = teacher->features(b.ids.to(teacher->parameters().front().device())).flatten(0, 1);
      torch::Tensor ids = torch::empty({h.size(0), k}, torch::kInt32), logprobs = torch::empty({h.size(0), k});
      for (int64_t p = 0; p < h.size(0); p += kPositionsPerChunk) {
        const int64_t m = std::min(kPositionsPerChunk, h.size(0) - p);
        const auto [values, indices] =
            torch::log_softmax(teacher->head(h.narrow(0, p, m)).to(torch::kFloat32), -1).topk(k, -1);
        logprobs.narrow(0, p, m).copy_(values.cpu());
        ids.narrow(0, p, m).copy_(indices.cpu().to(torch::kInt32));
      }
      // Rows are --seq-len long in the file; positions past the batch's longest row are zeros.
      const auto padded = [&](const torch::Tensor& t) {
        return torch::constant_pad_nd(t.view({int64_t(rows.size()), length, k}), {0, 0, 0, seq_len - length});
      };
      write("ids", first, padded(ids));
      write("logprobs", first, padded(logprobs));
    }
  });
}

TeacherTopK::TeacherTopK(const std::string& path) : file_(std::make_unique<io::SafetensorsFile>(path)) {
  const auto& e = file_->entries();
  if (!e.count("ids") || !e.count("logprobs") || e.at("ids").shape.size() != 3 ||
      e.at("ids").shape != e.at("logprobs").shape)
    fail(ErrorKind::kInput, path + ": not a teacher top-K file (ids and logprobs [examples, seq_len, K])");
  examples_ = e.at("ids").shape[0];
  seq_len_ = e.at("ids").shape[1];
}

void TeacherTopK::check_made_from(const std::string& examples_hash, int64_t vocab) const {
  const auto& meta = file_->metadata();
  const std::string& path = file_->path();
  if (meta.count("vocab") && meta.at("vocab") != std::to_string(vocab))
    fail(ErrorKind::kInput, path + ": made by a teacher with a vocabulary of " + meta.at("vocab") +
                                " tokens, not the student's " + std::to_string(vocab));
  if (meta.count("tokens_hash") && meta.at("tokens_hash") != examples_hash)
    fail(ErrorKind::kInput,
         path +
             ": made from other tokens than this data gives (other records, or a teacher with another "
             "tokenizer or chat template): make it again with `bespoke teacher-logits`");
}

std::pair<torch::Tensor, torch::Tensor> TeacherTopK::rows(const std::vector<int64_t>& examples) const {
  std::vector<torch::Tensor> ids, logprobs;
  for (int64_t i : examples)
    ids.push_back(file_->row("ids", i).to(torch::kInt64)), logprobs.push_back(file_->row("logprobs", i));
  return {torch::stack(ids), torch::stack(logprobs)};
}

}  // namespace bespoke::train
