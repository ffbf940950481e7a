#include "bespoke/text/spm_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "bespoke/core/error.h"
#include "bespoke/text/merge.h"
#include "bespoke/text/utf8.h"

namespace bespoke::text {
namespace {

constexpr const char* kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// A protobuf wire-format reader: just enough for ModelProto.
class ProtoReader {
 public:
  ProtoReader(const std::string& data, const std::string& path) : data_(data), path_(path) {}
  bool done() const { return at_ >= data_.size(); }

  // Reads the next field's number and wire type.
  std::pair<uint32_t, uint32_t> tag() {
    const uint64_t key = varint();
    return {static_cast<uint32_t>(key >> 3), static_cast<uint32_t>(key & 7)};
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      const uint8_t b = static_cast<uint8_t>(data_[at_++]);
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    bad("varint too long");
  }
  std::string bytes() {
    const uint64_t n = varint();
    need(n);
    std::string s = data_.substr(at_, n);
    at_ += n;
    return s;
  }
  float fixed32() {
    need(4);
    float f;
    std::memcpy(&f, data_.data() + at_, 4);
    at_ += 4;
    return f;
  }
  void skip(uint32_t wire) {
    if (wire == 0)
      varint();
    else if (wire == 1)
      need(8), at_ += 8;
    else if (wire == 2)
      bytes();
    else if (wire == 5)
      need(4), at_ += 4;
    else
      bad("unknown wire type " + std::to_string(wire));
  }

 private:
  void need(uint64_t n) const {
    if (n > data_.size() - at_) bad("truncated");
  }
  [[noreturn]] void bad(const std::string& what) const {
    fail(ErrorKind::kInput, path_ + ": not a SentencePiece model (" + what + " at byte " + std::to_string(at_) + ")");
  }
  const std::string& data_;
  const std::string& path_;
  size_t at_ = 0;
};

}  // namespace

SpmTokenizer::SpmTokenizer(const std::string& path, bool add_bos, bool add_eos) : add_bos_(add_bos), add_eos_(add_eos) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::kIo, path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  int model_type = 1;
  std::string normalizer = "identity";
  ProtoReader top(data, path);
  while (!top.done()) {
    const auto [field, wire] = top.tag();
    if (field == 1 && wire == 2) {  // SentencePiece { piece = 1; score = 2; type = 3; }
      const std::string msg = top.bytes();
      ProtoReader r(msg, path);
      Piece p;
      while (!r.done()) {
        const auto [f, w] = r.tag();
        if (f == 1 && w == 2)
          p.text = r.bytes();
        else if (f == 2 && w == 5)
          p.score = r.fixed32();
        else if (f == 3 && w == 0)
          p.type = static_cast<int>(r.varint());
        else
          r.skip(w);
      }
      pieces_.push_back(p);
    } else if ((field == 2 || field == 3) && wire == 2) {  // TrainerSpec, NormalizerSpec
      const std::string msg = top.bytes();
      ProtoReader r(msg, path);
      while (!r.done()) {
        const auto [f, w] = r.tag();
        if (field == 2 && f == 3 && w == 0)
          model_type = static_cast<int>(r.varint());
        else if (field == 2 && f == 35 && w == 0)
          byte_fallback_ = r.varint() != 0;
        else if (field == 2 && f == 44 && w == 2)
          unk_surface_ = r.bytes();
        else if (field == 3 && f == 1 && w == 2)
          normalizer = r.bytes();
        else if (field == 3 && f == 3 && w == 0)
          add_dummy_prefix_ = r.varint() != 0;
        else if (field == 3 && f == 4 && w == 0)
          remove_extra_whitespaces_ = r.varint() != 0;
        else if (field == 3 && f == 5 && w == 0)
          escape_whitespaces_ = r.varint() != 0;
        else
          r.skip(w);
      }
    } else {
      top.skip(wire);
    }
  }
  if (pieces_.empty()) fail(ErrorKind::kInput, path + ": not a SentencePiece model (no pieces)");
  if (model_type != 2)
    fail(ErrorKind::kUnsupported,
         path + ": only BPE SentencePiece models are supported (model_type " + std::to_string(model_type) + ")");
  if (normalizer != "identity")
    fail(ErrorKind::kUnsupported,
         path + ": SentencePiece normalization '" + normalizer + "' is not supported (only identity)");
  for (int32_t i = 0; i < vocab_size(); ++i) {
    const Piece& p = pieces_[i];
    ids_.emplace(p.text, i);
    if (p.type == kUnknown) unk_ = i;
    if (p.type == kUserDefined) user_defined_.push_back(i);
    if (p.type == kControl && p.text == "<s>") bos_ = i;
    if (p.type == kControl && p.text == "</s>") eos_ = i;
  }
  std::stable_sort(user_defined_.begin(), user_defined_.end(),
                   [&](int32_t a, int32_t b) { return pieces_[a].text.size() > pieces_[b].text.size(); });
}

