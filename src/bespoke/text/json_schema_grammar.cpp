// The schema becomes a table of nodes: each node lists the frames that can start one of its
// values (anyOf and $ref are flattened into that list), and object/array specs hold the rest.
// A state is a set of parse stacks; each byte advances every stack, forking where the grammar
// is ambiguous (an anyOf, a declared or another key, a number or enum value that may end), and
// dead stacks drop out.
#include "bespoke/text/json_schema_grammar.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <unordered_set>

#include "bespoke/core/error.h"

namespace bespoke::text {
namespace {

using Json = nlohmann::ordered_json;
using Frame = JsonSchemaGrammar::Frame;

constexpr uint32_t kNone = UINT32_MAX;
constexpr size_t kMaxLiteral = UINT16_MAX;  // a literal position must fit Frame::c
constexpr int kMaxRefHops = 64;             // $ref / anyOf chains that read no input

enum Kind : uint8_t { kDoc, kValue, kLiteral, kMember, kString, kKey, kNumber, kInteger, kArray, kObject };
// Array and object phases.
constexpr uint8_t kOpen = 0, kFirst = 1, kAfterItem = 2, kAfterComma = 3, kAfterKey = 4;
// Number phases.
constexpr uint8_t kStart = 0, kMinus = 1, kZero = 2, kInt = 3, kDot = 4, kFrac = 5, kExp = 6, kExpSign = 7,
                  kExpDigits = 8;
// String phases: escapes, \u digits (surrogates must pair), and UTF-8 continuation bytes.
constexpr uint8_t kQuote = 0, kChars = 1, kEscape = 2, kU0 = 3, kUD = 4, kHex3 = 5, kHex2 = 6, kHex1 = 7, kHiHex2 = 8,
                  kHiHex1 = 9, kLowSlash = 10, kLowU = 11, kLowD = 12, kLowC = 13, kCont1 = 14, kCont2 = 15,
                  kCont3 = 16, kE0 = 17, kED = 18, kF0 = 19, kF4 = 20, kCanon0 = 21, kCanon1 = 22, kCanon2 = 23,
                  kCanon00 = 24, kCanon01 = 25;
constexpr uint8_t kClosed = 254, kReject = 255;  // what string_next and number_next return besides a phase

Frame frame(uint8_t kind, uint32_t id = 0, uint32_t a = 0, uint32_t b = 0) {
  return Frame{id, a, b, 0, kind, 0};
}

bool is_ws(uint8_t b) {
  return b == ' ' || b == '\n' || b == '\t' || b == '\r';
}
bool is_hex(uint8_t b) {
  return (b >= '0' && b <= '9') || ((b | 0x20) >= 'a' && (b | 0x20) <= 'f');
}

// The string phase after byte b. `strict`: a key compared byte for byte with the declared
// keys, so it must be written as dump() writes it: no \/, and \u only as \u00XX for control
// characters that have no short escape.
uint8_t string_next(uint8_t phase, uint8_t b, bool strict) {
  const auto in = [b](int lo, int hi) { return b >= lo && b <= hi; };
  const auto hex = [b](uint8_t next) { return is_hex(b) ? next : kReject; };
  const auto cont = [&](int lo, int hi, uint8_t next) { return in(lo, hi) ? next : kReject; };
  switch (phase) {
    case kQuote:
      return b == '"' ? kChars : kReject;
    case kChars:
      if (b == '"') return kClosed;
      if (b == '\\') return kEscape;
      if (b < 0x20) return kReject;
      if (b < 0x80) return kChars;
      if (in(0xC2, 0xDF)) return kCont1;
      if (b == 0xE0) return kE0;
      if (b == 0xED) return kED;
      if (in(0xE1, 0xEF)) return kCont2;
      if (b == 0xF0) return kF0;
      if (in(0xF1, 0xF3)) return kCont3;
      return b == 0xF4 ? kF4 : kReject;  // 80..C1 (stray or overlong) and F5..FF never start one
    case kEscape:
      if (std::string_view("\"\\bfnrt").find(char(b)) != std::string_view::npos) return kChars;
      if (b == '/') return strict ? kReject : kChars;
      if (b != 'u') return kReject;
      return strict ? kCanon0 : kU0;
    case kCanon0:
      return b == '0' ? kCanon1 : kReject;
    case kCanon1:
      return b == '0' ? kCanon2 : kReject;
    case kCanon2:
      return b == '0' ? kCanon00 : b == '1' ? kCanon01 : kReject;
    case kCanon00:
      return in('0', '7') || b == 'b' || b == 'e' || b == 'f' ? kChars : kReject;  // not \b \t \n \f \r
    case kCanon01:
      return in('0', '9') || in('a', 'f') ? kChars : kReject;
    case kU0:
      return (b | 0x20) == 'd' ? kUD : hex(kHex3);
    case kUD:
      if (in('0', '7')) return kHex2;
      return in('8', '9') || in('a', 'b') || in('A', 'B') ? kHiHex2 : kReject;  // a lone low surrogate: no
    case kHex3:
      return hex(kHex2);
    case kHex2:
      return hex(kHex1);
    case kHex1:
      return hex(kChars);
    case kHiHex2:
      return hex(kHiHex1);
    case kHiHex1:
      return hex(kLowSlash);
    case kLowSlash:
      return b == '\\' ? kLowU : kReject;
    case kLowU:
      return b == 'u' ? kLowD : kReject;
    case kLowD:
      return (b | 0x20) == 'd' ? kLowC : kReject;
    case kLowC:
      return in('c', 'f') || in('C', 'F') ? kHex2 : kReject;
    case kCont1:
      return cont(0x80, 0xBF, kChars);
    case kCont2:
      return cont(0x80, 0xBF, kCont1);
    case kCont3:
      return cont(0x80, 0xBF, kCont2);
    case kE0:
      return cont(0xA0, 0xBF, kCont1);  // below A0: overlong
    case kED:
      return cont(0x80, 0x9F, kCont1);  // above 9F: a surrogate
    case kF0:
      return cont(0x90, 0xBF, kCont2);  // below 90: overlong
    case kF4:
      return cont(0x80, 0x8F, kCont2);  // above 8F: past U+10FFFF
  }
  return kReject;
}

// The number phase after byte b; `digits` counts the current digit run.
uint8_t number_next(uint8_t phase, uint8_t b, bool integer, uint16_t& digits) {
  const bool digit = b >= '0' && b <= '9';
  const bool exp = (b | 0x20) == 'e';
  const auto first = [&](uint8_t next) -> uint8_t {
    digits = 1;
    return next;
  };
  const auto more = [&](uint8_t next) -> uint8_t {  // one more digit in the run, up to the bound
    if (digits == kJsonMaxDigits) return kReject;
    ++digits;
    return next;
  };
  switch (phase) {
    case kStart:
      if (b == '-') return kMinus;
      [[fallthrough]];
    case kMinus:
      if (b == '0') return first(kZero);
      return digit ? first(kInt) : kReject;
    case kInt:
      if (digit) return more(kInt);
      [[fallthrough]];
    case kZero:
      if (integer) return kReject;
      if (b == '.') return kDot;
      return exp ? kExp : kReject;
    case kDot:
      return digit ? first(kFrac) : kReject;
    case kFrac:
      if (digit) return more(kFrac);
      return exp ? kExp : kReject;
    case kExp:
      if (b == '+' || b == '-') return kExpSign;
      [[fallthrough]];
    case kExpSign:
      return digit ? first(kExpDigits) : kReject;
    case kExpDigits:
      return digit ? more(kExpDigits) : kReject;
  }
  return kReject;
}

bool number_final(uint8_t phase) {
  return phase == kZero || phase == kInt || phase == kFrac || phase == kExpDigits;
}

// Narrows [lo, hi), sorted literals that share their first `pos` bytes, to those whose byte at
// `pos` is b. A literal of exactly `pos` bytes sorts first and drops out.
void narrow(const std::vector<std::string>& lits, uint32_t& lo, uint32_t& hi, size_t pos, uint8_t b) {
  const auto first = lits.begin() + lo, last = lits.begin() + hi;
  const auto below = [&](const std::string& s) { return s.size() <= pos || uint8_t(s[pos]) < b; };
  const auto upto = [&](const std::string& s) { return s.size() <= pos || uint8_t(s[pos]) <= b; };
  lo = uint32_t(std::partition_point(first, last, below) - lits.begin());
  hi = uint32_t(std::partition_point(first, last, upto) - lits.begin());
}

// `v` with integral floats as integers (below 2^53, where that is exact), so 1.0 matches 1.
Json normalized(const Json& v) {
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return int64_t(d);
  }
  if (!v.is_structured()) return v;
  Json out = v;
  for (Json& e : out) e = normalized(e);
  return out;
}

// The form in which enum/const values are matched: compact, keys sorted (nlohmann::json keeps
// them so), so that equal JSON values give equal bytes.
std::string literal_text(const Json& v) {
  return nlohmann::json(normalized(v)).dump();
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out += char(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---- a structural validator over the subset, for enum/const filtering and canonical_json ----

// Follows $ref to the schema it names; nullptr where it does not resolve (or loops).
const Json* follow(const Json* s, const Json& root) {
  for (int hop = 0; s && s->is_object() && s->contains("$ref"); ++hop) {
    const Json& ref = (*s)["$ref"];
    if (hop == kMaxRefHops || !ref.is_string() || ref.get<std::string>().rfind('#', 0) != 0) return nullptr;
    try {
      const Json::json_pointer p(percent_decode(ref.get<std::string>().substr(1)));
      s = root.contains(p) ? &root.at(p) : nullptr;
    } catch (const nlohmann::json::exception&) {
      return nullptr;
    }
  }
  return s;
}

bool type_matches(const Json& v, const std::string& t) {
  if (t == "integer")
    return v.is_number_integer() || (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
  return (t == "number" && v.is_number()) || (t == "string" && v.is_string()) || (t == "boolean" && v.is_boolean()) ||
         (t == "null" && v.is_null()) || (t == "object" && v.is_object()) || (t == "array" && v.is_array());
}

// `budget` bounds the $ref/anyOf steps that read no part of `v`: a cycle of them matches nothing.
bool conforms(const Json& v, const Json& schema, const Json& root, int budget = kMaxRefHops) {
  const Json* s = follow(&schema, root);
  if (!s || budget == 0) return false;
  if (s->is_boolean()) return s->get<bool>();
  if (!s->is_object()) return false;
  const Json any = true;
  const auto child = [&](const Json& e, const Json& sub) { return conforms(e, sub, root); };
  if (s->contains("anyOf") && std::none_of((*s)["anyOf"].begin(), (*s)["anyOf"].end(),
                                           [&](const Json& alt) { return conforms(v, alt, root, budget - 1); }))
    return false;
  if (s->contains("const") && literal_text((*s)["const"]) != literal_text(v)) return false;
  if (s->contains("enum") && std::none_of((*s)["enum"].begin(), (*s)["enum"].end(),
                                          [&](const Json& e) { return literal_text(e) == literal_text(v); }))
    return false;
  if (s->contains("type")) {
    const Json& t = (*s)["type"];
    const Json types = t.is_array() ? t : Json::array({t});
    if (std::none_of(types.begin(), types.end(),
                     [&](const Json& n) { return n.is_string() && type_matches(v, n.get<std::string>()); }))
      return false;
  }
  if (v.is_array()) {
    if (v.size() < s->value("minItems", size_t(0)) || v.size() > s->value("maxItems", SIZE_MAX)) return false;
    const Json& items = s->contains("items") ? (*s)["items"] : any;
    return std::all_of(v.begin(), v.end(), [&](const Json& e) { return child(e, items); });
  }
  if (!v.is_object()) return true;
  const Json props = s->value("properties", Json::object());
  const Json additional = s->value("additionalProperties", any);
  for (const Json& r : s->value("required", Json::array()))
    if (!v.contains(r.get<std::string>())) return false;
  for (const auto& [k, e] : v.items())
    if (!child(e, props.contains(k) ? props[k] : additional)) return false;
  return true;
}

// The keys an object schema declares, in the order the grammar expects them.
std::vector<std::string> declared_keys(const Json& schema) {
  std::vector<std::string> keys;
  const Json props = schema.value("properties", Json::object());
  for (const auto& [k, v] : props.items()) keys.push_back(k);
  for (const Json& r : schema.value("required", Json::array()))
    if (r.is_string() && std::find(keys.begin(), keys.end(), r.get<std::string>()) == keys.end())
      keys.push_back(r.get<std::string>());
  return keys;
}

void write_canonical(const Json& v, const Json& schema, const Json& root, std::string& out, int budget) {
  const Json* s = follow(&schema, root);
  if (!s || !s->is_object() || budget == 0) return void(out += normalized(v).dump());
  if (s->contains("anyOf") && (*s)["anyOf"].is_array() && !(*s)["anyOf"].empty()) {
    const Json& alts = (*s)["anyOf"];
    const auto fit = std::find_if(alts.begin(), alts.end(), [&](const Json& alt) { return conforms(v, alt, root); });
    return write_canonical(v, fit == alts.end() ? alts[0] : *fit, root, out, budget - 1);
  }
  if (s->contains("enum") || s->contains("const")) return void(out += literal_text(v));
  const Json any = true;
  if (v.is_array()) {
    const Json& items = s->contains("items") && !(*s)["items"].is_array() ? (*s)["items"] : any;
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      write_canonical(v[i], items, root, out, kMaxRefHops);
    }
    out += ']';
    return;
  }
  if (!v.is_object()) return void(out += normalized(v).dump());
  const Json props = s->value("properties", Json::object());
  const Json additional = s->value("additionalProperties", any);
  const std::vector<std::string> declared = declared_keys(*s);
  std::vector<std::string> order;
  for (const std::string& k : declared)
    if (v.contains(k)) order.push_back(k);
  for (const auto& [k, e] : v.items())
    if (std::find(declared.begin(), declared.end(), k) == declared.end()) order.push_back(k);
  out += '{';
  for (size_t i = 0; i < order.size(); ++i) {
    out += (i ? "," : "") + Json(order[i]).dump() + ":";
    write_canonical(v.at(order[i]), props.contains(order[i]) ? props[order[i]] : additional, root, out, kMaxRefHops);
  }
  out += '}';
}

}  // namespace

struct JsonSchemaGrammar::Program {
  struct Node {
    std::vector<Frame> starts;  // the first frame of each kind of value it accepts
  };
  struct ArraySpec {
    uint32_t items, min, max;
  };
  struct Prop {
    uint32_t node;  // kNone: no value can match, so the key cannot appear
    bool required;
  };
  struct ObjectSpec {
    std::vector<Prop> props;                // declared keys, in order
    uint32_t sorted_lo = 0, sorted_hi = 0;  // literals: the declared keys quoted, sorted
    std::vector<uint32_t> sorted_index;     // [i]: the declared index of sorted key i
    uint32_t additional = kNone;            // the node of other members' values, or none allowed
    std::vector<uint32_t> next_required;    // [j]: the first required key at or after j, or size
  };
  std::vector<Node> nodes;
  std::vector<ArraySpec> arrays;
  std::vector<ObjectSpec> objects;
  std::vector<std::string> literals;
  uint32_t root = 0;
};

namespace {

using Program = JsonSchemaGrammar::Program;

std::string where(const std::string& at) {
  return at.empty() ? "the root" : at;
}

std::string pointer_token(const std::string& key) {
  std::string t;
  for (char ch : key) t += ch == '~' ? "~0" : ch == '/' ? "~1" : std::string(1, ch);
  return t;
}

const std::set<std::string> kAnnotations = {"title",    "description", "$schema", "$id",        "default",
                                            "examples", "$comment",    "$defs",   "definitions"};
const std::set<std::string> kKeywords = {"type",  "properties", "required", "additionalProperties",
                                         "items", "minItems",   "maxItems", "enum",
                                         "const", "anyOf",      "$ref"};

class Compiler {
 public:
  explicit Compiler(const Json& root) : root_(root) {
    null_ = literal_start({"null"});
    bool_ = literal_start({"false", "true"});
    any_ = new_node();
    any_array_ = frame(kArray, uint32_t(p_.arrays.size()));
    p_.arrays.push_back({any_, 0, kNone});
    any_object_ = add_object({}, any_);
    p_.nodes[any_].starts = {null_, bool_, frame(kNumber), frame(kString), any_array_, any_object_};
    empty_ = new_node();
  }

  std::shared_ptr<const Program> build() {
    p_.root = compile(root_, "");
    flatten();
    prune(nonempty());
    return std::make_shared<const Program>(std::move(p_));
  }

 private:
  uint32_t new_node() {
    p_.nodes.emplace_back();
    unions_.emplace_back();
    return uint32_t(p_.nodes.size() - 1);
  }

  void add_literal(std::string text) {
    if (text.size() >= kMaxLiteral) fail(ErrorKind::kUnsupported, "json schema: a key or enum/const value over 64 KiB");
    p_.literals.push_back(std::move(text));
  }

  // The start frame of a value that is one of `texts`, kept sorted for narrow().
  Frame literal_start(std::vector<std::string> texts) {
    std::sort(texts.begin(), texts.end());
    texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
    const uint32_t lo = uint32_t(p_.literals.size());
    for (std::string& t : texts) add_literal(std::move(t));
    return frame(kLiteral, 0, lo, uint32_t(p_.literals.size()));
  }

  // The start frame of objects with these declared keys (name, node, required).
  Frame add_object(const std::vector<std::pair<std::string, Program::Prop>>& props, uint32_t additional) {
    Program::ObjectSpec s;
    s.additional = additional;
    std::vector<std::string> quoted;
    for (const auto& [name, prop] : props) {
      quoted.push_back(Json(name).dump());
      s.props.push_back(prop);
    }
    s.sorted_index.resize(props.size());
    std::iota(s.sorted_index.begin(), s.sorted_index.end(), 0);
    std::sort(s.sorted_index.begin(), s.sorted_index.end(),
              [&](uint32_t x, uint32_t y) { return quoted[x] < quoted[y]; });
    s.sorted_lo = uint32_t(p_.literals.size());
    for (uint32_t j : s.sorted_index) add_literal(quoted[j]);
    s.sorted_hi = uint32_t(p_.literals.size());
    p_.objects.push_back(std::move(s));
    return frame(kObject, uint32_t(p_.objects.size() - 1));
  }

  // Compiles the schema at JSON pointer `at` once; a $ref back into it gets the same node.
  uint32_t compile(const Json& schema, const std::string& at) {
    if (const auto it = memo_.find(at); it != memo_.end()) return it->second;
    const uint32_t id = new_node();
    memo_[at] = id;
    if (schema.is_boolean()) {
      if (schema.get<bool>()) unions_[id].push_back(any_);
      return id;
    }
    if (!schema.is_object())
      fail(ErrorKind::kInput, "json schema: a schema must be an object or a boolean at " + where(at));
    check_keywords(schema, at);
    if (schema.contains("$ref")) {
      alone(schema, "$ref", {}, at);
      const uint32_t target = ref(schema["$ref"], at);  // before indexing: compiling adds nodes
      unions_[id].push_back(target);
    } else if (schema.contains("anyOf")) {
      alone(schema, "anyOf", {}, at);
      const Json& alts = schema["anyOf"];
      if (!alts.is_array() || alts.empty())
        fail(ErrorKind::kInput, "json schema: anyOf must be a non-empty list at " + where(at));
      for (size_t i = 0; i < alts.size(); ++i) {
        const uint32_t alt = compile(alts[i], at + "/anyOf/" + std::to_string(i));
        unions_[id].push_back(alt);
      }
    } else if (schema.contains("enum") || schema.contains("const")) {
      alone(schema, schema.contains("enum") ? "enum" : "const", {"type", "enum", "const"}, at);
      literal_values(schema, at, id);
    } else {
      typed_values(schema, at, id);
    }
    return id;
  }

  void check_keywords(const Json& schema, const std::string& at) {
    for (const auto& [k, v] : schema.items()) {
      if (k == "$id" && !at.empty())
        fail(ErrorKind::kUnsupported, "json schema: unsupported keyword \"$id\" below the root at " + at);
      if (k == "items" && v.is_array())
        fail(ErrorKind::kUnsupported, "json schema: unsupported keyword \"items\" as a list at " + where(at));
      if (!kAnnotations.count(k) && !kKeywords.count(k))
        fail(ErrorKind::kUnsupported, "json schema: unsupported keyword \"" + k + "\" at " + where(at));
    }
  }

  // Refuses constraints beside `keyword` other than `allowed`: they would have to intersect.
  void alone(const Json& schema, const std::string& keyword, const std::set<std::string>& allowed,
             const std::string& at) {
    for (const auto& [k, v] : schema.items())
      if (k != keyword && kKeywords.count(k) && !allowed.count(k))
        fail(ErrorKind::kUnsupported,
             "json schema: unsupported keyword \"" + k + "\" beside \"" + keyword + "\" at " + where(at));
  }

  uint32_t ref(const Json& r, const std::string& at) {
    if (!r.is_string()) fail(ErrorKind::kInput, "json schema: $ref must be a string at " + where(at));
    const std::string text = r.get<std::string>();
    const std::string pointer = percent_decode(text.substr(std::min<size_t>(1, text.size())));
    if (text.empty() || text[0] != '#' || (!pointer.empty() && pointer[0] != '/'))
      fail(ErrorKind::kUnsupported, "json schema: unsupported $ref \"" + text + "\" at " + where(at) +
                                        " (only JSON pointers into the schema, \"#/...\")");
    try {
      const Json::json_pointer p(pointer);
      if (root_.contains(p)) return compile(root_.at(p), pointer);
    } catch (const nlohmann::json::exception&) {}
    fail(ErrorKind::kInput, "json schema: $ref \"" + text + "\" does not resolve at " + where(at));
  }

  void literal_values(const Json& schema, const std::string& at, uint32_t id) {
    if (schema.contains("enum") && !schema["enum"].is_array())
      fail(ErrorKind::kInput, "json schema: enum must be a list at " + where(at));
    type_mask(schema, at);  // checks `type`
    const Json values = schema.contains("const") ? Json::array({schema["const"]}) : schema["enum"];
    std::vector<std::string> texts;
    for (const Json& v : values)
      if (conforms(v, schema, root_)) texts.push_back(literal_text(v));
    if (!texts.empty()) p_.nodes[id].starts.push_back(literal_start(std::move(texts)));
  }

  enum : uint32_t { kNullBit = 1, kBoolBit = 2, kIntBit = 4, kNumBit = 8, kStrBit = 16, kArrBit = 32, kObjBit = 64 };

  uint32_t type_mask(const Json& schema, const std::string& at) {
    if (!schema.contains("type")) return 127;
    const Json& t = schema["type"];
    if (!t.is_string() && !t.is_array())
      fail(ErrorKind::kInput, "json schema: type must be a name or a list at " + where(at));
    static const std::map<std::string, uint32_t> bits = {
        {"null", kNullBit},  {"boolean", kBoolBit}, {"integer", kIntBit}, {"number", kNumBit},
        {"string", kStrBit}, {"array", kArrBit},    {"object", kObjBit}};
    uint32_t mask = 0;
    for (const Json& n : t.is_array() ? t : Json::array({t})) {
      const auto it = n.is_string() ? bits.find(n.get<std::string>()) : bits.end();
      if (it == bits.end()) fail(ErrorKind::kInput, "json schema: unknown type " + n.dump() + " at " + where(at));
      mask |= it->second;
    }
    return mask;
  }

  void typed_values(const Json& schema, const std::string& at, uint32_t id) {
    const uint32_t mask = type_mask(schema, at);
    std::vector<Frame> starts;  // not a reference: compiling items or properties adds nodes
    if (mask & kNullBit) starts.push_back(null_);
    if (mask & kBoolBit) starts.push_back(bool_);
    if (mask & (kNumBit | kIntBit)) starts.push_back(frame(mask & kNumBit ? kNumber : kInteger));
    if (mask & kStrBit) starts.push_back(frame(kString));
    if (mask & kArrBit) starts.push_back(array_values(schema, at));
    if (mask & kObjBit) starts.push_back(object_values(schema, at));
    p_.nodes[id].starts = std::move(starts);
  }

  uint32_t count(const Json& schema, const char* key, uint32_t absent, const std::string& at) {
    if (!schema.contains(key)) return absent;
    const Json& n = schema[key];
    if (!n.is_number_unsigned() && !(n.is_number_integer() && n.get<int64_t>() >= 0))
      fail(ErrorKind::kInput, std::string("json schema: ") + key + " must be a non-negative integer at " + where(at));
    return uint32_t(std::min<uint64_t>(n.get<uint64_t>(), kNone));
  }

  Frame array_values(const Json& schema, const std::string& at) {
    if (!schema.contains("items") && !schema.contains("minItems") && !schema.contains("maxItems")) return any_array_;
    const uint32_t items = schema.contains("items") ? compile(schema["items"], at + "/items") : any_;
    const uint32_t min = count(schema, "minItems", 0, at), max = count(schema, "maxItems", kNone, at);
    p_.arrays.push_back({items, min, max});
    return frame(kArray, uint32_t(p_.arrays.size() - 1));
  }

  Frame object_values(const Json& schema, const std::string& at) {
    const Json& props = schema.contains("properties") ? schema["properties"] : Json::object();
    const Json& required = schema.contains("required") ? schema["required"] : Json::array();
    if (!props.is_object()) fail(ErrorKind::kInput, "json schema: properties must be an object at " + where(at));
    if (!required.is_array() ||
        !std::all_of(required.begin(), required.end(), [](const Json& r) { return r.is_string(); }))
      fail(ErrorKind::kInput, "json schema: required must be a list of names at " + where(at));
    if (props.empty() && required.empty() && !schema.contains("additionalProperties")) return any_object_;
    const uint32_t additional = !schema.contains("additionalProperties") ? any_
                                : schema["additionalProperties"] == false
                                    ? kNone
                                    : compile(schema["additionalProperties"], at + "/additionalProperties");
    std::vector<std::pair<std::string, Program::Prop>> declared;
    for (const std::string& k : declared_keys(schema)) {
      const bool is_required = std::find(required.begin(), required.end(), k) != required.end();
      const uint32_t node = props.contains(k)     ? compile(props[k], at + "/properties/" + pointer_token(k))
                            : additional == kNone ? empty_
                                                  : additional;
      declared.push_back({k, {node, is_required}});
    }
    return add_object(declared, additional);
  }

  // Each node's starts become its own plus those of every node its anyOf/$ref reach.
  void flatten() {
    std::vector<std::vector<Frame>> flat(p_.nodes.size());
    for (size_t n = 0; n < p_.nodes.size(); ++n) {
      std::vector<char> seen(p_.nodes.size(), 0);
      std::vector<uint32_t> todo = {uint32_t(n)};
      while (!todo.empty()) {
        const uint32_t m = todo.back();
        todo.pop_back();
        if (seen[m]++) continue;
        for (const Frame& f : p_.nodes[m].starts)
          if (std::find(flat[n].begin(), flat[n].end(), f) == flat[n].end()) flat[n].push_back(f);
        todo.insert(todo.end(), unions_[m].begin(), unions_[m].end());
      }
    }
    for (size_t n = 0; n < p_.nodes.size(); ++n) p_.nodes[n].starts = std::move(flat[n]);
  }

  bool start_nonempty(const Frame& f, const std::vector<char>& ne) const {
    if (f.kind == kArray) {
      const Program::ArraySpec& s = p_.arrays[f.id];
      return s.min <= s.max && (s.min == 0 || ne[s.items]);
    }
    if (f.kind != kObject) return true;
    const auto& props = p_.objects[f.id].props;
    return std::all_of(props.begin(), props.end(),
                       [&](const Program::Prop& p) { return !p.required || (p.node != kNone && ne[p.node]); });
  }

  // Which nodes match some finite document: the least fixpoint, so that a recursion with no
  // way out (a required child of its own type) matches nothing.
  std::vector<char> nonempty() const {
    std::vector<char> ne(p_.nodes.size(), 0);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t n = 0; n < p_.nodes.size(); ++n) {
        const auto& st = p_.nodes[n].starts;
        if (!ne[n] && std::any_of(st.begin(), st.end(), [&](const Frame& f) { return start_nonempty(f, ne); }))
          ne[n] = changed = true;
      }
    }
    return ne;
  }

  // Removes every way into a value that cannot be finished, so that every accepted prefix can
  // still be completed.
  void prune(const std::vector<char>& ne) {
    for (Program::ArraySpec& s : p_.arrays)
      if (!ne[s.items]) s.max = 0;
    for (Program::ObjectSpec& s : p_.objects) {
      for (Program::Prop& p : s.props)
        if (!ne[p.node]) p.node = kNone;
      if (s.additional != kNone && !ne[s.additional]) s.additional = kNone;
      const uint32_t n = uint32_t(s.props.size());
      s.next_required.assign(n + 1, n);
      for (uint32_t j = n; j-- > 0;) s.next_required[j] = s.props[j].required ? j : s.next_required[j + 1];
    }
    for (Program::Node& node : p_.nodes) {
      auto& st = node.starts;
      st.erase(std::remove_if(st.begin(), st.end(), [&](const Frame& f) { return !start_nonempty(f, ne); }), st.end());
    }
  }

  const Json& root_;
  Program p_;
  std::map<std::string, uint32_t> memo_;       // JSON pointer -> node
  std::vector<std::vector<uint32_t>> unions_;  // node -> nodes whose values it also accepts
  Frame null_, bool_, any_array_, any_object_;
  uint32_t any_ = 0, empty_ = 0;
};

// ---- stepping: one byte through one stack ----

// Feeds `byte` to the stack out[base..end); leaves in its place the stacks that follow, if any.
class Stepper {
 public:
  Stepper(const Program& p, std::vector<Frame>& out, uint8_t byte) : p_(p), out_(out), byte_(byte) {}

