#include "bespoke/task/encoding/grammar.h"

#include <cstring>
#include <vector>

#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding {
namespace {

// The grammar is a straight program of steps; a list's end jumps back to its item's first step.
enum class Kind : uint8_t { kLiteral, kString, kEnum, kNumber, kList, kListEnd, kEnd };

struct Op {
  explicit Op(Kind k, std::string t = "") : kind(k), text(std::move(t)) {}

  Kind kind;
  std::string text;                 // kLiteral: its bytes
  size_t min = 0, max = SIZE_MAX;   // kString: bounds in code points
  std::vector<std::string> values;  // kEnum: each with its quotes
  size_t jump = 0;                  // kList: its kListEnd; kListEnd: the item's first step
};

// String phases: before the opening quote, between characters, after a backslash, in the hex
// digits of \u, in a multi-byte UTF-8 character.
enum : uint8_t { kOpen, kChars, kEscape, kHex, kContinuation };
// Number phases: nothing yet, "0", "1", "0." and n_ decimals, "1." and n_ zeros.
enum : uint8_t { kStart, kZero, kOne, kZeroPoint, kOnePoint };
// List phases: before "[", after it; at an item's end, after its ",".
enum : uint8_t { kBeforeOpen, kAfterOpen };
enum : uint8_t { kItemEnd, kAfterComma };

constexpr uint32_t kMaxDecimals = 4;
constexpr char kFill = '.';  // what completions write into a string that may not be empty

std::vector<Op> build() {
  std::vector<Op> ops;
  const auto literal = [&](const std::string& s) {
    if (!ops.empty() && ops.back().kind == Kind::kLiteral)
      ops.back().text += s;
    else
      ops.emplace_back(Kind::kLiteral, s);
  };
  const auto key = [&](bool first, const std::string& k) { literal((first ? "" : ", ") + ("\"" + k + "\": ")); };
  const auto string = [&](size_t min, size_t max) {
    Op op(Kind::kString);
    op.min = min;
    op.max = max;
    ops.push_back(op);
  };
  const auto enumeration = [&](const auto& set) {
    Op op(Kind::kEnum);
    for (const char* v : set) op.values.push_back("\"" + std::string(v) + "\"");
    ops.push_back(op);
  };
  const auto list = [&](const auto& item) {
    const size_t begin = ops.size();
    ops.emplace_back(Kind::kList);
    item();
    ops[begin].jump = ops.size();
    ops.emplace_back(Kind::kListEnd);
    ops.back().jump = begin + 1;
  };

  literal("{");
  key(true, kKeys[0]);
  string(0, kGistMax);
  key(false, kKeys[1]);
  string(0, kSummaryMax);
  key(false, kKeys[2]);
  string(1, SIZE_MAX);  // violations() refuses an empty content
  key(false, kKeys[3]);
  string(0, SIZE_MAX);
  key(false, kKeys[4]);
  list([&] { string(0, SIZE_MAX); });
  key(false, kKeys[5]);
  literal("{");
  for (const auto& [name, fields] : item_kinds()) {
    key(name == item_kinds()[0].list, name);
    list([&] {
      literal("{");
      for (const char* field : fields) {
        key(field == fields.front(), field);
        string(0, SIZE_MAX);
      }
      literal("}");
    });
  }
  literal("}");
  key(false, kKeys[6]);
  enumeration(kSignificance);
  key(false, kKeys[7]);
  enumeration(kEmotionalTone);
  key(false, kKeys[8]);
  enumeration(kOutcome);
  key(false, kKeys[9]);
  ops.emplace_back(Kind::kNumber);
  literal("}");
  ops.emplace_back(Kind::kEnd);
  return ops;
}

const std::vector<Op>& program() {
  static const std::vector<Op> ops = build();
  return ops;
}

bool whole_number(uint8_t phase, uint32_t decimals) {
  return phase == kZero || phase == kOne || decimals > 0;
}

int hex_digit(unsigned char b) {
  if (b >= '0' && b <= '9') return b - '0';
  if (b >= 'a' && b <= 'f') return b - 'a' + 10;
  if (b >= 'A' && b <= 'F') return b - 'A' + 10;
  return -1;
}

}  // namespace

