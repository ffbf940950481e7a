#include "bespoke/text/bpe.h"

#include <cstdio>

#include "bespoke/core/error.h"
#include "bespoke/text/merge.h"
#include "bespoke/text/utf8.h"

namespace bespoke::text {
namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
}

}  // namespace

Bpe::Bpe(const nlohmann::json& model) {
  if (model.value("type", std::string("BPE")) != "BPE")
    fail(ErrorKind::kUnsupported,
         "tokenizer model type '" + model["type"].get<std::string>() + "' is not supported (only BPE)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(key) && !model[key].is_null() && !model[key].get<std::string>().empty())
      fail(ErrorKind::kUnsupported, std::string("BPE ") + key + " is not supported");
  for (const auto& [token, id] : model.at("vocab").items()) {
    const int32_t i = id.get<int32_t>();
    if (i < 0) fail(ErrorKind::kInput, "vocab id of '" + token + "' is negative");
    if (i >= static_cast<int32_t>(tokens_.size())) tokens_.resize(i + 1);
    tokens_[i] = token;
    ids_[token] = i;
  }
  int32_t rank = 0;
  for (const auto& m : model.at("merges")) {
    std::string a, b;
    if (m.is_array()) {
      a = m.at(0).get<std::string>();
      b = m.at(1).get<std::string>();
    } else {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ', 1);
      if (space == std::string::npos) fail(ErrorKind::kInput, "merge '" + s + "' is not two tokens");
      a = s.substr(0, space);
      b = s.substr(space + 1);
    }
    const int32_t ia = id(a), ib = id(b), merged = id(a + b);
    if (ia < 0 || ib < 0 || merged < 0)
      fail(ErrorKind::kInput, "merge '" + a + " " + b + "' uses a token missing from the vocab");
    merges_.emplace(pair_key(ia, ib), std::make_pair(rank++, merged));
  }
  if (model.contains("unk_token") && !model["unk_token"].is_null()) unk_ = id(model["unk_token"].get<std::string>());
  byte_fallback_ = model.value("byte_fallback", false);
  fuse_unk_ = model.value("fuse_unk", false);
  ignore_merges_ = model.value("ignore_merges", false);
}

int32_t Bpe::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int32_t> Bpe::initial_symbols(const std::string& word) const {
  std::vector<int32_t> symbols;
  bool last_unk = false;
  for (const std::string& c : utf8_chars(word)) {
    const int32_t i = id(c);
    if (i >= 0) {
      symbols.push_back(i);
      last_unk = false;
      continue;
    }
    if (byte_fallback_) {
      std::vector<int32_t> bytes;
      for (unsigned char b : c) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        bytes.push_back(id(name));
      }
      if (std::find(bytes.begin(), bytes.end(), -1) == bytes.end()) {
        symbols.insert(symbols.end(), bytes.begin(), bytes.end());
        last_unk = false;
        continue;
      }
    }
    if (unk_ < 0) continue;  // as the reference: a character with no token and no unk vanishes
    if (!(fuse_unk_ && last_unk)) symbols.push_back(unk_);
    last_unk = true;
  }
  return symbols;
}

void Bpe::encode_word(const std::string& word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    const int32_t whole = id(word);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  // Merges apply lowest rank first.
  const std::vector<int32_t> s = merge_pairs(
      initial_symbols(word),
      [&](int32_t a, int32_t b) -> std::optional<double> {
        auto it = merges_.find(pair_key(a, b));
        if (it == merges_.end()) return std::nullopt;
        return it->second.first;
      },
      [&](int32_t a, int32_t b) { return merges_.at(pair_key(a, b)).second; });
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace bespoke::text
