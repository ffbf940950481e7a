// Mask values moved into the weights: after fold_mask_values(model, values) the model without
// masks computes what it computed with `values` set (unit_masks.h), so extracting a selection
// whose dropped units have value 0 gives a model that computes the same (extract.h). Each mask
// goes into the weights that write what it scales:
//   heads, kv      the columns of attn_output for each query head (a KV group's value scales
//                  its heads' context); where q and k are normed over their whole width
//                  (OLMo 2), also the rows of attn_q and attn_k, which the masks scale before it
//   ffn            the columns of ffn_down
//   layers x attn  the attention's post-norm weight, else attn_output (and its bias); the same
//   layers x mlp   for the MLP with post_ffw_norm or ffn_down, and for the per-layer input
//                  (Gemma 4) its post_norm; Gemma 4's layer scalar s becomes 1 + z (s - 1)
//   hidden         the embedding columns and every write's rows (attn_output, ffn_down, the
//                  per-layer projection), before any post-norm; a head tied to the embeddings
//                  would see them scaled, so the output norm's weight takes the value back
#pragma once

#include "bespoke/model/transformer.h"

namespace bespoke::prune {

void fold_mask_values(model::Transformer& model, const model::UnitMasks& values);

}  // namespace bespoke::prune
