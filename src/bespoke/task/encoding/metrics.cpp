#include "bespoke/task/encoding/metrics.h"

#include <cmath>
#include <map>

#include "bespoke/task/encoding/entities.h"
#include "bespoke/task/encoding/python_json.h"
#include "bespoke/text/utf8.h"

namespace bespoke::task::encoding {
namespace {

const char* const kEchoPhrases[] = {"under 60 characters",
                                    "under 80 characters",
                                    "under 100 characters",
                                    "what happened and why it matters",
                                    "what happened in under",
                                    "the key details someone would need",
                                    "the story of what happened",
                                    "3-5 keywords",
                                    "extract topics, entities, actions",
                                    "one of routine, notable",
                                    "one of neutral, satisfying",
                                    "one of success, failure",
                                    "brief description of the result",
                                    "fill in every json field",
                                    "encode this event into memory",
                                    "read the content below",
                                    "keyword strings",
                                    "prefer exact terms from the vocabulary"};

const char* const kSchemaWords[] = {
    "gist",    "summary",  "content", "narrative", "concepts",     "structured_concepts",
    "topics",  "entities", "actions", "causality", "significance", "emotional_tone",
    "outcome", "salience", "label",   "path",      "name",         "type",
    "context", "verb",     "object",  "details",   "relation",     "description"};

std::string without_commas(const std::string& s) {
  return text::replace_all(s, ",", "");
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Found as written (lower-cased by the caller where the metric ignores case), or with commas
// removed from both sides.
bool found(const std::string& entity, const std::string& text, const std::string& text_no_commas) {
  return contains(text, entity) || contains(text_no_commas, without_commas(entity));
}

// The output's prose: the string values of gist, summary, content, narrative and outcome.
std::string prose(const Json& output) {
  std::string out;
  bool first = true;
  for (const char* field : {"gist", "summary", "content", "narrative", "outcome"}) {
    if (!output.contains(field) || !output[field].is_string()) continue;
    out += (first ? "" : " ") + output[field].get<std::string>();
    first = false;
  }
  return out;
}

// Python's len() of a string or list value; -1 where the scorer would raise.
int64_t length(const Json& v) {
  if (v.is_string()) return static_cast<int64_t>(code_points(v.get<std::string>()));
  if (v.is_array() || v.is_object()) return static_cast<int64_t>(v.size());
  return -1;
}

}  // namespace

ItemMetrics score_item(const std::string& input, const Json& output) {
  ItemMetrics m;
  m.sc = schema_compliant(output);

  const std::string dump = python_dumps(output, /*ensure_ascii=*/false);
  const std::string dump_lower = python_lower(dump), dump_lower_nc = without_commas(dump_lower);
  const std::set<std::string> entities = extract_entities(input);
  for (const std::string& e : entities)
    if (!found(python_lower(e), dump_lower, dump_lower_nc)) m.missing.push_back(e);
  m.epr = entities.empty() ? 1.0 : static_cast<double>(entities.size() - m.missing.size()) / entities.size();

  const std::set<std::string> produced = extract_entities(prose(output));
  const std::string input_lower = python_lower(input), input_lower_nc = without_commas(input_lower);
  for (const std::string& e : produced)
    if (!found(python_lower(e), input_lower, input_lower_nc)) m.fabricated.push_back(e);
  m.entities_out = static_cast<int64_t>(produced.size());
  m.fr = produced.empty() ? 0.0 : static_cast<double>(m.fabricated.size()) / produced.size();

  const std::set<std::string> numbers = extract_numbers(input);
  const std::string dump_nc = without_commas(dump);
  for (const std::string& n : numbers)
    if (!found(n, dump, dump_nc)) m.missing_numbers.push_back(n);
  m.np = numbers.empty() ? 1.0 : static_cast<double>(numbers.size() - m.missing_numbers.size()) / numbers.size();

  const std::string ascii_lower = python_lower(python_dumps(output, /*ensure_ascii=*/true));
  for (const char* phrase : kEchoPhrases)
    if (contains(ascii_lower, phrase)) m.echoed.push_back(phrase);
  m.ted = !m.echoed.empty();
  return m;
}

double ccs(const Json& a, const Json& b) {
  const std::vector<std::string> words_a = words(python_lower(python_dumps(a, false)));
  const std::vector<std::string> words_b = words(python_lower(python_dumps(b, false)));
  std::map<std::string, std::pair<int64_t, int64_t>> counts;
  for (const std::string& w : words_a) ++counts[w].first;
  for (const std::string& w : words_b) ++counts[w].second;
  if (counts.empty()) return 1.0;
  for (const char* key : kSchemaWords) counts.erase(key);
  // Integer sums, as the scorer's are: exact in any order.
  int64_t dot = 0, norm_a = 0, norm_b = 0;
  for (const auto& [w, c] : counts) {
    dot += c.first * c.second;
    norm_a += c.first * c.first;
    norm_b += c.second * c.second;
  }
  const double mag_a = std::sqrt(static_cast<double>(norm_a)), mag_b = std::sqrt(static_cast<double>(norm_b));
  if (mag_a == 0 || mag_b == 0) return 0.0;
  return static_cast<double>(dot) / (mag_a * mag_b);
}

bool mih(const Json& output) {
  const Json salience = output.contains("salience") ? output["salience"] : Json(1.0);
  if (!salience.is_number() && !salience.is_boolean()) return false;
  if ((salience.is_boolean() ? salience.get<bool>() : salience.get<double>()) >= 0.4) return false;
  const int64_t content = output.contains("content") ? length(output["content"]) : 0;
  const int64_t narrative = output.contains("narrative") ? length(output["narrative"]) : 0;
  return content >= 0 && content <= 150 && narrative >= 0 && narrative <= 200;
}

}  // namespace bespoke::task::encoding
