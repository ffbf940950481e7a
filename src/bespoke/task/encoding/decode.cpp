#include "bespoke/task/encoding/decode.h"

#include <algorithm>
#include <array>

#include "bespoke/core/error.h"
#include "bespoke/model/generate.h"
#include "bespoke/task/encoding/grammar.h"

namespace bespoke::task::encoding {
namespace {

bool accepts(RecordGrammar& record, const std::string& bytes) {
  for (unsigned char b : bytes)
    if (!record.advance(b)) return false;
  return true;
}

// The highest-scoring token (the first of equals, as argmax) whose bytes continue `record`
// and leave a completion that fits in `budget` more tokens; -1 if there is none.
int32_t best_allowed(const torch::Tensor& logits, const std::vector<std::string>& bytes, const RecordGrammar& record,
                     int64_t budget) {
  std::array<bool, 256> first{};  // the bytes the record may go on with
  for (int b = 0; b < 256; ++b) first[b] = RecordGrammar(record).advance(static_cast<unsigned char>(b));
  const float* score = logits.data_ptr<float>();
  int32_t best = -1;
  for (int32_t id = 0; id < static_cast<int32_t>(bytes.size()); ++id) {
    // Running the grammar is what costs: only for a token that would beat the best so far.
    if (bytes[id].empty() || !first[static_cast<unsigned char>(bytes[id][0])] ||
        (best >= 0 && !(score[id] > score[best])))
      continue;
    RecordGrammar next = record;
    if (accepts(next, bytes[id]) && static_cast<int64_t>(next.completion_length()) <= budget) best = id;
  }
  return best;
}

}  // namespace

std::string generate_text(model::Transformer& model, const text::Tokenizer& tokenizer,
                          const std::vector<int32_t>& prompt, const std::vector<int32_t>& stop_ids,
                          const DecodeOptions& options) {
  if (prompt.empty()) fail(ErrorKind::kUsage, "generation needs a prompt of at least one token");
  RecordGrammar record;
  std::vector<std::string> bytes;  // per token id; empty for those that may not appear in a record
  if (options.constrained) {
    const size_t shortest = record.completion_length();
    if (options.max_new_tokens < static_cast<int64_t>(shortest))
      fail(ErrorKind::kInput, "max_new_tokens " + std::to_string(options.max_new_tokens) + " is below the " +
                                  std::to_string(shortest) + " tokens the shortest record may take");
    bytes.resize(std::min<int64_t>(tokenizer.vocab_size(), model->spec().input_vocab_size()));
    for (size_t id = 0; id < bytes.size(); ++id) bytes[id] = tokenizer.token_bytes(static_cast<int32_t>(id));
    for (int32_t id : stop_ids)
      if (id >= 0 && id < static_cast<int32_t>(bytes.size())) bytes[id].clear();
  }

  torch::NoGradGuard no_grad;
  const torch::Device device = model->parameters().front().device();
  model::Stepper stepper(
      model, torch::tensor(std::vector<int64_t>(prompt.begin(), prompt.end()), torch::kLong).unsqueeze(0).to(device));
  std::vector<int32_t> out;
  for (int64_t step = 0; step < options.max_new_tokens && !(options.constrained && record.done()); ++step) {
    const torch::Tensor logits = stepper.next_logits()[0];  // [V]
    int32_t next;
    if (options.constrained) {
      next = best_allowed(logits.to(torch::kCPU, torch::kFloat32).contiguous(), bytes, record,
                          options.max_new_tokens - step - 1);
      if (next < 0)
        fail(ErrorKind::kUnsupported, "no token of the vocabulary continues the record (it lacks single-byte tokens)");
      accepts(record, bytes[next]);
    } else {
      next = static_cast<int32_t>(logits.argmax().item<int64_t>());
      if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) break;
    }
    out.push_back(next);
    stepper.append(
        torch::full({1, 1}, static_cast<int64_t>(next), torch::TensorOptions().dtype(torch::kLong).device(device)));
  }
  return tokenizer.decode(out);
}

}  // namespace bespoke::task::encoding