  void feed(size_t base) {
    switch (out_.back().kind) {
      case kDoc:
        return whitespace(base);
      case kValue:
        return value(base);
      case kLiteral:
        return literal(base);
      case kMember:
        return member(base);
      case kString:
      case kKey:
        return string(base);
      case kNumber:
      case kInteger:
        return number(base);
      case kArray:
        return array(base);
      case kObject:
        return object(base);
    }
  }

 private:
  void drop(size_t base) { out_.resize(base); }

  // Counts one more whitespace byte on the top frame, or drops the stack at the bound.
  void whitespace(size_t base) {
    Frame& f = out_.back();
    if (is_ws(byte_) && f.c < kJsonMaxWhitespace) {
      ++f.c;
    } else {
      drop(base);
    }
  }

  // Runs alternatives 0..k-1 of the stack at `base`, each on its own copy of it.
  template <typename Alternative>
  void fork(size_t base, size_t k, Alternative&& alt) {
    if (k == 1) return alt(base, 0);
    const std::vector<Frame> stack(out_.begin() + long(base), out_.end());
    drop(base);
    for (size_t i = 0; i < k; ++i) {
      const size_t at = out_.size();
      out_.insert(out_.end(), stack.begin(), stack.end());
      alt(at, i);
    }
  }

  // The value's kind is decided by its first byte that is not whitespace.
  void value(size_t base) {
    if (is_ws(byte_)) return whitespace(base);
    const std::vector<Frame>& starts = p_.nodes[out_.back().id].starts;
    fork(base, starts.size(), [&](size_t at, size_t i) {
      out_.back() = starts[i];
      feed(at);
    });
  }

