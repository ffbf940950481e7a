// Sizes as differentiable functions of the gates' open probabilities (learned_masks.h layout;
// an undefined gate counts as kept): what the Lagrangian pulls to the target, and what the
// metrics report while the masks learn.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "bespoke/model/unit_masks.h"
#include "bespoke/prune/target.h"

namespace bespoke::prune {

// The expected parameter count of the model the masks cut, embeddings included, as a scalar
// (float64 on the probabilities' device). Every tensor of the tensor table counts the product
// over its axes of the expected units kept there (the gates are independent, so the expectation
// of the product is the product of the expectations: a query head counts with its KV group's
// probability), times its layer's probability and its block's (attention or MLP). At 0/1
// probabilities that describe a selection it is the exact count of the model extract() cuts.
torch::Tensor expected_params(const model::ModelSpec& spec, const model::UnitMasks& probabilities);

// One unit type's constraint, row by row as Sheared-LLaMA's target mode pulls them (so the
// result is uniform): the expected share of each row's units kept, and the target's share.
//   layers, attn_blocks, mlp_blocks, hidden   one row
//   kv_heads                                  a row per layer with its own KV groups
//   heads                                     a row per KV group (the query heads within it)
//   ffn                                       a row per layer
struct SizeConstraint {
  std::string type;
  torch::Tensor kept;  // [rows], in [0, 1]
  double target = 0;   // the share the target keeps
  int64_t units = 0;   // units per row
};

// A constraint for every type that has gates.
std::vector<SizeConstraint> size_constraints(const model::ModelSpec& spec, const model::UnitMasks& probabilities,
                                             const Target& target);

}  // namespace bespoke::prune
