#include "bespoke/train/data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "bespoke/core/error.h"
#include "bespoke/core/fingerprint.h"

namespace bespoke::train {
namespace {

void append(Example& e, const std::vector<int32_t>& ids, bool trained) {
  e.ids.insert(e.ids.end(), ids.begin(), ids.end());
  e.trained.insert(e.trained.end(), ids.size(), trained ? 1 : 0);
}

std::string string_field(const nlohmann::json& record, const char* key) {
  if (!record[key].is_string()) fail(ErrorKind::kInput, std::string("\"") + key + "\" is not a string");
  return record[key].get<std::string>();
}

}  // namespace

Encoder::Encoder(const std::string& model_dir, const std::string& chat_template) {
  namespace fs = std::filesystem;
  if (!chat_template.empty()) format_ = text::chat_format_names().parse(chat_template);
  if (!fs::exists(fs::path(model_dir) / "tokenizer.json") && !fs::exists(fs::path(model_dir) / "tokenizer.model")) {
    no_format_ = model_dir + " has no tokenizer";
    return;
  }
  tokenizer = text::load_tokenizer(model_dir);
  options.bos_token = text::special_token(model_dir, "bos_token");
  options.eos_token = text::special_token(model_dir, "eos_token");
  options.date = "26 Jul 2024";  // what Llama's templates print when no clock is given
  eos_id = options.eos_token.empty() ? -1 : tokenizer->token_id(options.eos_token);
  if (format_) return;
  const std::string jinja = text::read_chat_template(model_dir);
  if (jinja.empty()) {
    no_format_ = model_dir + " has no chat template: chat records need one (or --chat-template NAME)";
    return;
  }
  try {
    format_ = text::detect_chat_format(jinja);
  } catch (const Error& e) {
    no_format_ = model_dir + ": " + e.what();
  }
}

text::ChatFormat Encoder::chat_format() const {
  if (!format_) fail(ErrorKind::kInput, no_format_);
  return *format_;
}

Example Encoder::encode(const nlohmann::json& record) const {
  if (!record.is_object()) fail(ErrorKind::kInput, "a record must be a JSON object");
  Example e;
  if (record.contains("domain")) e.domain = string_field(record, "domain");
  if (record.contains("ids")) {
    if (!record["ids"].is_array()) fail(ErrorKind::kInput, "\"ids\" is not an array");
    std::vector<int32_t> ids;
    for (const auto& id : record["ids"]) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > std::numeric_limits<int32_t>::max())
        fail(ErrorKind::kInput, "\"ids\" holds a value that is not a token id");
      ids.push_back(id.get<int32_t>());
    }
    append(e, ids, true);
    return e;
  }
  if (!tokenizer) fail(ErrorKind::kInput, "text records need a model directory with a tokenizer");
  if (record.contains("messages")) {
    const text::ChatFormat format = chat_format();
    std::vector<text::ChatMessage> messages;
    for (const auto& m : record["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") || !m["content"].is_string())
        fail(ErrorKind::kInput, "every message needs string \"role\" and \"content\"");
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    if (messages.empty() || messages.back().role != "assistant") fail(ErrorKind::kInput, "a chat record must end with an assistant message");
    // The prompt is everything before the last reply, ending in the assistant turn's opening;
    // the trained part is what the full conversation adds to it.
    text::ChatOptions prompt_options = options;
    prompt_options.add_generation_prompt = true;
    const std::vector<text::ChatMessage> prompt(messages.begin(), messages.end() - 1);
    const std::string before = text::render_chat(format, prompt, prompt_options);
    const std::string full = text::render_chat(format, messages, options);
    if (full.compare(0, before.size(), before) != 0)
      fail(ErrorKind::kInput, "the chat template renders the prompt differently inside the full conversation");
    append(e, tokenizer->encode(before, false), false);
    append(e, tokenizer->encode(full.substr(before.size()), false), true);
  } else if (record.contains("prompt") && record.contains("completion")) {
    append(e, tokenizer->encode(string_field(record, "prompt"), true), false);
    append(e, tokenizer->encode(string_field(record, "completion"), false), true);
    if (eos_id >= 0) append(e, {eos_id}, true);
  } else if (record.contains("text")) {
    append(e, tokenizer->encode(string_field(record, "text"), true), true);
  } else {
    fail(ErrorKind::kInput, "a record needs \"messages\", \"prompt\" and \"completion\", \"text\" or \"ids\"");
  }
  return e;
}

