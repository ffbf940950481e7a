#include "bespoke/prune/target.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <sstream>

#include "bespoke/core/error.h"
#include "bespoke/model/tensor_table.h"
#include "bespoke/prune/depth.h"

namespace bespoke::prune {
namespace {

// `k` of `from`, drawn without replacement, ascending.
std::vector<int64_t> draw(std::vector<int64_t> from, int64_t k, std::mt19937_64& rng) {
  std::shuffle(from.begin(), from.end(), rng);
  from.resize(k);
  std::sort(from.begin(), from.end());
  return from;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

[[noreturn]] void bad(const std::string& key, const std::string& why) {
  fail(ErrorKind::kInput, "target " + key + ": " + why);
}

}  // namespace

HeadCut head_cut(const model::LayerSpec& l, const Target& t) {
  if (l.kind == model::LayerKind::kLinearAttention)
    return {t.value_heads ? t.value_heads : l.deltanet.value_heads, t.key_heads ? t.key_heads : l.deltanet.key_heads,
            "value_heads", "key_heads"};
  if (l.window == 0 && (t.global_heads || t.global_kv_heads))
    return {t.global_heads ? t.global_heads
            : t.heads      ? t.heads
                           : l.n_heads,
            t.global_kv_heads ? t.global_kv_heads
            : t.kv_heads      ? t.kv_heads
                              : l.n_kv_heads,
            t.global_heads ? "global_heads" : "heads", t.global_kv_heads ? "global_kv_heads" : "kv_heads"};
  return {t.heads ? t.heads : l.n_heads, t.kv_heads ? t.kv_heads : l.n_kv_heads, "heads", "kv_heads"};
}

Target parse_target(const std::string& text) {
  Target t;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    int64_t* field = key == "layers"            ? &t.layers
                     : key == "hidden"          ? &t.hidden
                     : key == "heads"           ? &t.heads
                     : key == "kv_heads"        ? &t.kv_heads
                     : key == "ffn"             ? &t.ffn
                     : key == "value_heads"     ? &t.value_heads
                     : key == "key_heads"       ? &t.key_heads
                     : key == "global_heads"    ? &t.global_heads
                     : key == "global_kv_heads" ? &t.global_kv_heads
                     : key == "attn_blocks"     ? &t.attn_blocks
                     : key == "mlp_blocks"      ? &t.mlp_blocks
                                                : nullptr;
    if (!field)
      bad(key,
          "unknown key (layers, hidden, heads, kv_heads, ffn, value_heads, key_heads, global_heads, global_kv_heads, "
          "attn_blocks, mlp_blocks)");
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 9 ||
        std::stoll(value) == 0)
      bad(key, "'" + value + "' is not a positive integer");
    *field = std::stoll(value);
  }
  return t;
}

void check_target(const model::ModelSpec& s, const Target& t) {
  if (t.layers > s.n_layers())
    bad("layers", std::to_string(t.layers) + " is more than the model's " + std::to_string(s.n_layers()));
  const int64_t layers = t.layers ? t.layers : s.n_layers();
  if (t.attn_blocks > layers)
    bad("attn_blocks", std::to_string(t.attn_blocks) + " is more than the " + std::to_string(layers) + " layers kept");
  if (t.mlp_blocks > layers)
    bad("mlp_blocks", std::to_string(t.mlp_blocks) + " is more than the " + std::to_string(layers) + " layers kept");
  if (t.hidden > s.hidden_size)
    bad("hidden", std::to_string(t.hidden) + " is more than the model's " + std::to_string(s.hidden_size));
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    const std::string at = " (layer " + std::to_string(i) + ")";
    if (t.ffn > l.ffn_dim)
      bad("ffn", std::to_string(t.ffn) + " is more than the " + std::to_string(l.ffn_dim) + " there are" + at);
    if (l.head_units() == 0) continue;  // no attention to cut
    const HeadCut c = head_cut(l, t);
    const bool deltanet = l.kind == model::LayerKind::kLinearAttention;
    const std::string heads = deltanet ? " value heads per key head" : " query heads per KV group";
    if (c.heads > l.head_units())
      bad(c.heads_key,
          std::to_string(c.heads) + " is more than the " + std::to_string(l.head_units()) + " there are" + at);
    if (c.groups > l.group_units())
      bad(c.groups_key,
          std::to_string(c.groups) + " is more than the " + std::to_string(l.group_units()) + " there are" + at);
    if (c.heads % c.groups != 0)
      bad(c.heads_key,
          std::to_string(c.heads) + " is not a multiple of " + c.groups_key + " " + std::to_string(c.groups));
    if (c.heads / c.groups > l.head_units() / l.group_units())
      bad(c.heads_key, std::to_string(c.heads / c.groups) + heads + ", where the groups hold " +
                           std::to_string(l.head_units() / l.group_units()) + at);
  }
}

Selection random_selection(const model::ModelSpec& s, const Target& t, uint64_t seed) {
  check_target(s, t);
  std::mt19937_64 rng(seed);
  Selection sel = keep_everything(s);
  if (t.hidden) sel.hidden = draw(sel.hidden, t.hidden, rng);
  if (t.layers) {  // random scores under the rules every depth cut keeps (depth.h)
    std::uniform_real_distribution<double> uniform;
    torch::Tensor scores = torch::empty({s.n_layers()}, torch::kFloat64);
    for (int64_t i = 0; i < s.n_layers(); ++i) scores[i] = uniform(rng);
    sel.layers = ranked_layers(s, scores, t.layers, false);
  }
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    LayerSelection& p = sel.per_layer[i];
    if (t.ffn) p.ffn = draw(iota(l.ffn_dim), t.ffn, rng);
    if (l.head_units() == 0) continue;
    const HeadCut c = head_cut(l, t);
    const int64_t group = l.head_units() / l.group_units(), per_group = c.heads / c.groups;
    p.kv_groups = l.kv_source >= 0 ? sel.per_layer[l.kv_source].kv_groups : draw(iota(l.group_units()), c.groups, rng);
    p.q_heads.clear();
    for (const int64_t g : p.kv_groups)
      for (const int64_t h : draw(iota(group), per_group, rng)) p.q_heads.push_back(g * group + h);
  }
  return sel;
}

}  // namespace bespoke::prune