  void literal(size_t base) {
    const Frame f = out_.back();
    const bool ended = p_.literals[f.a].size() == f.c;
    uint32_t lo = f.a, hi = f.b;
    narrow(p_.literals, lo, hi, f.c, byte_);
    const bool extends = lo < hi;
    fork(base, size_t(extends) + ended, [&](size_t at, size_t i) {
      if (extends && i == 0) {
        Frame& g = out_.back();
        g.a = lo, g.b = hi, ++g.c;
        if (hi - lo == 1 && p_.literals[lo].size() == g.c) out_.pop_back();  // read whole, nothing longer
        return;
      }
      out_.pop_back();  // the literal ended before this byte, which belongs to the parent
      feed(at);
    });
  }

  void string(size_t base) {
    Frame& f = out_.back();
    const uint8_t next = string_next(f.phase, byte_, f.kind == kKey);
    if (next == kReject) return drop(base);
    if (f.kind == kKey && f.a < f.b) {  // still a prefix of some declared key
      narrow(p_.literals, f.a, f.b, f.c, byte_);
      if (next == kClosed && f.a < f.b && p_.literals[f.a].size() == size_t(f.c) + 1) return drop(base);
      f.c = f.a < f.b ? f.c + 1 : 0;
      if (f.a == f.b) f.a = f.b = 0;  // so that stacks past every declared key compare equal
    }
    if (next == kClosed) return out_.pop_back();
    f.phase = next;
  }

