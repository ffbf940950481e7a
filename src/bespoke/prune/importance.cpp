#include "bespoke/prune/importance.h"

#include <string>

#include "bespoke/model/tensor_table.h"

namespace bespoke::prune {
namespace {

// "blk.<i>.<what>" -> i, or -1.
int64_t layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  return std::stoll(name.substr(4, name.find('.', 4) - 4));
}

}  // namespace

Importance activation_importance(model::Transformer& net, const std::vector<torch::Tensor>& batches) {
  const model::ModelSpec& s = net->spec();
  Importance out;
  const auto zeros = [](int64_t n) { return torch::zeros({n}, torch::kFloat64); };
  std::vector<torch::Tensor> head_sq, ffn_sq;  // sums of squares, rooted at the end
  for (const model::LayerSpec& l : s.layers) head_sq.push_back(zeros(l.n_heads)), ffn_sq.push_back(zeros(l.ffn_dim));
  torch::Tensor drift = zeros(s.n_layers());
  std::vector<torch::Tensor> inputs(s.n_layers());
  const model::TapObserver observe = [&](const std::string& name, const torch::Tensor& value) {
    const int64_t i = layer_of(name);
    if (i < 0) return;
    const std::string what = model::layer_tensor_suffix(name);
    const torch::Tensor v = value.detach().to(torch::kFloat64).cpu();
    if (what == "attn_output.input") {
      const model::LayerSpec& l = s.layers[i];
      head_sq[i] += v.view({-1, l.n_heads, l.head_dim}).pow(2).sum(std::vector<int64_t>{0, 2});
    } else if (what == "ffn_down.input") {
      ffn_sq[i] += v.flatten(0, -2).pow(2).sum(0);
    } else if (what == "input") {
      inputs[i] = v;
    } else if (what == "output") {
      drift[i] += (1 - torch::cosine_similarity(inputs[i], v, -1)).sum();
    }
  };
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& ids : batches) {
    net->forward(ids, nullptr, false, &observe);
    out.tokens += ids.numel();
  }
  out.layers = drift / double(out.tokens);
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    out.heads.push_back(head_sq[i].sqrt());
    out.kv.push_back(l.n_kv_heads > 0 ? out.heads[i].view({l.n_kv_heads, -1}).sum(1) : zeros(0));
    out.ffn.push_back(ffn_sq[i].sqrt());
  }
  return out;
}

}  // namespace bespoke::prune
