// Sheared-LLaMA's learned masks, GQA-aware: one hard-concrete gate (hard_concrete.h) per unit of
// each type a target cuts, held as log α in a model::UnitMasks, field for field where the gate
// acts (unit_masks.h):
//   layers      a whole layer; the layers others read keys and values from stay (gate fixed at 1)
//   attn, mlp   a layer's attention or MLP block (targets attn_blocks, mlp_blocks); a layer that
//               shares keys and values (others read its own, or it reads another's) keeps its
//               attention
//   kv[i]       a KV group with its query heads; a layer reading another's groups has none
//   heads[i]    a query head, within its group: binarisation keeps as many in every kept group
//   ffn[i]      an FFN neuron
//   hidden      a channel of the residual stream
// A type the target leaves at the source's size has no gates (undefined, or empty vectors), and
// counts as kept. The same layout holds the gates' samples, probabilities and binarised values.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "bespoke/model/unit_masks.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/target.h"

namespace bespoke::prune {

// fp32 log α on the CPU for every unit `target` cuts of `spec`, drawn from N(5, 0.01²) as the
// released runs start them (every gate almost surely open), seeded.
model::UnitMasks make_learned_masks(const model::ModelSpec& spec, const Target& target, uint64_t seed);

// Starts the gates from importance instead (§13 step 4 of the methods' notes): in each row of
// units binarisation cuts to the target (as binarise.h ranks them), the target's count of most
// important units at log α = 5 and the rest at 0. The blocks, which importance does not score,
// keep their start. Throws Error(kInput) when `importance` is of another shape.
void init_from_importance(model::UnitMasks& log_alpha, const model::ModelSpec& spec, const Target& target,
                          const Importance& importance);

// Every log α tensor with its name ("layers", "hidden", "heads.3", ...): the trainer's group.
std::vector<std::pair<std::string, torch::Tensor>> named_gates(const model::UnitMasks& log_alpha);

// `f` applied to every gate tensor; undefined ones stay undefined.
model::UnitMasks map_gates(const model::UnitMasks& m, const std::function<torch::Tensor(const torch::Tensor&)>& f);

// A draw of every gate (sample_gates), and each gate's probability of being open; the fixed
// gates (the layer gates of layers others read from, the attention gates of layers that share
// keys and values) are 1 in both. Differentiable in log α.
model::UnitMasks sample_masks(const model::ModelSpec& spec, const model::UnitMasks& log_alpha);
model::UnitMasks open_probabilities(const model::ModelSpec& spec, const model::UnitMasks& log_alpha);

// Whether layer i's keys and values are read by other layers: its layer gate stays open.
std::vector<bool> layers_read_by_others(const model::ModelSpec& spec);
// Whether layer i shares keys and values, either way: its attention gate stays open.
std::vector<bool> attention_shared(const model::ModelSpec& spec);

}  // namespace bespoke::prune