  void number(size_t base) {
    Frame& f = out_.back();
    uint16_t digits = f.c;
    const uint8_t next = number_next(f.phase, byte_, f.kind == kInteger, digits);
    if (next != kReject) {
      f.phase = next, f.c = digits;
      return;
    }
    if (!number_final(f.phase)) return drop(base);
    out_.pop_back();  // the number ended before this byte
    feed(base);
  }

  // The stack holds its document frame and one frame per open container, this one included.
  bool too_deep(size_t base) const { return out_.size() - base > size_t(kJsonMaxDepth) + 1; }

  void open(size_t base, char bracket) {
    Frame& f = out_.back();
    if (byte_ != uint8_t(bracket) || too_deep(base)) return drop(base);
    f.phase = kFirst;
  }

  // Opens the next item (or member value) of the container on top.
  void push_value(uint32_t node) { out_.push_back(frame(kValue, node)); }

  void array(size_t base) {
    Frame& f = out_.back();
    const Program::ArraySpec& s = p_.arrays[f.id];
    if (f.phase == kOpen) return open(base, '[');
    if (is_ws(byte_)) return whitespace(base);
    if (byte_ == ']' && (f.phase == kFirst ? s.min == 0 : f.a >= s.min)) return out_.pop_back();
    if (f.phase == kFirst && s.max > 0) {  // this byte starts the first item
      f.a = 1, f.c = 0, f.phase = kAfterItem;
      push_value(s.items);
      return feed(base);
    }
    if (f.phase != kAfterItem || byte_ != ',' || f.a >= s.max) return drop(base);
    ++f.a, f.c = 0;
    push_value(s.items);
  }

