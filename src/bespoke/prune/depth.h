// Depth cuts from layer scores: which layers a model keeps when it keeps `n` of them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "bespoke/model/spec.h"

namespace bespoke::prune {

// The `n` layers of highest `scores` ([n_layers]: block influence or the loss increase when the
// layer is skipped), ascending; with `contiguous`, all but the block of consecutive layers whose
// scores sum least (Gromov et al.). Layers whose keys and values others read stay. Where
// llama.cpp marks local layers by a period (Gemma 2 and 3: layer i is local when
// i % p < p - 1), the kept layers' local/global pattern is one some period expresses, so the
// cut exports in the family's own architecture; of such choices the highest-scoring is taken.
// Throws Error(kInput) naming `layers` when no choice meets these.
std::vector<int64_t> ranked_layers(const model::ModelSpec& spec, const torch::Tensor& scores, int64_t n,
                                   bool contiguous);

}  // namespace bespoke::prune
