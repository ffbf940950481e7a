#include "bespoke/task/encoding/evaluate.h"

#include "bespoke/task/encoding/extract.h"
#include "bespoke/task/encoding/report.h"
#include "bespoke/task/encoding/stress.h"

namespace bespoke::task::encoding {

Json evaluate(const std::vector<Item>& items, const Respond& respond, const EvalOptions& options) {
  const size_t total = items.size() + (options.stress ? stress_cases().size() : 0);
  size_t answered = 0;
  const auto ask = [&](const std::vector<text::ChatMessage>& messages) {
    std::string raw = respond(messages);
    if (options.progress) options.progress(++answered, total);
    return raw;
  };
  std::vector<std::string> raw;
  std::vector<std::optional<Json>> parsed;
  for (const Item& item : items) {
    raw.push_back(ask(prompt_messages(options.prompt, item.raw_input, item.source, item.type)));
    parsed.push_back(extract_json(raw.back()));
  }
  Json report = score_report(items, parsed);
  for (size_t i = 0; i < items.size(); ++i) report["items"][i]["output"] = raw[i];
  if (options.stress) {
    std::vector<std::optional<Json>> answers;
    for (const StressCase& c : stress_cases()) answers.push_back(extract_json(ask(stress_messages(c))));
    report["stress"] = score_stress(answers);
  }
  return report;
}

Json headline(const Json& report) {
  const Json& m = report["metrics"];
  return {{"n", report["n"]}, {"valid_json", report["valid_json"]}, {"epr", m["epr"]},
          {"np", m["np"]},    {"fr_pooled", m["fr_pooled"]},        {"sc", m["sc"]}};
}

Json model_headline(const std::string& model_dir, const std::string& items_path, int64_t n, int64_t max_new_tokens,
                    const std::string& prompt_template, const model::LoadOptions& load) {
  std::vector<Item> items = load_items(items_path);
  if (static_cast<int64_t>(items.size()) > n) items.resize(n);
  EvalOptions options;
  if (!prompt_template.empty()) options.prompt = PromptTemplate::from_file(prompt_template);
  options.stress = false;
  return headline(evaluate(items, local_responder({model_dir, max_new_tokens, true, load}), options));
}

}  // namespace bespoke::task::encoding