  void object(size_t base) {
    Frame& f = out_.back();
    const Program::ObjectSpec& s = p_.objects[f.id];
    const bool may_close = s.next_required[f.a] == s.props.size();
    if (f.phase == kOpen) return open(base, '{');
    if (is_ws(byte_)) return whitespace(base);
    if (byte_ == '}' && may_close && (f.phase == kFirst || f.phase == kAfterItem)) return out_.pop_back();
    if (byte_ == '"' && (f.phase == kFirst || f.phase == kAfterComma)) return key(base, s);
    if (byte_ == ',' && f.phase == kAfterItem) {
      f.phase = kAfterComma, f.c = 0;
      return;
    }
    if (byte_ != ':' || f.phase != kAfterKey) return drop(base);
    f.phase = kAfterItem, f.c = 0;
    push_value(f.b);
  }

  // The declared keys that may come next: from the next one up to the next required one.
  static uint32_t window_end(const Program::ObjectSpec& s, uint32_t from) {
    return std::min(s.next_required[from] + 1, uint32_t(s.props.size()));
  }

  // The declared key of sorted literal i, if it may come next and can have a value.
  static uint32_t candidate(const Program::ObjectSpec& s, uint32_t from, uint32_t i) {
    const uint32_t j = s.sorted_index[i - s.sorted_lo];
    return j >= from && j < window_end(s, from) && s.props[j].node != kNone ? j : kNone;
  }

