// Parameter budgets (--params 1.5B) and the search for a uniform shape that meets one: shapes
// that keep kernels fast, counted exactly, the few largest under the budget ranked by the
// calibration loss of a one-shot prune (Minitron's search, pruning-methods §2.2 and §13 step 3).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bespoke/model/transformer.h"
#include "bespoke/prune/selection.h"
#include "bespoke/prune/target.h"

namespace bespoke::prune {

// "1.5B", "800M", "64K" or "123456789" as a parameter count. Throws Error(kInput) naming
// --params for anything else, or zero.
int64_t parse_param_count(const std::string& text);

// What no cut of layers, heads or FFN neurons removes: the embeddings, output head and final norm.
int64_t embedding_params(const model::ModelSpec& spec);

// The FFN widths the search tries: multiples of 256 for a source FFN from 4096 up, else of 64.
int64_t ffn_step(int64_t source_ffn);

// The hidden sizes the search tries: multiples of 64 below 1024 and of 128 from 1024 up, from a
// quarter of the source's, and the source's own (last).
std::vector<int64_t> hidden_sizes(int64_t source_hidden);

struct Shape {
  Target target;
  int64_t params = 0;  // exact, embeddings included
  double loss = 0;     // calibration loss after the one-shot prune; 0 until scored
};

// The layers a cut to `n` layers keeps (ranked_layers() of the importance, for instance).
using LayerChoice = std::function<std::vector<int64_t>(int64_t n)>;

// Uniform shapes of `source` within `budget` parameters and within 2% of the largest that fits,
// the `few` most even first: ordered by the largest share any one axis (layers, query heads, KV
// groups, FFN) removes, then by size. Each keeps the source's head_dim and an equal number of
// query heads per KV group; with `width`, every hidden size of hidden_sizes(), KV-group count,
// heads per group and FFN width that is a multiple of ffn_step() (or the source's own) is tried,
// and for each layer count, hidden size, KV groups and heads only the widest FFN that fits; with `depth`, every layer
// count (layers() says which stay). A shape's count is that of the cut keeping layers(n).
// Throws Error(kInput) naming --params when the budget is below embedding_params() or no
// shape fits.
std::vector<Shape> candidate_shapes(const model::ModelSpec& source, int64_t budget, const LayerChoice& layers,
                                    bool width, bool depth, int64_t few);

// Each shape's calibration loss (mean next-token cross-entropy over `batches`) after a one-shot
// prune by `select`, measured with masks on `net` (what extraction computes); sorted by loss.
void score_shapes(model::Transformer& net, const std::function<Selection(const Target&)>& select,
                  const std::vector<torch::Tensor>& batches, std::vector<Shape>& shapes);

// The shapes as an aligned text table: layers, heads, KV heads, FFN, params, share of
// `source_params`, and loss when scored.
std::string shape_table(const std::vector<Shape>& shapes, int64_t source_params);

}  // namespace bespoke::prune
