#include "bespoke/task/encoding/generator.h"

#include <string_view>
#include <utility>

#include "bespoke/task/encoding/python_json.h"
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding {
namespace {

using samples::Rng;
using samples::Sample;
using samples::Template;

constexpr size_t kTwinCategory = 3;
static_assert(std::string_view(kCategories[kTwinCategory]) == "adversarial-twin");
using Templates = const std::vector<Template>& (*)();
// Per category, in kCategories order; twins are built in pairs apart from these.
constexpr Templates kTemplates[] = {samples::developer_templates,      samples::stack_trace_templates,
                                    samples::out_of_domain_templates,  nullptr,
                                    samples::minimal_templates,        samples::dense_number_templates,
                                    samples::people_templates,         samples::foreign_templates,
                                    samples::code_templates,           samples::handoff_templates,
                                    samples::self_correction_templates};
constexpr size_t kCategoryCount = sizeof kTemplates / sizeof kTemplates[0];
static_assert(kCategoryCount == sizeof kCategories / sizeof kCategories[0]);
// Units per block of 40 records (a twin unit is a pair): about a third developer notes, then
// out-of-domain prose, and the rest as mnemonic's v7 mix suggests.
constexpr int kBlockUnits[kCategoryCount] = {14, 3, 6, 2, 3, 3, 2, 2, 1, 1, 1};

// One block's categories: one of each first, so short runs cover every category, then the rest.
std::vector<size_t> block_plan(Rng& r) {
  std::vector<size_t> head, tail;
  for (size_t c = 0; c < kCategoryCount; ++c) {
    head.push_back(c);
    for (int i = 1; i < kBlockUnits[c]; ++i) tail.push_back(c);
  }
  r.shuffle(head);
  r.shuffle(tail);
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// Draws indices in shuffled rounds, so every template of a category appears before any repeats.
class Deck {
 public:
  explicit Deck(size_t size) : size_(size) {}
  size_t next(Rng& r) {
    if (order_.empty()) {
      for (size_t i = 0; i < size_; ++i) order_.push_back(i);
      r.shuffle(order_);
    }
    const size_t i = order_.back();
    order_.pop_back();
    return i;
  }

 private:
  size_t size_;
  std::vector<size_t> order_;
};

Json make_record(int64_t id, const char* category, const Sample& s, const PromptTemplate& prompt,
                 const std::string& pair = "", const std::string& side = "") {
  const Json gold = samples::gold_record(s);
  Json record = Json::object();
  record["id"] = id;
  record["raw_input"] = s.input;
  record["source"] = s.source;
  record["type"] = s.type;
  record["category"] = category;
  if (!pair.empty()) {
    record["pair"] = pair;
    record["side"] = side;
  }
  record["gold_output"] = gold;
  record["domain"] = category;
  Json messages = Json::array();
  for (const text::ChatMessage& m : prompt_messages(prompt, s.input, s.source, s.type))
    messages.push_back(Json::object({{"role", m.role}, {"content", m.content}}));
  messages.push_back(Json::object({{"role", "assistant"}, {"content", python_dumps(gold, /*ensure_ascii=*/false)}}));
  record["messages"] = std::move(messages);
  return record;
}

}  // namespace

std::vector<Json> generate_encoding_records(const GeneratorOptions& options, const PromptTemplate& prompt) {
  Rng r(options.seed);
  std::vector<Deck> decks;
  for (const Templates templates : kTemplates)
    decks.emplace_back(templates ? templates().size() : samples::twin_topic_count());
  std::vector<Json> out;
  std::vector<size_t> plan;
  size_t next = 0;
  int64_t pairs = 0;
  while (static_cast<int64_t>(out.size()) < options.n) {
    if (next == plan.size()) {
      plan = block_plan(r);
      next = 0;
    }
    size_t category = plan[next++];
    const int64_t id = static_cast<int64_t>(out.size()) + 1;
    if (category == kTwinCategory && id < options.n) {
      const samples::TwinPair twin = samples::twins(r, decks[category].next(r));
      const std::string pair = twin.slug + "-" + std::to_string(++pairs);
      out.push_back(make_record(id, kCategories[category], twin.a, prompt, pair, "A"));
      out.push_back(make_record(id + 1, kCategories[category], twin.b, prompt, pair, "B"));
      continue;
    }
    if (category == kTwinCategory) category = 0;  // one slot left: a pair never splits
    const std::vector<Template>& templates = kTemplates[category]();
    out.push_back(make_record(id, kCategories[category], templates[decks[category].next(r)](r), prompt));
  }
  return out;
}

}  // namespace bespoke::task::encoding