  // A key starts: a declared one that may come next, or, when no required key is left,
  // another key.
  void key(size_t base, const Program::ObjectSpec& s) {
    const uint32_t n = uint32_t(s.props.size()), from = out_.back().a;
    bool declared = false;
    for (uint32_t i = s.sorted_lo; i < s.sorted_hi && !declared; ++i) declared = candidate(s, from, i) != kNone;
    const bool other = s.next_required[from] == n && s.additional != kNone;
    fork(base, size_t(declared) + other, [&](size_t at, size_t i) {
      Frame& obj = out_.back();
      obj.phase = kAfterKey, obj.c = 0;
      if (declared && i == 0) {
        out_.push_back(frame(kMember, 0, s.sorted_lo, s.sorted_hi));
      } else {
        obj.a = n, obj.b = s.additional;
        out_.push_back(n ? frame(kKey, 0, s.sorted_lo, s.sorted_hi) : frame(kString));
      }
      feed(at);
    });
  }

  // A declared key is being read, all candidates at once: [a, b) are the sorted keys that
  // match its first c bytes. Once one is read whole, the object below learns which it was.
  void member(size_t base) {
    Frame& f = out_.back();
    const Frame& obj = out_[out_.size() - 2];
    const Program::ObjectSpec& s = p_.objects[obj.id];
    narrow(p_.literals, f.a, f.b, f.c, byte_);
    ++f.c;
    uint32_t j = kNone;
    for (uint32_t i = f.a; i < f.b && j == kNone; ++i) j = candidate(s, obj.a, i);
    if (j == kNone) return drop(base);
    if (f.b - f.a > 1 || p_.literals[f.a].size() > f.c) return;
    out_.pop_back();
    out_.back().a = j + 1, out_.back().b = s.props[j].node;
  }

