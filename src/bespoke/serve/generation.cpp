#include "bespoke/serve/generation.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "bespoke/core/error.h"
#include "bespoke/model/generate.h"
#include "bespoke/task/encoding/grammar.h"
#include "bespoke/task/encoding/record.h"
#include "bespoke/task/encoding/respond.h"
#include "bespoke/text/json_schema_grammar.h"

namespace bespoke::serve {
namespace {

namespace enc = task::encoding;

class RecordConstraint : public Constraint {
 public:
  bool take(const std::string& bytes, int64_t room) override {
    enc::RecordGrammar next = grammar_;
    for (unsigned char b : bytes)
      if (!next.advance(b)) return false;
    if (static_cast<int64_t>(next.completion_length()) > room) return false;
    grammar_ = next;
    return true;
  }
  bool complete() const override { return grammar_.done(); }

 private:
  enc::RecordGrammar grammar_;
};

class SchemaConstraint : public Constraint {
 public:
  explicit SchemaConstraint(text::JsonSchemaGrammar grammar) : grammar_(std::move(grammar)), state_(grammar_.start()) {}
  bool take(const std::string& bytes, int64_t room) override {
    text::JsonSchemaGrammar::State next = state_;
    if (!grammar_.accept(next, bytes)) return false;
    if (room < 0 || grammar_.completion_length(next, static_cast<size_t>(room)) > static_cast<size_t>(room)) return false;
    state_ = std::move(next);
    return true;
  }
  bool complete() const override { return grammar_.complete(state_); }

