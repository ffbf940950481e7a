// Decoding for the server: a prompt continued through the KV cache, greedily or sampled
// (temperature, top-k, top-p, seed), optionally held to a grammar, until a stop token, a stop
// string, a whole document under the grammar, or the token budget. Text is handed on as it
// becomes final: whole UTF-8 characters, and nothing that could still turn into a stop string.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bespoke/model/load.h"
#include "bespoke/model/transformer.h"
#include "bespoke/serve/request.h"
#include "bespoke/text/encoder.h"

namespace bespoke::serve {

// What constrained decoding asks of a grammar.
class Constraint {
 public:
  virtual ~Constraint() = default;
  // Takes every byte of `bytes` and returns true, or takes none and returns false. `room`: the
  // tokens that may follow; a grammar that knows its shortest completion refuses bytes after
  // which the document could no longer be finished within it (a token writes a byte at least).
  virtual bool take(const std::string& bytes, int64_t room) = 0;
  // A whole document has been read: decoding ends here.
  virtual bool complete() const = 0;
};

// The grammar a request's response_format asks for, or null for text. mnemonic's encoding
// schema is held to the record's own grammar (task/encoding/grammar.h), which also fixes the
// layout the model was trained on; any other schema is compiled (text/json_schema_grammar.h).
// Throws ApiError(400) naming the keyword for a schema outside the supported subset.
std::unique_ptr<Constraint> constraint_for(const ResponseFormat& format);

// A model as the server holds it.
struct ServedModel {
  std::string name;  // the id /v1/models lists
  model::Transformer net{nullptr};
  std::unique_ptr<text::Encoder> encoder;
  std::vector<int32_t> stop_ids;  // EOS and the token that closes an assistant turn
  int64_t context = 0;            // tokens of prompt and completion together
};

// Throws Error naming the problem: no tokenizer, a context above the model's positions.
ServedModel load_served_model(const std::string& path, const model::LoadOptions& load, int64_t context);

struct Generation {
  std::string text;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::string finish_reason;  // stop | length
  bool cancelled = false;     // on_text returned false, or `cancel` was set
};

// One answer being decoded: each step takes the logits of the next token and chooses it
// (sampling, the grammar), hands on the text that became final, and says whether to go on.
// Decoding itself (the model, its cache, a batch) is the caller's.
class Sequence {
 public:
  Sequence(ServedModel& m, const std::vector<int32_t>& prompt, const Sampling& sampling, Constraint* constraint,
           std::function<bool(const std::string&)> on_text);
  // `logits` [V]: returns the chosen token to feed next, or -1 once the answer has ended (a stop
  // token or string, a whole document, the budget, or on_text refusing: a client gone).
  int64_t step(const torch::Tensor& logits);
  void cancel();         // ends it as cancelled
  Generation finish();   // hands on what a length stop held back; the whole result
  torch::Tensor prompt_tensor(const torch::Device& device) const;  // [1, T] int64
  const std::vector<int32_t>& prompt() const { return prompt_; }
  int64_t reach() const { return static_cast<int64_t>(prompt_.size()) + budget_; }  // the most positions it takes

 private:
  ServedModel& m_;
  Sampling sampling_;
  Constraint* constraint_;
  std::function<bool(const std::string&)> on_text_;
  std::mt19937_64 rng_;
  int32_t vocab_;
  std::vector<int32_t> prompt_;
  int64_t budget_ = 0;
  std::string text_;  // everything generated
  size_t sent_ = 0;   // of it, handed on
  Generation g_;
};

// Continues `prompt` alone, through the Stepper (which also handles longrope's switch). `on_text` gets each final piece (it may return false to cancel: a client
// gone). The budget is sampling.max_tokens, or what the context leaves.
Generation generate(ServedModel& m, const std::vector<int32_t>& prompt, const Sampling& sampling,
                    Constraint* constraint, const std::function<bool(const std::string&)>& on_text,
                    const std::atomic<bool>& cancel);

// The mean of the last hidden state (after the final norm) over the text's tokens, L2-normalised.
std::vector<float> embed(ServedModel& m, const std::string& text, int64_t* tokens);

}  // namespace bespoke::serve