  const Program& p_;
  std::vector<Frame>& out_;
  const uint8_t byte_;
};

// Calls fn(begin, end) for each stack; every stack starts with its document frame.
template <typename Fn>
void for_each_stack(const std::vector<Frame>& frames, Fn&& fn) {
  for (size_t i = 0; i < frames.size();) {
    size_t j = i + 1;
    while (j < frames.size() && frames[j].kind != kDoc) ++j;
    fn(i, j);
    i = j;
  }
}

// Drops stacks equal to an earlier one; returns how many remain.
size_t dedupe(std::vector<Frame>& frames) {
  std::vector<std::pair<size_t, size_t>> spans;
  for_each_stack(frames, [&](size_t b, size_t e) { spans.emplace_back(b, e); });
  if (spans.size() < 2) return spans.size();
  std::vector<Frame> kept;
  std::vector<std::pair<size_t, size_t>> unique;
  for (const auto& span : spans) {
    const size_t b = span.first, e = span.second;
    const auto same = [&](const std::pair<size_t, size_t>& u) {
      return u.second - u.first == e - b &&
             std::equal(frames.begin() + long(b), frames.begin() + long(e), frames.begin() + long(u.first));
    };
    if (std::any_of(unique.begin(), unique.end(), same)) continue;
    unique.emplace_back(b, e);
    kept.insert(kept.end(), frames.begin() + long(b), frames.begin() + long(e));
  }
  if (unique.size() < spans.size()) frames.swap(kept);
  return unique.size();
}

}  // namespace

