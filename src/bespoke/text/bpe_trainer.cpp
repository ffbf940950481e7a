#include "bespoke/text/bpe_trainer.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "bespoke/core/error.h"
#include "bespoke/text/normalizer.h"
#include "bespoke/text/pre_tokenizer.h"
#include "bespoke/text/utf8.h"

namespace bespoke::text {
namespace {

using nlohmann::json;

uint64_t pair_key(int32_t a, int32_t b) {
  return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
}

struct Word {
  std::vector<int32_t> symbols;
  int64_t count = 0;
};

// Pair counts over all words, and for each pair the words it may occur in (stale entries are
// skipped when used), so that a merge revisits only the words that hold its pair.
class PairIndex {
 public:
  void add(const Word& w, int32_t index, int64_t sign) {
    for (size_t i = 0; i + 1 < w.symbols.size(); ++i) {
      const uint64_t k = pair_key(w.symbols[i], w.symbols[i + 1]);
      counts_[k] += sign * w.count;
      if (sign > 0) where_[k].push_back(index);
    }
  }
  // The most frequent pair (ties: the smaller pair of token strings), or count 0 if none.
  std::pair<uint64_t, int64_t> best(const std::vector<std::string>& tokens) const {
    uint64_t best_key = 0;
    int64_t best_count = 0;
    for (const auto& [k, n] : counts_) {
      if (n < best_count || n <= 0) continue;
      if (n == best_count) {
        const auto text = [&](uint64_t key) { return std::make_pair(tokens[key >> 32], tokens[key & 0xFFFFFFFFu]); };
        if (text(k) >= text(best_key)) continue;
      }
      best_key = k;
      best_count = n;
    }
    return {best_key, best_count};
  }
  std::vector<int32_t> take_words(uint64_t k) {
    std::vector<int32_t> w = std::move(where_[k]);
    where_.erase(k);
    std::sort(w.begin(), w.end());
    w.erase(std::unique(w.begin(), w.end()), w.end());
    return w;
  }

