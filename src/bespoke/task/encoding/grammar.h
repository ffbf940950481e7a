// The strict encoding record (record.h) as a byte-level grammar, for constrained decoding: the
// ten keys in order, structured_concepts' four lists with their item fields in order, laid out
// as Python's json.dumps writes it (", " between members and items, ": " after keys, no other
// whitespace) — the layout of the generator's records, so a model trained on them is held to
// the bytes it learned. Strings are valid UTF-8 with JSON's escapes and no raw
// control characters; gist and summary keep to kGistMax / kSummaryMax code points (an escape
// is one, a surrogate pair one); content is non-empty; enums are the production sets; salience
// is 0, 1, "0." and one to four digits, or "1." and one to four zeros. Every record it accepts
// parses with violations() empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bespoke::task::encoding {

class RecordGrammar {
 public:
  // Consumes one byte. False if no record continues with it; the state is then unchanged.
  bool advance(unsigned char b);
  // The bytes so far are a whole record; nothing may follow.
  bool done() const;
  // The shortest bytes that turn what has been read into a whole record ("" once done).
  // Every state advance() can reach has one. It is ASCII, but for the continuation bytes of an
  // unfinished UTF-8 sequence.
  std::string shortest_completion() const;
  size_t completion_length() const;  // its size, cheaply

 private:
  bool step(unsigned char b);
  bool string_byte(unsigned char b);
  bool number_byte(unsigned char b);
  void enter(size_t op);
  std::pair<std::string, size_t> rest() const;
  static const std::vector<std::string>& suffixes();  // the shortest completion from each step's start

  // The grammar is a fixed program (grammar.cpp); the state is where in it we are. Small and
  // trivially copyable: decoding copies it once per candidate token.
  uint8_t op_ = 0;           // the program step being matched
  uint8_t phase_ = 0;        // progress within it, by kind (grammar.cpp)
  uint8_t alive_ = 0xFF;     // enum: the values still matching, a bit each
  uint8_t pending_ = 0;      // string: continuation bytes or \u hex digits still due
  uint8_t lo_ = 0, hi_ = 0;  // string: the range the next continuation byte must fall in
  uint16_t hex_ = 0;         // string: the \u digits so far
  bool low_due_ = false;     // string: a high surrogate was written, its low half must follow
  uint32_t n_ = 0;           // literal, enum: bytes matched; string: code points; number: decimals
};

}  // namespace bespoke::task::encoding
