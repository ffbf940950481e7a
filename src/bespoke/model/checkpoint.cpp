#include "bespoke/model/checkpoint.h"

namespace bespoke::model {
namespace {

// What the recomputation needs, kept alive by the graph.
struct Saved : torch::CustomClassHolder {
  Block block;
  RopeTables rope;
  torch::Tensor allowed;
  size_t n_layers;
  Saved(Block b, RopeTables r, torch::Tensor a, size_t n)
      : block(std::move(b)), rope(std::move(r)), allowed(std::move(a)), n_layers(n) {}

  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& per_layer_input) {
    std::vector<torch::Tensor> keys(n_layers), values(n_layers);  // this layer writes its own
    LayerContext ctx;
    ctx.rope = &rope;
    ctx.allowed = allowed;
    if (per_layer_input.numel() > 0) ctx.per_layer_input = per_layer_input;
    ctx.keys = &keys;
    ctx.values = &values;
    return block->forward(x, ctx);
  }
};

class CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor per_layer_input,
                               c10::intrusive_ptr<Saved> saved) {
    torch::NoGradGuard no_grad;
    ctx->save_for_backward({x, per_layer_input});
    ctx->saved_data["saved"] = c10::IValue::make_capsule(saved);
    return saved->run(x, per_layer_input);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto vars = ctx->get_saved_variables();
    const auto saved = c10::static_intrusive_pointer_cast<Saved>(ctx->saved_data["saved"].toCapsule());
    torch::AutoGradMode enable(true);
    const torch::Tensor x = vars[0].detach().requires_grad_(true);
    const torch::Tensor pli = vars[1].detach().requires_grad_(vars[1].numel() > 0);
    saved->run(x, pli).backward(grads[0]);  // also accumulates into the block's parameters
    return {x.grad(), vars[1].numel() > 0 ? pli.grad() : torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpointed_block(Block& block, const torch::Tensor& x, const LayerContext& ctx) {
  // Autograd functions take defined tensors: an empty one stands for "no per-layer input".
  const torch::Tensor pli = ctx.per_layer_input.defined() ? ctx.per_layer_input : torch::empty({0}, x.options());
  return CheckpointedBlock::apply(x, pli, c10::make_intrusive<Saved>(block, *ctx.rope, ctx.allowed, ctx.keys->size()));
}

}  // namespace bespoke::model
