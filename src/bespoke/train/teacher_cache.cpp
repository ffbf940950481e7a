#include "bespoke/train/teacher_cache.h"

#include "bespoke/core/error.h"
#include "bespoke/model/load.h"

namespace bespoke::train {

constexpr int64_t kPositionsPerChunk = 1024;

void write_teacher_topk(const std::string& teacher_dir, const std::string& data, const std::string& out, int64_t seq_len,
                        int64_t k, int64_t batch, const std::string& device) {
  const Encoder encoder(teacher_dir);
  const std::vector<Example> examples = split_documents(read_examples(data, encoder), seq_len);
  model::Transformer teacher = model::load_model(teacher_dir, {torch::kFloat32, torch::Device(device)});
  if (k < 1 || k > teacher->spec().vocab_size) fail(ErrorKind::kUsage, "--top-k must be in [1, vocabulary size]");
  const int64_t n = examples.size();
  torch::Tensor ids = torch::zeros({n, seq_len, k}, torch::kInt32), logprobs = torch::zeros({n, seq_len, k}, torch::kFloat32);
  torch::NoGradGuard no_grad;
  for (int64_t first = 0; first < n; first += batch) {
    std::vector<int64_t> rows;
    for (int64_t i = first; i < std::min(n, first + batch); ++i) rows.push_back(i);
    const Batch b = make_batch(examples, rows, seq_len);
    const int64_t length = b.ids.size(1);
    const torch::Tensor h = teacher->features(b.ids.to(teacher->parameters().front().device())).flatten(0, 1);
    torch::Tensor batch_ids = torch::empty({h.size(0), k}, torch::kInt32), batch_logprobs = torch::empty({h.size(0), k});
    // A chunk of positions at a time: [positions, vocabulary] in fp32 never exists whole.
    for (int64_t p = 0; p < h.size(0); p += kPositionsPerChunk) {
      const int64_t n = std::min(kPositionsPerChunk, h.size(0) - p);
      const auto [values, indices] = torch::log_softmax(teacher->head(h.narrow(0, p, n)).to(torch::kFloat32), -1).topk(k, -1);
      batch_logprobs.narrow(0, p, n).copy_(values.cpu());
      batch_ids.narrow(0, p, n).copy_(indices.cpu().to(torch::kInt32));
    }
    logprobs.narrow(0, first, rows.size()).narrow(1, 0, length).copy_(batch_logprobs.view({-1, length, k}));
    ids.narrow(0, first, rows.size()).narrow(1, 0, length).copy_(batch_ids.view({-1, length, k}));
  }
  io::write_safetensors(out, {{"ids", ids}, {"logprobs", logprobs}}, {{"format", "bespoke-teacher-topk"}});
}

TeacherTopK::TeacherTopK(const std::string& path) : file_(std::make_unique<io::SafetensorsFile>(path)) {
  const auto& e = file_->entries();
  if (!e.count("ids") || !e.count("logprobs") || e.at("ids").shape.size() != 3 || e.at("ids").shape != e.at("logprobs").shape)
    fail(ErrorKind::kInput, path + ": not a teacher top-K file (ids and logprobs [examples, seq_len, K])");
  examples_ = e.at("ids").shape[0];
  seq_len_ = e.at("ids").shape[1];
}

std::pair<torch::Tensor, torch::Tensor> TeacherTopK::rows(const std::vector<int64_t>& examples) const {
  std::vector<torch::Tensor> ids, logprobs;
  for (int64_t i : examples) ids.push_back(file_->row("ids", i).to(torch::kInt64)), logprobs.push_back(file_->row("logprobs", i));
  return {torch::stack(ids), torch::stack(logprobs)};
}

}  // namespace bespoke::train