int32_t SpmTokenizer::token_id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

std::string SpmTokenizer::normalize(const std::string& text) const {
  std::string s = text;
  if (remove_extra_whitespaces_) {
    std::string collapsed;
    for (char c : s)
      if (c != ' ' || (!collapsed.empty() && collapsed.back() != ' ')) collapsed += c;
    while (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
    s = collapsed;
  }
  if (s.empty()) return s;
  if (add_dummy_prefix_) s = " " + s;
  return escape_whitespaces_ ? replace_all(s, " ", kSpace) : s;
}

std::vector<int32_t> SpmTokenizer::encode(const std::string& text, bool add_special) const {
  check_utf8(text);
  const std::string s = normalize(text);
  struct Symbol {
    std::string text;
    bool frozen;  // user-defined pieces never merge
  };
  std::vector<Symbol> symbols;
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    for (int32_t id : user_defined_)
      if (s.compare(i, pieces_[id].text.size(), pieces_[id].text) == 0) {
        len = pieces_[id].text.size();
        break;
      }
    const bool frozen = len > 0;
    if (!frozen) len = utf8_chars(s.substr(i, 4)).front().size();
    symbols.push_back({s.substr(i, len), frozen});
    i += len;
  }
  // Join the pair whose union is the highest-scored piece first.
  symbols = merge_pairs(
      std::move(symbols),
      [&](const Symbol& a, const Symbol& b) -> std::optional<double> {
        if (a.frozen || b.frozen) return std::nullopt;
        auto it = ids_.find(a.text + b.text);
        if (it == ids_.end() || pieces_[it->second].type == kUnknown || pieces_[it->second].type == kControl)
          return std::nullopt;
        return -double(pieces_[it->second].score);
      },
      [](const Symbol& a, const Symbol& b) {
        return Symbol{a.text + b.text, false};
      });
  std::vector<int32_t> ids;
  if (add_special && add_bos_ && bos_ >= 0) ids.push_back(bos_);
  for (const Symbol& sym : symbols) {
    auto it = ids_.find(sym.text);
    if (it != ids_.end() && pieces_[it->second].type != kControl) {
      ids.push_back(it->second);
    } else if (byte_fallback_) {
      for (unsigned char b : sym.text) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        ids.push_back(token_id(name) >= 0 ? token_id(name) : unk_);
      }
    } else {
      ids.push_back(unk_);
    }
  }
  if (add_special && add_eos_ && eos_ >= 0) ids.push_back(eos_);
  return ids;
}

std::string SpmTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out, bytes;
  bool at_start = true;  // the dummy prefix's space is dropped from the first piece
  auto emit = [&](std::string text) {
    if (at_start && add_dummy_prefix_ && text.rfind(' ', 0) == 0) text.erase(0, 1);
    at_start = false;
    out += text;
  };
  auto flush_bytes = [&] {
    if (!bytes.empty()) emit(utf8_lossy(bytes));
    bytes.clear();
  };
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size())
      fail(ErrorKind::kInput, "token id " + std::to_string(id) + " is not in the vocabulary");
    const Piece& p = pieces_[id];
    if (p.type == kByte) {
      bytes += static_cast<char>(std::stoi(p.text.substr(3, 2), nullptr, 16));
      continue;
    }
    flush_bytes();
    if (p.type == kControl) {
      if (!skip_special) out += p.text;
    } else if (p.type == kUnknown) {
      emit(unk_surface_);
    } else {
      emit(replace_all(p.text, kSpace, " "));
    }
  }
  flush_bytes();
  return out;
}

std::string SpmTokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    fail(ErrorKind::kInput, "token id " + std::to_string(id) + " is not in the vocabulary");
  const Piece& p = pieces_[id];
  if (p.type == kByte) return std::string(1, static_cast<char>(std::stoi(p.text.substr(3, 2), nullptr, 16)));
  if (p.type == kControl || p.type == kUnknown) return "";
  return replace_all(p.text, kSpace, " ");
}

}  // namespace bespoke::text