bool RecordGrammar::advance(unsigned char b) {
  RecordGrammar next = *this;
  if (!next.step(b)) return false;
  *this = next;
  return true;
}

bool RecordGrammar::done() const {
  return program()[op_].kind == Kind::kEnd;
}

void RecordGrammar::enter(size_t op) {
  *this = RecordGrammar();
  op_ = static_cast<uint8_t>(op);
}

// A refused byte may leave the state half-changed: advance() steps a copy.
bool RecordGrammar::step(unsigned char b) {
  for (;;) {
    const Op& op = program()[op_];
    switch (op.kind) {
      case Kind::kLiteral:
        if (b != static_cast<unsigned char>(op.text[n_])) return false;
        if (++n_ == op.text.size()) enter(op_ + 1);
        return true;
      case Kind::kString:
        return string_byte(b);
      case Kind::kEnum: {
        uint8_t alive = 0;
        bool whole = false;
        for (size_t i = 0; i < op.values.size(); ++i)
          if ((alive_ >> i & 1) && static_cast<unsigned char>(op.values[i][n_]) == b) {
            alive |= 1 << i;
            whole |= op.values[i].size() == n_ + 1;
          }
        if (!alive) return false;
        alive_ = alive;
        ++n_;
        if (whole) enter(op_ + 1);
        return true;
      }
      case Kind::kNumber:
        if (number_byte(b)) return true;
        if (!whole_number(phase_, n_)) return false;
        enter(op_ + 1);  // the number is whole; the byte belongs to what follows it
        continue;
      case Kind::kList:
        if (phase_ == kBeforeOpen) {
          phase_ = kAfterOpen;
          return b == '[';
        }
        if (b == ']') {
          enter(op.jump + 1);
          return true;
        }
        enter(op_ + 1);  // the first item's first byte
        continue;
      case Kind::kListEnd:
        if (phase_ == kAfterComma) {
          if (b != ' ') return false;
          enter(op.jump);
        } else if (b == ',') {
          phase_ = kAfterComma;
        } else if (b == ']') {
          enter(op_ + 1);
        } else {
          return false;
        }
        return true;
      case Kind::kEnd:
        return false;
    }
  }
}

bool RecordGrammar::string_byte(unsigned char b) {
  const Op& op = program()[op_];
  switch (phase_) {
    case kOpen:
      phase_ = kChars;
      return b == '"';
    case kChars:
      if (low_due_ && b != '\\') return false;
      if (b == '"') {
        if (n_ < op.min) return false;
        enter(op_ + 1);
        return true;
      }
      if (b < 0x20 || (b >= 0x80 && b < 0xC2) || b > 0xF4) return false;  // control, stray or overlong lead
      if (!low_due_) {
        if (n_ == op.max) return false;
        ++n_;
      }
      if (b == '\\') {
        phase_ = kEscape;
      } else if (b >= 0x80) {
        phase_ = kContinuation;
        pending_ = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
        lo_ = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;  // no overlong forms
        hi_ = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;  // no surrogates, nothing past U+10FFFF
      }
      return true;
    case kEscape:
      if (b == 'u') {
        phase_ = kHex;
        pending_ = 4;
        return true;
      }
      phase_ = kChars;
      return !low_due_ && b != 0 && std::strchr("\"\\/bfnrt", b);
    case kHex: {
      // Surrogates come in pairs, a high one (D800-DBFF) then a low one (DC00-DFFF): JSON
      // parsers refuse either alone.
      const int d = hex_digit(b);
      const int have = 4 - pending_;
      if (d < 0 || (have == 0 && low_due_ && d != 0xD) || (have == 1 && hex_ == 0xD && (d >= 0xC) != low_due_))
        return false;
      hex_ = static_cast<uint16_t>(hex_ << 4 | d);
      if (--pending_ == 0) {
        low_due_ = !low_due_ && hex_ >= 0xD800 && hex_ <= 0xDBFF;
        hex_ = 0;
        phase_ = kChars;
      }
      return true;
    }
    case kContinuation:
      if (b < lo_ || b > hi_) return false;
      lo_ = 0x80, hi_ = 0xBF;
      if (--pending_ == 0) phase_ = kChars;
      return true;
  }
  return false;
}

