#include "bespoke/train/data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "bespoke/core/error.h"
#include "bespoke/core/fingerprint.h"

namespace bespoke::train {
std::vector<text::Example> read_examples(const std::string& path, const text::Encoder& encoder) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kInput, path + ": cannot open");
  std::vector<text::Example> out;
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

std::string tokens_hash(const std::vector<text::Example>& examples) {
  Fingerprint f;
  for (const text::Example& e : examples) {
    for (const int32_t id : e.ids) f.add(uint32_t(id));
    for (const uint8_t t : e.trained) f.add(t);
    f.add(e.domain);
  }
  return f.hex();
}

std::vector<text::Example> split_documents(const std::vector<text::Example>& examples, int64_t window) {
  if (window < 1) fail(ErrorKind::kUsage, "--seq-len must be positive");
  std::vector<text::Example> out;
  for (const text::Example& e : examples) {
    const int64_t n = e.ids.size();
    const bool document = std::all_of(e.trained.begin(), e.trained.end(), [](uint8_t t) { return t != 0; });
    if (!document || n <= window + 1) {
      out.push_back(e);
      continue;
    }
    for (int64_t start = 0; start + 1 < n; start += window) {
      const int64_t end = std::min(start + window + 1, n);
      out.push_back({{e.ids.begin() + start, e.ids.begin() + end},
                     {e.trained.begin() + start, e.trained.begin() + end},
                     e.domain});
    }
  }
  return out;
}

Batch make_batch(const std::vector<text::Example>& examples, const std::vector<int64_t>& rows, int64_t seq_len) {
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
    const text::Example& e = examples[rows[r]];
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

int64_t trained_targets(const std::vector<text::Example>& examples, const std::vector<int64_t>& rows, int64_t seq_len) {
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

void check_token_ids(const std::vector<text::Example>& examples, int64_t vocab_size, const std::string& source) {
  for (const text::Example& e : examples)
    for (const int32_t id : e.ids)
      if (id >= vocab_size)
        fail(ErrorKind::kInput, source + ": token id " + std::to_string(id) +
                                    " is not below the model's vocabulary size " + std::to_string(vocab_size));
}

}  // namespace bespoke::train