 private:
  text::JsonSchemaGrammar grammar_;
  text::JsonSchemaGrammar::State state_;
};

// The length of the longest prefix of `s` that ends on a whole UTF-8 character.
size_t whole_characters(const std::string& s) {
  size_t end = s.size(), back = 0;
  while (back < 4 && back < end && (static_cast<unsigned char>(s[end - 1 - back]) & 0xC0) == 0x80) ++back;
  if (back == end) return end;
  const unsigned char lead = static_cast<unsigned char>(s[end - 1 - back]);
  const size_t need = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
  return back + 1 >= need ? end : end - back - 1;
}

// How much of `text`'s end could still grow into one of the stop strings.
size_t held_for_stops(const std::string& text, const std::vector<std::string>& stops) {
  size_t held = 0;
  for (const std::string& stop : stops)
    for (size_t n = std::min(stop.size() - 1, text.size()); n > held; --n)
      if (text.compare(text.size() - n, n, stop, 0, n) == 0) {
        held = n;
        break;
      }
  return held;
}

// The step's first choice: the argmax for greedy decoding, else a draw from the tempered, top-k
// and top-p filtered distribution.
int64_t first_choice(const torch::Tensor& logits, const Sampling& s, std::mt19937_64& rng) {
  if (s.temperature <= 0) return logits.argmax().item<int64_t>();
  const int64_t k = s.top_k > 0 ? std::min<int64_t>(s.top_k, logits.numel()) : logits.numel();
  const auto [values, ids] = logits.topk(k);  // descending
  const torch::Tensor p = torch::softmax(values.to(torch::kDouble) / s.temperature, 0).contiguous();
  const double* probs = p.data_ptr<double>();
  int64_t keep = 0;
  for (double mass = 0; keep < k && mass < s.top_p;) mass += probs[keep++];
  std::discrete_distribution<int64_t> pick(probs, probs + std::max<int64_t>(keep, 1));
  return ids[pick(rng)].item<int64_t>();
}

}  // namespace

std::unique_ptr<Constraint> constraint_for(const ResponseFormat& format) {
  if (format.kind == Format::kText) return nullptr;
  if (format.kind == Format::kJsonObject)
    return std::make_unique<SchemaConstraint>(text::JsonSchemaGrammar::any_object());
  if (nlohmann::json(format.schema) == nlohmann::json(enc::json_schema())) return std::make_unique<RecordConstraint>();
  try {
    return std::make_unique<SchemaConstraint>(text::JsonSchemaGrammar::compile(format.schema));
  } catch (const Error& e) {
    throw ApiError(400, std::string("response_format.json_schema: ") + e.what(), "response_format");
  }
}

ServedModel load_served_model(const std::string& path, const model::LoadOptions& load, int64_t context) {
  ServedModel m;
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  m.name = std::filesystem::path(trimmed).filename().string();
  m.net = model::load_model(path, load);
  m.net->eval();
  m.encoder = std::make_unique<text::Encoder>(path);
  if (!m.encoder->tokenizer) fail(ErrorKind::kInput, path + ": no tokenizer to serve with");
  m.stop_ids = enc::turn_stop_ids(*m.encoder);
  const int64_t positions = m.net->spec().max_position;
  if (context > positions && positions > 0)
    fail(ErrorKind::kInput, "--ctx " + std::to_string(context) + " is above the model's " + std::to_string(positions) +
                                " positions");
  m.context = context > 0 ? context : positions;
  return m;
}

Sequence::Sequence(ServedModel& m, const std::vector<int32_t>& prompt, const Sampling& s, Constraint* constraint,
                   std::function<bool(const std::string&)> on_text)
    : m_(m),
      sampling_(s),
      constraint_(constraint),
      on_text_(std::move(on_text)),
      rng_(s.seed ? *s.seed : std::random_device{}()),
      vocab_(std::min<int32_t>(m.encoder->tokenizer->vocab_size(), static_cast<int32_t>(m.net->spec().input_vocab_size()))),
      prompt_(prompt) {
  g_.prompt_tokens = static_cast<int64_t>(prompt.size());
  g_.finish_reason = "length";
  budget_ = s.max_tokens > 0 ? s.max_tokens : m.context - g_.prompt_tokens;
}

int64_t Sequence::step(const torch::Tensor& next_logits) {
  if (g_.completion_tokens >= budget_) return -1;
  const torch::Tensor logits = next_logits.slice(0, 0, vocab_).to(torch::kFloat32).cpu();
  const text::Tokenizer& tok = *m_.encoder->tokenizer;
  const auto is_stop = [&](int64_t id) { return std::find(m_.stop_ids.begin(), m_.stop_ids.end(), id) != m_.stop_ids.end(); };
  // A token ends the answer, adds its bytes, or is refused (by the grammar, or as no text).
  enum class Take { kStop, kText, kRefused };
  const auto take = [&](int64_t id) {
    if (is_stop(id)) return !constraint_ || constraint_->complete() ? Take::kStop : Take::kRefused;
    const std::string bytes = tok.token_bytes(static_cast<int32_t>(id));
    if (bytes.empty() || (constraint_ && !constraint_->take(bytes, budget_ - g_.completion_tokens - 1)))
      return Take::kRefused;
    text_ += bytes;
    return Take::kText;
  };
  const int64_t first = first_choice(logits, sampling_, rng_);
  int64_t chosen = first;
  Take took = take(first);
  if (took == Take::kRefused) {
    // Only now the whole order: the likeliest token the grammar takes.
    const torch::Tensor order = std::get<1>(logits.sort(/*dim=*/0, /*descending=*/true)).contiguous();
    const int64_t* ids = order.data_ptr<int64_t>();
    for (int64_t i = 0; i < order.numel() && took == Take::kRefused; ++i)
      if (ids[i] != first) chosen = ids[i], took = take(chosen);
  }
  if (took != Take::kText) {
    g_.finish_reason = "stop";
    return -1;
  }
  ++g_.completion_tokens;
  bool stopped = constraint_ && constraint_->complete();
  for (const std::string& stop : sampling_.stop)
    if (const size_t at = text_.find(stop, sent_ > stop.size() ? sent_ - stop.size() : 0); at != std::string::npos) {
      text_.resize(at);
      stopped = true;
    }
  const size_t ready =
      stopped ? text_.size() : whole_characters(text_.substr(0, text_.size() - held_for_stops(text_, sampling_.stop)));
  if (ready > sent_) {
    if (!on_text_(text_.substr(sent_, ready - sent_))) {
      g_.cancelled = true;
      return -1;
    }
    sent_ = ready;
  }
  if (stopped) {
    g_.finish_reason = "stop";
    return -1;
  }
  return chosen;
}

void Sequence::cancel() {
  g_.cancelled = true;
}

Generation Sequence::finish() {
  if (!g_.cancelled && sent_ < text_.size()) on_text_(text_.substr(sent_));  // what a length stop left held
  g_.text = text_;
  return g_;
}

Generation generate(ServedModel& m, const std::vector<int32_t>& prompt, const Sampling& s, Constraint* constraint,
                    const std::function<bool(const std::string&)>& on_text, const std::atomic<bool>& cancel) {
  torch::NoGradGuard no_grad;
  Sequence seq(m, prompt, s, constraint, on_text);
  const torch::Device device = m.net->parameters().front().device();
  model::Stepper stepper(m.net, seq.prompt_tensor(device));
  while (true) {
    if (cancel) {
      seq.cancel();
      break;
    }
    const int64_t next = seq.step(stepper.next_logits()[0]);
    if (next < 0) break;
    stepper.append(torch::tensor({{next}}, torch::kLong).to(device));
  }
  return seq.finish();
}

torch::Tensor Sequence::prompt_tensor(const torch::Device& device) const {
  return torch::tensor(std::vector<int64_t>(prompt_.begin(), prompt_.end()), torch::kLong).unsqueeze(0).to(device);
}

std::vector<float> embed(ServedModel& m, const std::string& text, int64_t* tokens) {
  torch::NoGradGuard no_grad;
  const std::vector<int32_t> ids = m.encoder->tokenizer->encode(text, true);
  if (static_cast<int64_t>(ids.size()) > m.context)
    throw ApiError(400, "the input is " + std::to_string(ids.size()) + " tokens, above the context of " +
                            std::to_string(m.context), "input", "context_length_exceeded");
  *tokens += static_cast<int64_t>(ids.size());
  const torch::Device device = m.net->parameters().front().device();
  const torch::Tensor h = m.net->features(
      torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kLong).unsqueeze(0).to(device));
  const torch::Tensor v = torch::nn::functional::normalize(h[0].to(torch::kFloat32).mean(0), 
                                                           torch::nn::functional::NormalizeFuncOptions().dim(0))
                              .cpu()
                              .contiguous();
  return {v.data_ptr<float>(), v.data_ptr<float>() + v.numel()};
}

}  // namespace bespoke::serve
