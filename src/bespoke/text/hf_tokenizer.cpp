#include "bespoke/text/hf_tokenizer.h"

#include <algorithm>

#include "bespoke/core/error.h"
#include "bespoke/text/utf8.h"

namespace bespoke::text {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (static_cast<unsigned char>(c) & 0x80);
}

std::vector<AddedToken> read_added(const nlohmann::json& spec) {
  std::vector<AddedToken> out;
  if (!spec.contains("added_tokens") || spec["added_tokens"].is_null()) return out;
  for (const auto& t : spec["added_tokens"]) {
    AddedToken a;
    a.id = t.at("id").get<int32_t>();
    a.content = t.at("content").get<std::string>();
    a.special = t.value("special", false);
    a.lstrip = t.value("lstrip", false);
    a.rstrip = t.value("rstrip", false);
    a.single_word = t.value("single_word", false);
    a.normalized = t.value("normalized", !a.special);
    if (!a.content.empty()) out.push_back(a);
  }
  // Longest first, so that at one position the longest token wins.
  std::stable_sort(out.begin(), out.end(),
                   [](const AddedToken& x, const AddedToken& y) { return x.content.size() > y.content.size(); });
  return out;
}

// Appends to `ids` the ids of the TemplateProcessing items in `items` that come before
// (`before` = true) or after the sequence "A".
void template_ids(const nlohmann::json& processor, bool before, std::vector<int32_t>& ids) {
  bool seen_a = false;
  for (const auto& item : processor.at("single")) {
    if (item.contains("Sequence")) {
      seen_a = true;
      continue;
    }
    if (seen_a == before) continue;
    const std::string name = item.at("SpecialToken").at("id").get<std::string>();
    for (const auto& id : processor.at("special_tokens").at(name).at("ids")) ids.push_back(id.get<int32_t>());
  }
}

void read_post_processor(const nlohmann::json& p, std::vector<int32_t>& prefix, std::vector<int32_t>& suffix) {
  if (p.is_null()) return;
  const std::string type = p.at("type").get<std::string>();
  if (type == "Sequence") {
    for (const auto& q : p.at("processors")) read_post_processor(q, prefix, suffix);
  } else if (type == "TemplateProcessing") {
    template_ids(p, true, prefix);
    template_ids(p, false, suffix);
  } else if (type != "ByteLevel") {
    fail(ErrorKind::kUnsupported, "post_processor type '" + type + "' is not supported");
  }
}

}  // namespace

HfTokenizer::HfTokenizer(const nlohmann::json& spec)
    : added_(read_added(spec)),
      normalizer_(spec.value("normalizer", nlohmann::json())),
      pre_tokenizer_(spec.value("pre_tokenizer", nlohmann::json())),
      model_(spec.at("model")),
      decoder_(spec.value("decoder", nlohmann::json())) {
  read_post_processor(spec.value("post_processor", nlohmann::json()), prefix_, suffix_);
  for (const AddedToken& a : added_) {
    by_first_byte_[static_cast<unsigned char>(a.content[0])].push_back(&a);
    by_id_[a.id] = &a;
  }
}

int32_t HfTokenizer::vocab_size() const {
  int32_t n = model_.size();
  for (const AddedToken& a : added_) n = std::max(n, a.id + 1);
  return n;
}

int32_t HfTokenizer::token_id(const std::string& token) const {
  for (const AddedToken& a : added_)
    if (a.content == token) return a.id;
  return model_.id(token);
}

std::vector<HfTokenizer::Segment> HfTokenizer::split_added(const std::vector<Segment>& in, bool normalized) const {
  std::vector<Segment> out;
  for (const Segment& seg : in) {
    if (seg.id >= 0) {
      out.push_back(seg);
      continue;
    }
    const std::string& s = seg.text;
    size_t plain_from = 0;  // start of the text not yet emitted
    auto emit_plain = [&](size_t end) {
      if (end > plain_from) out.push_back({s.substr(plain_from, end - plain_from), -1, seg.first && plain_from == 0});
    };
    for (size_t i = 0; i < s.size(); ++i) {
      const AddedToken* hit = nullptr;
      for (const AddedToken* a : by_first_byte_[static_cast<unsigned char>(s[i])]) {
        if (a->normalized != normalized || s.compare(i, a->content.size(), a->content) != 0) continue;
        const size_t end = i + a->content.size();
        if (a->single_word && ((i > 0 && is_word(s[i - 1])) || (end < s.size() && is_word(s[end])))) continue;
        hit = a;
        break;
      }
      if (!hit) continue;
      size_t begin = i, end = i + hit->content.size();
      if (hit->lstrip)
        while (begin > plain_from && is_space(s[begin - 1])) --begin;
      if (hit->rstrip)
        while (end < s.size() && is_space(s[end])) ++end;
      emit_plain(begin);
      out.push_back({hit->content, hit->id, false});
      plain_from = end;
      i = end - 1;
    }
    emit_plain(s.size());
  }
  return out;
}

std::vector<int32_t> HfTokenizer::encode(const std::string& text, bool add_special) const {
  check_utf8(text);
  std::vector<Segment> segments = split_added({{text, -1, true}}, /*normalized=*/false);
  for (Segment& seg : segments)
    if (seg.id < 0) seg.text = normalizer_.apply(seg.text);
  segments = split_added(segments, /*normalized=*/true);
  std::vector<int32_t> ids;
  if (add_special) ids = prefix_;
  for (const Segment& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    for (const std::string& word : pre_tokenizer_.split(seg.text, seg.first)) model_.encode_word(word, ids);
  }
  if (add_special) ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  return ids;
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::vector<std::string> tokens;
  for (int32_t id : ids) {
    auto added = by_id_.find(id);
    if (added != by_id_.end()) {
      if (!(skip_special && added->second->special)) tokens.push_back(added->second->content);
      continue;
    }
    if (id < 0 || id >= model_.size() || model_.token(id).empty())
      fail(ErrorKind::kInput,
           "token id " + std::to_string(id) + " is not in the vocabulary (size " + std::to_string(vocab_size()) + ")");
    tokens.push_back(model_.token(id));
  }
  return decoder_.decode(std::move(tokens));
}

std::string HfTokenizer::token_bytes(int32_t id) const {
  auto added = by_id_.find(id);
  if (added != by_id_.end()) return decoder_.token_bytes(added->second->content, added->second->special);
  if (id < 0 || id >= vocab_size())
    fail(ErrorKind::kInput,
         "token id " + std::to_string(id) + " is not in the vocabulary (size " + std::to_string(vocab_size()) + ")");
  return id < model_.size() ? decoder_.token_bytes(model_.token(id), false) : "";  // a gap in the ids is no text
}

}  // namespace bespoke::text
