#include "bespoke/model/checkpoint.h"

#include <utility>

namespace bespoke::model {
namespace {

// One layer's masks travel into the checkpointed function as one flat tensor, its input like x,
// so that the recomputed block's gradients reach them. A piece is one kind's mask of this layer
// (a one-entry slice for the per-layer kinds), in this order.
enum class Piece { kHeads, kKv, kFfn, kLayers, kAttn, kMlp, kHidden };
using Layout = std::vector<std::pair<Piece, int64_t>>;  // each piece and its length

std::vector<std::pair<Piece, torch::Tensor>> pieces(const UnitMasks* m, int64_t layer) {
  std::vector<std::pair<Piece, torch::Tensor>> out;
  if (!m) return out;
  for (const auto& [piece, v] : {std::pair(Piece::kHeads, &m->heads), {Piece::kKv, &m->kv}, {Piece::kFfn, &m->ffn}})
    if (!v->empty() && (*v)[layer].defined()) out.push_back({piece, (*v)[layer]});
  for (const auto& [piece, t] :
       {std::pair(Piece::kLayers, &m->layers), {Piece::kAttn, &m->attn}, {Piece::kMlp, &m->mlp}})
    if (t->defined()) out.push_back({piece, t->narrow(0, layer, 1)});
  if (m->hidden.defined()) out.push_back({Piece::kHidden, m->hidden});
  return out;
}

// The masks `flat` holds, as the block reads them: only `layer`'s entries are meaningful.
UnitMasks unflatten(const torch::Tensor& flat, const Layout& layout, int64_t layer, int64_t n_layers) {
  UnitMasks m;
  int64_t at = 0;
  for (const auto& [piece, n] : layout) {
    const torch::Tensor t = flat.narrow(0, at, n);
    at += n;
    const auto spread = [&] {
      return torch::cat({torch::ones({layer}, t.options()), t, torch::ones({n_layers - layer - 1}, t.options())});
    };
    const auto per_layer = [&](std::vector<torch::Tensor>& v) {
      v.resize(n_layers);
      v[layer] = t;
    };
    switch (piece) {
      case Piece::kHeads:
        per_layer(m.heads);
        break;
      case Piece::kKv:
        per_layer(m.kv);
        break;
      case Piece::kFfn:
        per_layer(m.ffn);
        break;
      case Piece::kLayers:
        m.layers = spread();
        break;
      case Piece::kAttn:
        m.attn = spread();
        break;
      case Piece::kMlp:
        m.mlp = spread();
        break;
      case Piece::kHidden:
        m.hidden = t;
        break;
    }
  }
  return m;
}

// What the recomputation needs, kept alive by the graph.
struct Saved : torch::CustomClassHolder {
  Block block;
  RopeTables rope;
  torch::Tensor allowed;
  int64_t layer, n_layers;
  Layout layout;
  Saved(Block b, RopeTables r, torch::Tensor a, int64_t l, int64_t n, Layout masks)
      : block(std::move(b)),
        rope(std::move(r)),
        allowed(std::move(a)),
        layer(l),
        n_layers(n),
        layout(std::move(masks)) {}

  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& per_layer_input, const torch::Tensor& masks) {
    std::vector<torch::Tensor> keys(n_layers), values(n_layers);  // this layer writes its own
    const UnitMasks unit_masks = unflatten(masks, layout, layer, n_layers);
    LayerContext ctx;
    ctx.rope = &rope;
    ctx.allowed = allowed;
    if (per_layer_input.numel() > 0) ctx.per_layer_input = per_layer_input;
    ctx.keys = &keys;
    ctx.values = &values;
    if (!layout.empty()) ctx.masks = &unit_masks;
    return block->forward(x, ctx);
  }
};

class CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor per_layer_input,
                               torch::Tensor masks, c10::intrusive_ptr<Saved> saved) {
    torch::NoGradGuard no_grad;
    ctx->save_for_backward({x, per_layer_input, masks});
    ctx->saved_data["saved"] = c10::IValue::make_capsule(saved);
    return saved->run(x, per_layer_input, masks);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto vars = ctx->get_saved_variables();
    const auto saved = c10::static_intrusive_pointer_cast<Saved>(ctx->saved_data["saved"].toCapsule());
    torch::AutoGradMode enable(true);
    const auto leaf = [](const torch::Tensor& t) { return t.detach().requires_grad_(t.numel() > 0); };
    const torch::Tensor x = leaf(vars[0]), pli = leaf(vars[1]), masks = leaf(vars[2]);
    saved->run(x, pli, masks).backward(grads[0]);  // also accumulates into the block's parameters
    const auto grad = [](const torch::Tensor& t) { return t.numel() > 0 ? t.grad() : torch::Tensor(); };
    return {x.grad(), grad(pli), grad(masks), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpointed_block(Block& block, int64_t layer, const torch::Tensor& x, const LayerContext& ctx) {
  // Autograd functions take defined tensors: an empty one stands for "no per-layer input" or "no masks".
  const torch::Tensor pli = ctx.per_layer_input.defined() ? ctx.per_layer_input : torch::empty({0}, x.options());
  Layout layout;
  std::vector<torch::Tensor> flat;
  for (const auto& [piece, t] : pieces(ctx.masks, layer)) {
    layout.push_back({piece, t.numel()});
    flat.push_back(t.to(x.device(), torch::kFloat32));
  }
  const torch::Tensor masks = flat.empty() ? torch::empty({0}, x.options()) : torch::cat(flat);
  return CheckpointedBlock::apply(
      x, pli, masks,
      c10::make_intrusive<Saved>(block, *ctx.rope, ctx.allowed, layer, int64_t(ctx.keys->size()), std::move(layout)));
}

}  // namespace bespoke::model
