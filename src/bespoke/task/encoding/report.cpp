#include "bespoke/task/encoding/report.h"

#include "bespoke/core/error.h"
#include "bespoke/task/encoding/metrics.h"

namespace bespoke::task::encoding {
namespace {

// Sums over the parseable items in id order; null where there are none.
struct Averages {
  int64_t n = 0, valid = 0, ted = 0, sc = 0, fabricated = 0, entities_out = 0;
  double epr = 0, fr = 0, np = 0;
  void add(const ItemMetrics& m) {
    ++valid;
    epr += m.epr;
    fr += m.fr;
    fabricated += static_cast<int64_t>(m.fabricated.size());
    entities_out += m.entities_out;
    np += m.np;
    ted += m.ted;
    sc += m.sc;
  }
  Json mean(double sum) const { return valid ? Json(sum / static_cast<double>(valid)) : Json(); }
  // FR over all records' entities at once. The per-record mean counts a record that names no
  // entity as faithful, so a model that writes nothing scores best; pooled, it does not.
  Json pooled_fr() const {
    if (!valid) return Json();
    return entities_out ? Json(static_cast<double>(fabricated) / static_cast<double>(entities_out)) : Json(0.0);
  }
};

Json item_entry(const Item& item, const std::optional<ItemMetrics>& m, const std::optional<bool>& minimal) {
  Json e = {{"id", item.id}, {"category", item.category}, {"valid_json", m.has_value()}};
  if (!m) return e;
  e["epr"] = m->epr;
  e["fr"] = m->fr;
  e["entities_out"] = m->entities_out;
  e["np"] = m->np;
  e["ted"] = m->ted;
  e["sc"] = m->sc;
  if (minimal) e["mih"] = *minimal;
  e["missing"] = m->missing;
  e["fabricated"] = m->fabricated;
  e["missing_numbers"] = m->missing_numbers;
  e["echoed"] = m->echoed;
  return e;
}

}  // namespace

Json score_report(const std::vector<Item>& items, const std::vector<std::optional<Json>>& outputs) {
  if (items.size() != outputs.size()) fail(ErrorKind::kInternal, "score_report: one output per item");
  Averages all, dense;
  std::map<std::string, Averages> by_category;
  int64_t mih_pass = 0, mih_total = 0;
  Json entries = Json::array();
  // Twin pairs in the order their first member comes; each member's output, if parseable.
  std::vector<std::string> pair_order;
  std::map<std::string, std::vector<size_t>> pair_members;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    ++all.n;
    ++by_category[item.category].n;
    if (item.role() == Role::kTwin) {
      if (!pair_members.count(item.pair)) pair_order.push_back(item.pair);
      pair_members[item.pair].push_back(i);
    }
    if (!outputs[i]) {
      entries.push_back(item_entry(item, std::nullopt, std::nullopt));
      continue;
    }
    const ItemMetrics m = score_item(item.raw_input, *outputs[i]);
    all.add(m);
    by_category[item.category].add(m);
    if (item.role() == Role::kDenseNumbers) dense.add(m);
    std::optional<bool> minimal;
    if (item.role() == Role::kMinimal) {
      minimal = mih(*outputs[i]);
      ++mih_total;
      mih_pass += *minimal;
    }
    entries.push_back(item_entry(item, m, minimal));
  }

  Json pairs = Json::array();
  int64_t ccs_pass = 0;
  for (const std::string& name : pair_order) {
    const std::vector<size_t>& members = pair_members[name];
    Json pair = {{"pair", name}, {"ids", Json::array()}};
    for (size_t i : members) pair["ids"].push_back(items[i].id);
    // A pair is scored only when it has exactly two members, both parseable.
    if (members.size() != 2 || !outputs[members[0]] || !outputs[members[1]]) {
      pair["ccs"] = nullptr;
      pairs.push_back(pair);
      continue;
    }
    const double score = ccs(*outputs[members[0]], *outputs[members[1]]);
    pair["ccs"] = score;
    pair["pass"] = score < 0.7;
    ccs_pass += score < 0.7;
    pairs.push_back(pair);
  }
  int64_t ccs_pairs = 0;
  for (const Json& p : pairs) ccs_pairs += !p["ccs"].is_null();

  Json report;
  report["n"] = all.n;
  report["valid_json"] = all.valid;
  Json metrics;
  metrics["epr"] = all.mean(all.epr);
  metrics["fr"] = all.mean(all.fr);
  metrics["fr_pooled"] = all.pooled_fr();
  metrics["entities_out"] = all.entities_out;
  metrics["ted_failures"] = all.ted;
  metrics["ccs_pass"] = ccs_pass;
  metrics["ccs_pairs"] = ccs_pairs;
  metrics["mih_pass"] = mih_pass;
  metrics["mih_total"] = mih_total;
  metrics["np"] = all.mean(all.np);
  metrics["np_dense"] = dense.valid ? dense.mean(dense.np) : Json(0.0);
  metrics["np_dense_n"] = dense.valid;  // 0: nothing to measure (the scorer still writes 0.0)
  metrics["sc"] = all.mean(static_cast<double>(all.sc));
  metrics["sc_pass"] = all.sc;
  report["metrics"] = metrics;
  // The scorer's exit rule: EPR >= 0.90, FR <= 0.05, no template echo, every record compliant.
  Json failed = Json::array();
  if (!all.valid)
    failed.push_back("no parseable output");
  else {
    if (metrics["epr"].get<double>() < 0.9) failed.push_back("epr");
    if (metrics["fr"].get<double>() > 0.05) failed.push_back("fr");
    if (all.ted) failed.push_back("ted");
    if (all.sc != all.valid) failed.push_back("sc");
  }
  report["verdict"] = {{"pass", failed.empty()}, {"failed", failed}};
  Json per_category = Json::object();
  for (const auto& [name, a] : by_category)
    per_category[name] = {{"n", a.n},
                          {"valid_json", a.valid},
                          {"epr", a.mean(a.epr)},
                          {"fr", a.mean(a.fr)},
                          {"np", a.mean(a.np)},
                          {"sc", a.mean(static_cast<double>(a.sc))},
                          {"ted_failures", a.ted}};
  report["per_category"] = per_category;
  report["pairs"] = pairs;
  report["items"] = entries;
  report["stress"] = nullptr;
  return report;
}

Json evaluate_predictions(const std::vector<Item>& items,
                          const std::map<std::string, std::optional<Json>>& predictions) {
  std::vector<std::optional<Json>> outputs;
  for (const Item& item : items) {
    const auto it = predictions.find(id_key(item.id));
    outputs.push_back(it == predictions.end() ? std::nullopt : it->second);
  }
  return score_report(items, outputs);
}

}  // namespace bespoke::task::encoding
