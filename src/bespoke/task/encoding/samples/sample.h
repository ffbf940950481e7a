// The pieces the encoding generator's categories share: the random source, the number and text
// helpers, one memory with the facts of its gold record, the slot values several categories draw
// from, and each category's templates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding::samples {

// Draws come from mt19937_64, whose sequence the standard fixes, and are mapped to ranges by
// our own arithmetic: the standard distributions differ between library implementations.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // In [0, n); the modulo bias is below n / 2^64.
  size_t below(size_t n) { return static_cast<size_t>(engine_() % n); }
  int64_t between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<size_t>(hi - lo + 1))); }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }

  template <typename T>
  T pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }
  // `k` distinct elements of `v`.
  template <typename T>
  std::vector<T> sample(std::vector<T> v, size_t k) {
    shuffle(v);
    v.resize(k);
    return v;
  }

 private:
  std::mt19937_64 engine_;
};

// 1247503 -> "1,247,503".
std::string grouped(int64_t v);

// A non-negative count of 10^-places units as a decimal, (1247, 1) -> "124.7": numbers are
// drawn as integers so that no platform's float formatting reaches the text.
std::string fixed(int64_t scaled, int places);

std::string num(Rng& r, int64_t lo, int64_t hi);
std::string big(Rng& r, int64_t lo, int64_t hi);
std::string dec(Rng& r, int64_t lo, int64_t hi, int places = 1);

// Fills each "{lo-hi}" slot of `t` with an integer in [lo, hi]; "{lo-hi,}" groups thousands
// and "{lo-hi.N}" reads the bounds in units of 10^-N and writes N decimals.
std::string expand(Rng& r, const std::string& t);

std::string capitalised(std::string s);
std::string lowered(std::string s);
std::string basename(const std::string& path);

// The first option that fits the gist limit; the last one is written to always fit.
std::string fit(std::initializer_list<std::string> options);

// One raw memory and the facts its gold record states. The wording rules that keep the gold
// faithful under mnemonic's entity extraction, which reads gist, summary, content, narrative
// and outcome joined by spaces: they name only numbers, paths and names of the input; a
// capitalised word that does not open a sentence is one of the input's names; a summary opens
// with a word of the input and a narrative with "A" or "An", so no new capitalised word or
// run of them forms where two fields meet.
struct Sample {
  std::string input;
  std::string source = "mcp", type = "general";
  std::string gist, summary, content, narrative;  // an empty content is the input itself
  std::vector<std::string> concepts;
  Json topics = Json::array(), entities = Json::array(), actions = Json::array(), causality = Json::array();
  std::string significance = "routine", tone = "neutral", outcome = "unknown";
  int salience = 50;  // hundredths, so the JSON number prints the same everywhere

  void topic(const std::string& label, const std::string& path) {
    topics.push_back(Json::object({{"label", label}, {"path", path}}));
  }
  void entity(const std::string& name, const std::string& kind, const std::string& context) {
    entities.push_back(Json::object({{"name", name}, {"type", kind}, {"context", context}}));
  }
  void action(const std::string& verb, const std::string& object, const std::string& details) {
    actions.push_back(Json::object({{"verb", verb}, {"object", object}, {"details", details}}));
  }
  void cause(const std::string& relation, const std::string& description) {
    causality.push_back(Json::object({{"relation", relation}, {"description", description}}));
  }
  void enums(const char* sig, const char* emotional_tone, const char* result, int salience_hundredths) {
    significance = sig;
    tone = emotional_tone;
    outcome = result;
    salience = salience_hundredths;
  }
};

// The gold record of `s`, keys in the schema's order.
Json gold_record(const Sample& s);

// Slot values several categories draw from.
extern const std::vector<std::string> kPeople;

struct GoSite {
  std::string file, function, area;
};
extern const std::vector<GoSite> kGoSites;

struct PySite {
  std::string file, function;
};
extern const std::vector<PySite> kPySites;

extern const std::vector<std::string> kServices, kHosts, kMonths, kSurnames;

std::string line_no(Rng& r);
std::string version(Rng& r);

// One memory drawn from the rng; each category keeps a list of them, and the mix draws every
// template of a category before it repeats one.
using Template = Sample (*)(Rng&);

const std::vector<Template>& developer_templates();
const std::vector<Template>& stack_trace_templates();
const std::vector<Template>& out_of_domain_templates();
const std::vector<Template>& minimal_templates();
const std::vector<Template>& dense_number_templates();
const std::vector<Template>& people_templates();
const std::vector<Template>& foreign_templates();
const std::vector<Template>& code_templates();
const std::vector<Template>& handoff_templates();
const std::vector<Template>& self_correction_templates();

// Adversarial twins are drawn by topic instead, both sides of a pair from one: side A picks the
// topic's first option, side B the second.
struct TwinPair {
  std::string slug;  // the topic's
  Sample a, b;
};
size_t twin_topic_count();
TwinPair twins(Rng& r, size_t topic);

}  // namespace bespoke::task::encoding::samples