 private:
  std::unordered_map<uint64_t, int64_t> counts_;
  std::unordered_map<uint64_t, std::vector<int32_t>> where_;
};

// Joins every non-overlapping (a, b) of `s`, left to right, into `merged`.
bool apply_merge(std::vector<int32_t>& s, int32_t a, int32_t b, int32_t merged) {
  std::vector<int32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
      out.push_back(merged);
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  const bool changed = out.size() != s.size();
  s = std::move(out);
  return changed;
}

void check_byte_level(const json& base) {
  const json& model = base.at("model");
  if (model.value("type", std::string("BPE")) != "BPE" || model.value("byte_fallback", false) ||
      base.value("pre_tokenizer", json()).dump().find("\"ByteLevel\"") == std::string::npos)
    fail(ErrorKind::kUnsupported, "BPE training needs a byte-level BPE tokenizer.json as its base");
}

// `base` with its Split regex's single-digit alternative widened to runs of up to three digits.
json with_digit_runs(json base, int32_t digits) {
  if (digits == 0) return base;
  const std::string single = "|\\p{N}|", runs = "|\\p{N}{1,3}|";
  if (digits != 3)
    fail(ErrorKind::kUnsupported, "BPE training: digit runs of " + std::to_string(digits) + "; 0 (the base's) or 3");
  const auto widen = [&](json& split) {
    if (split.value("type", "") != "Split" || !split.contains("pattern") || !split["pattern"].contains("Regex"))
      return false;
    std::string regex = split["pattern"]["Regex"];
    const size_t at = regex.find(single);
    if (at == std::string::npos) return regex.find(runs) != std::string::npos;
    split["pattern"]["Regex"] = regex.replace(at, single.size(), runs);
    return true;
  };
  json& pre = base["pre_tokenizer"];
  bool done = widen(pre);
  if (pre.value("type", "") == "Sequence")
    for (json& p : pre["pretokenizers"]) done = done || widen(p);
  if (!done) fail(ErrorKind::kUnsupported, "BPE training: the base pre-tokenizer has no single-digit rule to widen");
  return base;
}

// The pre-tokenized words of `texts` with their counts, sorted so that training is deterministic.
std::map<std::string, int64_t> count_words(const json& base, const std::vector<std::string>& texts) {
  const Normalizer normalizer(base.value("normalizer", json()));
  const PreTokenizer pre_tokenizer(base.value("pre_tokenizer", json()));
  std::map<std::string, int64_t> counts;
  for (const std::string& text : texts) {
    check_utf8(text);
    for (const std::string& w : pre_tokenizer.split(normalizer.apply(text), true)) ++counts[w];
  }
  return counts;
}

// Sets each TemplateProcessing special token's ids from its token strings, after renumbering.
void remap_post_processor(json& p, const std::map<std::string, int32_t>& ids) {
  if (!p.is_object()) return;
  if (p.value("type", "") == "Sequence")
    for (json& q : p["processors"]) remap_post_processor(q, ids);
  if (p.value("type", "") != "TemplateProcessing") return;
  for (auto& [name, special] : p["special_tokens"].items()) {
    json remapped = json::array();
    for (const json& t : special.at("tokens")) {
      auto it = ids.find(t.get<std::string>());
      if (it == ids.end()) fail(ErrorKind::kInput, "post-processor token " + t.dump() + " is not an added token");
      remapped.push_back(it->second);
    }
    special["ids"] = remapped;
  }
}

}  // namespace

json train_byte_level_bpe(const json& base_in, const std::vector<std::string>& texts, int32_t vocab_size,
                          int32_t digits) {
  check_byte_level(base_in);
  const json base = with_digit_runs(base_in, digits);
  std::vector<std::string> tokens;
  std::map<std::string, int32_t> ids;
  json added = base.value("added_tokens", json::array());
  std::sort(added.begin(), added.end(), [](const json& x, const json& y) { return x["id"] < y["id"]; });
  for (json& a : added) {
    a["id"] = static_cast<int32_t>(tokens.size());
    ids[a["content"]] = a["id"];
    tokens.push_back(a["content"]);
  }
  const int32_t first_byte = static_cast<int32_t>(tokens.size());
  for (const std::string& c : byte_to_char()) tokens.push_back(c);
  if (vocab_size < static_cast<int32_t>(tokens.size()))
    fail(ErrorKind::kInput, "a vocabulary of " + std::to_string(vocab_size) + " is smaller than the " +
                                std::to_string(tokens.size()) +
                                " tokens every byte-level BPE starts with (added tokens and 256 bytes)");
  std::unordered_map<std::string, int32_t> token_ids;
  for (size_t i = 0; i < tokens.size(); ++i) token_ids.emplace(tokens[i], static_cast<int32_t>(i));

  std::vector<Word> words;
  for (const auto& [text, count] : count_words(base, texts)) {
    Word w{{}, count};
    for (const std::string& c : utf8_chars(text)) {
      const int b = char_to_byte(c);
      if (b < 0)
        fail(ErrorKind::kUnsupported, "BPE training: the base pre-tokenizer left a character that is no byte: " + c);
      w.symbols.push_back(first_byte + b);
    }
    words.push_back(std::move(w));
  }
  PairIndex index;
  for (size_t i = 0; i < words.size(); ++i) index.add(words[i], static_cast<int32_t>(i), +1);

  json merges = json::array();
  while (static_cast<int32_t>(tokens.size()) < vocab_size) {
    const auto [k, count] = index.best(tokens);
    if (count < 2) break;  // a pair seen once saves one position once: not worth a token
    const int32_t a = static_cast<int32_t>(k >> 32), b = static_cast<int32_t>(k & 0xFFFFFFFFu);
    // Should two merges ever spell the same string, they share its token: a vocabulary key
    // written twice would lose one id.
    const auto [it, is_new] = token_ids.emplace(tokens[a] + tokens[b], static_cast<int32_t>(tokens.size()));
    const int32_t merged = it->second;
    if (is_new) tokens.push_back(it->first);
    merges.push_back({tokens[a], tokens[b]});
    for (const int32_t i : index.take_words(k)) {
      Word& w = words[i];
      std::vector<int32_t> s = w.symbols;
      if (!apply_merge(s, a, b, merged)) continue;
      index.add(w, i, -1);
      w.symbols = std::move(s);
      index.add(w, i, +1);
    }
  }

  json vocab = json::object();
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  json out = base;
  out["added_tokens"] = added;
  out["model"]["vocab"] = vocab;
  out["model"]["merges"] = merges;
  if (out.contains("post_processor")) remap_post_processor(out["post_processor"], ids);
  return out;
}

}  // namespace bespoke::text
