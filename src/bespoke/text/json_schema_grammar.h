// A JSON Schema compiled to a byte-level grammar, for constrained decoding (structured output:
// response_format json_schema / json_object). A decoder keeps a State and offers it each byte of
// a candidate token; the token is allowed only if every byte is accepted.
//
// Supported subset (anything else throws Error(kUnsupported) naming the keyword and its JSON
// pointer, e.g. `unsupported keyword "pattern" at /properties/name`; never ignored):
//   type (a name or a list), properties, required, additionalProperties (bool or schema),
//   items (a schema), minItems, maxItems, enum, const, anyOf, $ref to a JSON pointer into this
//   document ("#", "#/$defs/X", "#/definitions/X", ...; recursion allowed), true, false, {}.
//   Ignored annotations: title, description, $schema, $id (root only), default, examples,
//   $comment, $defs / definitions (containers). Refused: oneOf (exclusivity cannot be checked
//   byte by byte), allOf, prefixItems, items as a list, nested $id (it moves $ref's base).
//   $ref and anyOf take no sibling constraints; enum/const take only `type` beside them.
//   A $ref that does not resolve, or a malformed keyword value, throws Error(kInput).
//   A schema that matches nothing (false) compiles; its start state is already a dead end.
//
// Layout rules of the accepted text:
//   - Declared keys (properties, then required keys that properties lacks) come in that order,
//     each at most once, required ones never skipped, each written as its compact JSON
//     (nlohmann dump()). Unless additionalProperties is false, any other members may follow;
//     their keys must differ from every declared key, and so, when the object declares keys,
//     must be written as dump() writes them (no \/; \u only for control characters, as
//     \u00XX), which keeps that comparison exact.
//   - Whitespace (space, \t, \n, \r) between tokens: at most kJsonMaxWhitespace bytes a run.
//   - Numbers: JSON's grammar; "integer" is -?(0|[1-9][0-9]*). At most kJsonMaxDigits digits in
//     each of the integer, fraction and exponent runs.
//   - Strings: valid UTF-8 only (no overlongs, no surrogates, nothing above U+10FFFF), no raw
//     control bytes; \u escapes must pair surrogates.
//   - enum/const values: exactly their compact bytes, object keys in sorted (byte) order,
//     integral floats as integers (1.0 as 1), no whitespace inside.
//   - At most kJsonMaxDepth nested arrays/objects; at most kJsonMaxAlternatives parallel parses
//     (a byte that would need more is rejected).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace bespoke::text {

inline constexpr int kJsonMaxWhitespace = 16;
inline constexpr int kJsonMaxDigits = 24;
inline constexpr int kJsonMaxDepth = 64;
inline constexpr size_t kJsonMaxAlternatives = 256;

class JsonSchemaGrammar {
 public:
  struct Program;  // the compiled node table, shared and immutable

  // One construct being read in one parse. Fields not used by a kind stay zero, so that equal
  // parses compare equal.
  struct Frame {
    uint32_t id = 0;  // node, array spec or object spec
    uint32_t a = 0;   // literal range begin, item count or next declared key
    uint32_t b = 0;   // literal range end or the node of the key just read
    uint16_t c = 0;   // literal position, whitespace run or digit run
    uint8_t kind = 0;
    uint8_t phase = 0;
    bool operator==(const Frame& o) const {
      return id == o.id && a == o.a && b == o.b && c == o.c && kind == o.kind && phase == o.phase;
    }
  };

  // The parses still alive: stacks of frames laid end to end, each starting with its document
  // frame. Copying it is one allocation of 16 bytes a frame.
  class State {
   public:
    size_t alternatives() const;

   private:
    friend class JsonSchemaGrammar;
    std::vector<Frame> frames_;
  };

  // Throws Error(kUnsupported) or Error(kInput) as described above.
  static JsonSchemaGrammar compile(const nlohmann::ordered_json& schema);
  // Any JSON object ({type: json_object}).
  static JsonSchemaGrammar any_object();

  State start() const;
  // False: the byte is rejected and `s` is unchanged.
  bool accept(State& s, unsigned char byte) const;
  // All or nothing: false leaves `s` unchanged.
  bool accept(State& s, std::string_view bytes) const;
  // A whole document has been read.
  bool complete(const State& s) const;
  // No byte can follow and the document is not complete. Values that cannot be finished are
  // pruned at compile time, so every accepted prefix can still be completed (within the depth
  // bound): this holds only for the start state of a schema that matches nothing.
  bool dead_end(const State& s) const;
  // The fewest bytes after which the document is complete, or limit + 1 if it needs more: a
  // decoder with `limit` tokens left refuses a token after which this exceeds them (each token
  // writes a byte at least), so that the answer closes within its budget. Breadth-first over
  // bytes; distances found are remembered, which makes this object unsafe to share between
  // threads.
  size_t completion_length(const State& s, size_t limit) const;

 private:
  explicit JsonSchemaGrammar(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  bool step(const std::vector<Frame>& from, std::vector<Frame>& to, unsigned char byte) const;
  bool complete(const std::vector<Frame>& frames) const;
  std::shared_ptr<const Program> program_;
  mutable std::unordered_map<std::string, size_t> completion_memo_;  // state's frame bytes -> distance
};

// `instance` re-serialized as the grammar lays it out: compact; object keys in the order the
// schema declares them (after following $ref; under anyOf, the first alternative the instance
// conforms to, else the first), the other keys after in their own order; under enum/const,
// keys sorted; integral floats as integers. For feeding valid instances to the grammar.
std::string canonical_json(const nlohmann::ordered_json& instance, const nlohmann::ordered_json& schema);

}  // namespace bespoke::text