std::vector<Example> read_examples(const std::string& path, const Encoder& encoder) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kInput, path + ": cannot open");
  std::vector<Example> out;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const nlohmann::json record = nlohmann::json::parse(line);
      out.push_back(encoder.encode(record));
    } catch (const nlohmann::json::exception&) {
      fail(ErrorKind::kInput, path + ":" + std::to_string(n) + ": not valid JSON");
    } catch (const Error& e) {
      throw with_context(e, path + ":" + std::to_string(n));
    }
  }
  if (out.empty()) fail(ErrorKind::kInput, path + ": no records");
  return out;
}

std::string tokens_hash(const std::vector<Example>& examples) {
  Fingerprint f;
  for (const Example& e : examples) {
    for (const int32_t id : e.ids) f.add(uint32_t(id));
    for (const uint8_t t : e.trained) f.add(t);
    f.add(e.domain);
  }
  return f.hex();
}

std::vector<Example> split_documents(const std::vector<Example>& examples, int64_t window) {
  if (window < 1) fail(ErrorKind::kUsage, "--seq-len must be positive");
  std::vector<Example> out;
  for (const Example& e : examples) {
    const int64_t n = e.ids.size();
    const bool document = std::all_of(e.trained.begin(), e.trained.end(), [](uint8_t t) { return t != 0; });
    if (!document || n <= window + 1) {
      out.push_back(e);
      continue;
    }
    for (int64_t start = 0; start + 1 < n; start += window) {
      const int64_t end = std::min(start + window + 1, n);
      out.push_back({{e.ids.begin() + start, e.ids.begin() + end}, {e.trained.begin() + start, e.trained.begin() + end}, e.domain});
    }
  }
  return out;
}

Batch make_batch(const std::vector<Example>& examples, const std::vector<int64_t>& rows, int64_t seq_len) {
  const int64_t count = rows.size();
  // Columns that are padding in every row would only cost time: the batch is as long as its
  // longest row.
  int64_t length = 1;
  for (const int64_t r : rows) length = std::max<int64_t>(length, examples[r].ids.size());
  seq_len = std::min(seq_len, length);
  Batch b;
  b.ids = torch::zeros({count, seq_len}, torch::kInt64);
  b.targets = torch::zeros({count, seq_len}, torch::kInt64);
  b.mask = torch::zeros({count, seq_len}, torch::kBool);
  auto ids = b.ids.accessor<int64_t, 2>(), targets = b.targets.accessor<int64_t, 2>();
  auto mask = b.mask.accessor<bool, 2>();
  for (int64_t r = 0; r < count; ++r) {
    const Example& e = examples[rows[r]];
    const int64_t n = e.ids.size();
    for (int64_t t = 0; t < std::min(n, seq_len); ++t) ids[r][t] = e.ids[t];
    b.positions += std::min(n, seq_len);
    for (int64_t t = 0; t < std::min(n - 1, seq_len); ++t) {
      targets[r][t] = e.ids[t + 1];
      mask[r][t] = e.trained[t + 1] != 0;
    }
  }
  b.tokens = trained_targets(examples, rows, seq_len);
  return b;
}

int64_t trained_targets(const std::vector<Example>& examples, const std::vector<int64_t>& rows, int64_t seq_len) {
  int64_t tokens = 0;
  for (const int64_t r : rows) {
    const std::vector<uint8_t>& trained = examples[r].trained;
    const int64_t n = std::min<int64_t>(trained.size(), seq_len + 1);
    for (int64_t t = 1; t < n; ++t) tokens += trained[t] != 0;
  }
  return tokens;
}

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(seed * 1000003 + epoch);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[std::uniform_int_distribution<int64_t>(0, i)(rng)]);
  return order;
}

void check_token_ids(const std::vector<Example>& examples, int64_t vocab_size, const std::string& source) {
  for (const Example& e : examples)
    for (const int32_t id : e.ids)
      if (id >= vocab_size)
        fail(ErrorKind::kInput, source + ": token id " + std::to_string(id) + " is not below the model's vocabulary size " +
                                    std::to_string(vocab_size));
}

}  // namespace bespoke::train