bool RecordGrammar::number_byte(unsigned char b) {
  switch (phase_) {
    case kStart:
      if (b != '0' && b != '1') return false;
      phase_ = b == '0' ? kZero : kOne;
      return true;
    case kZero:
    case kOne:
      if (b != '.') return false;
      phase_ = phase_ == kZero ? kZeroPoint : kOnePoint;
      return true;
    case kZeroPoint:
    case kOnePoint:
      if (n_ == kMaxDecimals || b < '0' || b > '9' || (phase_ == kOnePoint && b != '0')) return false;
      ++n_;
      return true;
  }
  return false;
}

// What finishes the current step, and the step whose shortest completion follows it.
std::pair<std::string, size_t> RecordGrammar::rest() const {
  const Op& op = program()[op_];
  switch (op.kind) {
    case Kind::kLiteral:
      return {op.text.substr(n_), op_ + 1};
    case Kind::kString: {
      std::string tail;
      if (phase_ == kOpen) {
        tail = "\"";
      } else if (phase_ == kEscape) {
        tail = low_due_ ? "udc00" : "n";
      } else if (phase_ == kHex) {
        const int have = 4 - pending_;
        tail = std::string(low_due_ ? "dc00" : "0000").substr(have);
        const int top = have >= 2 ? hex_ >> 4 * (have - 2) : 0;  // the first two digits
        if (!low_due_ && top >= 0xD8 && top <= 0xDB) tail += "\\udc00";
      } else if (phase_ == kContinuation) {
        tail = std::string(1, char(lo_)) + std::string(pending_ - 1, '\x80');
      } else if (low_due_) {
        tail = "\\udc00";
      }
      tail.append(n_ < op.min ? op.min - n_ : 0, kFill);
      return {tail + '"', op_ + 1};
    }
    case Kind::kEnum: {
      std::string best;  // a live value always has its closing quote left
      for (size_t i = 0; i < op.values.size(); ++i)
        if ((alive_ >> i & 1) && (best.empty() || op.values[i].size() - n_ < best.size()))
          best = op.values[i].substr(n_);
      return {best, op_ + 1};
    }
    case Kind::kNumber:
      return {whole_number(phase_, n_) ? "" : "0", op_ + 1};
    case Kind::kList:
      return {phase_ == kBeforeOpen ? "[]" : "]", op.jump + 1};
    case Kind::kListEnd:  // after ", " another item must come
      return phase_ == kAfterComma ? std::pair<std::string, size_t>{" ", op.jump}
                                   : std::pair<std::string, size_t>{"]", op_ + 1};
    case Kind::kEnd:
      break;
  }
  return {"", op_};
}

const std::vector<std::string>& RecordGrammar::suffixes() {
  static const std::vector<std::string> suffix = [] {
    const size_t n = program().size();
    std::vector<std::string> s(n);  // the end's is empty
    for (size_t i = n - 1; i-- > 0;) {
      RecordGrammar g;
      g.enter(i);
      auto [tail, next] = g.rest();
      s[i] = tail + s[next];
    }
    return s;
  }();
  return suffix;
}

std::string RecordGrammar::shortest_completion() const {
  auto [tail, next] = rest();
  return tail + suffixes()[next];
}

size_t RecordGrammar::completion_length() const {
  auto [tail, next] = rest();
  return tail.size() + suffixes()[next].size();
}

}  // namespace bespoke::task::encoding
