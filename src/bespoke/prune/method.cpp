#include "bespoke/prune/method.h"

#include "bespoke/core/error.h"
#include "bespoke/prune/depth.h"
#include "bespoke/prune/non_uniform.h"
#include "bespoke/prune/rank.h"

namespace bespoke::prune {

const NameTable<Method>& method_names() {
  static const NameTable<Method> table("method", {{Method::kMinitron, "minitron"},
                                                  {Method::kTaylor, "taylor"},
                                                  {Method::kDepth, "depth"},
                                                  {Method::kRandom, "random"}});
  return table;
}

bool needs_importance(Method m) {
  return m != Method::kRandom;
}

void check_method(const model::ModelSpec& s, const MethodOptions& o, const std::optional<Target>& t) {
  if (o.non_uniform && o.method != Method::kMinitron && o.method != Method::kTaylor)
    fail(ErrorKind::kInput, "--non-uniform: per-layer shapes come from importance; use --method minitron or taylor");
  if (o.contiguous && !needs_importance(o.method))
    fail(ErrorKind::kInput,
         "--contiguous: the block of layers is chosen by importance; use --method depth, minitron or taylor");
  if (!t) return;
  check_target(s, *t);
  if (t->attn_blocks || t->mlp_blocks)
    fail(ErrorKind::kInput, "attn_blocks and mlp_blocks: which blocks to drop is learned; use --method l0");
  if (o.method == Method::kDepth && (t->hidden || t->heads || t->kv_heads || t->ffn || !t->layers))
    fail(ErrorKind::kInput, "--method depth cuts layers only: give --target layers=N");
}

Selection select_units(const model::ModelSpec& s, const MethodOptions& o, const Importance* imp, const Target& t) {
  if (!needs_importance(o.method)) return random_selection(s, t, o.seed);
  BESPOKE_CHECK(imp, "the method ranks by importance");
  return o.non_uniform ? non_uniform_selection(s, *imp, t, o.contiguous) : ranked_selection(s, *imp, t, o.contiguous);
}

std::vector<Shape> method_shapes(const model::ModelSpec& s, const MethodOptions& o, const Importance* imp,
                                 int64_t budget, int64_t few) {
  const LayerChoice layers = [&](int64_t n) {
    if (!needs_importance(o.method)) return random_selection(s, Target{n}, o.seed).layers;
    return ranked_layers(s, layer_scores(*imp), n, o.contiguous);
  };
  return candidate_shapes(s, budget, layers, o.method != Method::kDepth, true, few);
}

}  // namespace bespoke::prune