size_t JsonSchemaGrammar::State::alternatives() const {
  return size_t(std::count_if(frames_.begin(), frames_.end(), [](const Frame& f) { return f.kind == kDoc; }));
}

JsonSchemaGrammar JsonSchemaGrammar::compile(const nlohmann::ordered_json& schema) {
  return JsonSchemaGrammar(Compiler(schema).build());
}

JsonSchemaGrammar JsonSchemaGrammar::any_object() {
  return compile(Json{{"type", "object"}});
}

JsonSchemaGrammar::State JsonSchemaGrammar::start() const {
  State s;
  if (!program_->nodes[program_->root].starts.empty()) s.frames_ = {frame(kDoc), frame(kValue, program_->root)};
  return s;
}

bool JsonSchemaGrammar::step(const std::vector<Frame>& from, std::vector<Frame>& to, unsigned char byte) const {
  to.clear();
  for_each_stack(from, [&](size_t b, size_t e) {
    const size_t base = to.size();
    to.insert(to.end(), from.begin() + long(b), from.begin() + long(e));
    Stepper(*program_, to, byte).feed(base);
  });
  const size_t alive = dedupe(to);
  return alive > 0 && alive <= kJsonMaxAlternatives;
}

bool JsonSchemaGrammar::accept(State& s, unsigned char byte) const {
  std::vector<Frame> next;
  if (!step(s.frames_, next, byte)) return false;
  s.frames_.swap(next);
  return true;
}

bool JsonSchemaGrammar::accept(State& s, std::string_view bytes) const {
  std::vector<Frame> cur = s.frames_, next;
  for (char ch : bytes) {
    if (!step(cur, next, uint8_t(ch))) return false;
    cur.swap(next);
  }
  s.frames_.swap(cur);
  return true;
}

bool JsonSchemaGrammar::complete(const State& s) const {
  return complete(s.frames_);
}

bool JsonSchemaGrammar::complete(const std::vector<Frame>& frames) const {
  bool done = false;
  for_each_stack(frames, [&](size_t b, size_t e) {
    if (e - b == 1) done = true;
    if (e - b != 2) return;
    const Frame& top = frames[e - 1];
    if (top.kind == kLiteral && program_->literals[top.a].size() == top.c) done = true;
    if ((top.kind == kNumber || top.kind == kInteger) && number_final(top.phase)) done = true;
  });
  return done;
}

bool JsonSchemaGrammar::dead_end(const State& s) const {
  return s.frames_.empty();
}

size_t JsonSchemaGrammar::completion_length(const State& s, size_t limit) const {
  // Frames are 16 bytes without padding, and unused fields stay zero: equal parses, equal keys.
  const auto key = [](const std::vector<Frame>& f) {
    return std::string(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(Frame));
  };
  const std::string start = key(s.frames_);
  if (const auto found = completion_memo_.find(start); found != completion_memo_.end())
    return std::min(found->second, limit + 1);
  std::vector<std::vector<Frame>> level = {s.frames_}, next;
  std::unordered_set<std::string> seen = {start};
  for (size_t depth = 0; depth <= limit && !level.empty(); ++depth) {
    for (const std::vector<Frame>& f : level)
      if (complete(f)) return completion_memo_[start] = depth;
    next.clear();
    for (const std::vector<Frame>& f : level)
      for (int byte = 0; byte < 256; ++byte) {
        std::vector<Frame> to;
        if (step(f, to, static_cast<unsigned char>(byte)) && seen.insert(key(to)).second) next.push_back(std::move(to));
      }
    level.swap(next);
  }
  return limit + 1;
}

std::string canonical_json(const nlohmann::ordered_json& instance, const nlohmann::ordered_json& schema) {
  std::string out;
  write_canonical(instance, schema, schema, out, kMaxRefHops);
  return out;
}

}  // namespace bespoke::text
