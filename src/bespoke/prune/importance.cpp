#include "bespoke/prune/importance.h"

#include <map>
#include <memory>
#include <set>
#include <string>

#include "bespoke/model/tensor_table.h"

namespace bespoke::prune {
namespace {

using model::LayerSpec;
using model::ModelSpec;
using torch::Tensor;

Tensor zeros(int64_t n) {
  return torch::zeros({n}, torch::kFloat64);
}

Tensor to_cpu64(const Tensor& t) {
  return t.to(torch::kFloat64).cpu();
}

// "blk.<i>.<what>" -> i, or -1.
int64_t layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  return std::stoll(name.substr(4, name.find('.', 4) - 4));
}

// The taps of hidden width that hidden-channel importance reads: the embedding output (layer
// 0's input) and every norm whose output is [B, T, hidden].
bool is_hidden_tap(int64_t layer, const std::string& what) {
  static const std::set<std::string> norms = {"attn_norm", "ffn_norm", "post_attention_norm", "post_ffw_norm",
                                              "post_norm"};
  if (layer < 0) return what == "output_norm";
  return norms.count(what) || (layer == 0 && what == "input");
}

// The width of one head unit's output: a query head's context, or a DeltaNet value head's.
int64_t head_output_width(const LayerSpec& l) {
  return l.kind == model::LayerKind::kLinearAttention ? l.deltanet.value_dim : l.head_dim;
}

// Per row, the mean over positions of |T|: [B, T, C] -> [B, C] float64, accumulated in fp32.
Tensor row_abs_means(const Tensor& v) {
  return to_cpu64(torch::mean(v.detach().abs(), {1}, false, torch::kFloat32));
}

// Everything the taps give, summed over rows as they stream past.
class Accumulator {
 public:
  Accumulator(const ModelSpec& spec, bool taylor) : spec_(spec), taylor_(taylor), inputs_(spec.n_layers()) {
    residual_ = zeros(spec.n_layers());
    drift_ = zeros(spec.n_layers());
    for (const LayerSpec& l : spec.layers) {
      head_sq_.push_back(zeros(l.head_units() * head_output_width(l)));
      ffn_sq_.push_back(zeros(l.ffn_dim));
      entropy_.push_back(zeros(l.n_heads));
    }
  }

  void observe(const std::string& name, const Tensor& value) {
    const int64_t i = layer_of(name);
    const std::string what = model::layer_tensor_suffix(name);
    if (is_hidden_tap(i, what)) hidden(name, value);
    if (i < 0) return;
    if (what == "input") {
      inputs_[i] = value.detach();
    } else if (what == "output") {
      profile(i, value.detach());
    } else if (what == "attn_probs") {
      // -p log p is 0 at p = 0 (masked keys), which xlogy gives exactly.
      const Tensor p = value.detach().to(torch::kFloat32);
      entropy_[i] -= to_cpu64(torch::xlogy(p, p).sum(-1)).sum(std::vector<int64_t>{0, 2});
    } else if (taylor_) {
      return;
    } else if (what == "attn_output.input" || what == "ssm.out.input") {  // per head, before the output projection
      head_sq_[i] += row_abs_means(value).pow(2).sum(0);
    } else if (what == "ffn_down.input") {
      ffn_sq_[i] += row_abs_means(value).pow(2).sum(0);
    }
  }

  // The profile, and for Minitron the units' scores, over `tokens` tokens.
  void finish(Importance& out, int64_t tokens) const {
    out.residual = residual_ / double(tokens);
    out.drift = drift_ / double(tokens);
    for (const Tensor& e : entropy_) out.entropy.push_back(e / double(tokens));
    out.tokens = tokens;
    if (taylor_) {
      out.hidden = zeros(spec_.hidden_size);
      for (const auto& [name, sum] : taylor_hidden_) out.hidden += sum.abs() / double(predicted_);
      return;
    }
    out.layers = out.drift;
    out.hidden = zeros(spec_.hidden_size);
    for (const auto& [name, a] : hidden_sq_) out.hidden += a.sqrt();
    for (int64_t i = 0; i < spec_.n_layers(); ++i) {
      const LayerSpec& l = spec_.layers[i];
      out.heads.push_back(head_sq_[i].view({l.head_units(), head_output_width(l)}).sum(1).sqrt());
      out.kv.push_back(l.group_units() > 0 ? out.heads[i].view({l.group_units(), -1}).sum(1) : zeros(0));
      out.ffn.push_back(ffn_sq_[i].sqrt());
    }
  }

  // Taylor: the count that turns summed gradients into gradients of the mean loss.
  void set_predicted(int64_t predicted) { predicted_ = predicted; }

 private:
  void hidden(const std::string& name, const Tensor& value) {
    if (!taylor_) {
      Tensor& a = hidden_sq_.try_emplace(name, zeros(spec_.hidden_size)).first->second;
      a += row_abs_means(value).pow(2).sum(0);
      return;
    }
    if (!value.requires_grad()) return;
    Tensor& sum = taylor_hidden_.try_emplace(name, zeros(spec_.hidden_size)).first->second;
    const Tensor a = value.detach();
    value.register_hook([&sum, a](const Tensor& grad) {
      sum += to_cpu64((a * grad).sum(std::vector<int64_t>{0, 1}, false, torch::kFloat32));
    });
  }

  void profile(int64_t i, const Tensor& out) {
    const Tensor in = inputs_[i].to(torch::kFloat32), o = out.to(torch::kFloat32);
    drift_[i] += to_cpu64(1 - torch::cosine_similarity(in, o, -1)).sum();
    residual_[i] += to_cpu64((o - in).norm(2, {-1}) / in.norm(2, {-1}).clamp_min(1e-30)).sum();
    inputs_[i] = Tensor();
  }

  const ModelSpec& spec_;
  const bool taylor_;
  std::vector<Tensor> inputs_;  // each layer's input until its output arrives
  Tensor residual_, drift_;
  std::vector<Tensor> head_sq_, ffn_sq_, entropy_;
  std::map<std::string, Tensor> hidden_sq_, taylor_hidden_;  // per tap
  int64_t predicted_ = 1;
};

// Summed next-token cross-entropy of `logits` [B, T, V] against `ids` [B, T].
Tensor loss_sum(const Tensor& logits, const Tensor& ids) {
  const int64_t T = ids.size(1);
  return torch::nn::functional::cross_entropy(logits.narrow(1, 0, T - 1).flatten(0, 1).to(torch::kFloat32),
                                              ids.narrow(1, 1, T - 1).flatten(),
                                              torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
}

int64_t predicted_tokens(const Tensor& ids) {
  return ids.size(0) * (ids.size(1) - 1);
}

torch::Device device_of(model::Transformer& net) {
  return net->parameters().front().device();
}

// Loss with each layer skipped in turn, minus the whole model's: one forward per layer and
// batch besides the unmasked one.
Tensor skip_losses(model::Transformer& net, const std::vector<Tensor>& batches) {
  torch::NoGradGuard no_grad;
  const int64_t L = net->spec().n_layers();
  const torch::Device device = device_of(net);
  std::vector<std::shared_ptr<const model::UnitMasks>> skip(L);
  for (int64_t i = 0; i < L; ++i) {
    auto m = std::make_shared<model::UnitMasks>();
    m->layers = torch::ones({L}, torch::TensorOptions().device(device));
    m->layers[i] = 0;
    skip[i] = m;
  }
  Tensor sums = zeros(L);
  double base = 0;
  int64_t predicted = 0;
  for (const Tensor& batch : batches) {
    const Tensor ids = batch.to(device);
    net->set_masks(nullptr);
    base += loss_sum(net->forward(ids).logits, ids).item<double>();
    for (int64_t i = 0; i < L; ++i) {
      net->set_masks(skip[i]);
      sums[i] += loss_sum(net->forward(ids).logits, ids).item<double>();
    }
    predicted += predicted_tokens(ids);
  }
  net->set_masks(nullptr);
  return (sums - base) / double(predicted);
}

// All-ones masks of every unit, on `device`, taking gradients; none for the KV groups of a layer
// that reads another's keys and values.
model::UnitMasks ones_masks(const ModelSpec& s, const torch::Device& device) {
  const auto ones = [&](int64_t n) { return torch::ones({n}, torch::TensorOptions().device(device)).requires_grad_(); };
  model::UnitMasks m;
  for (const LayerSpec& l : s.layers) {
    m.heads.push_back(ones(l.head_units()));
    m.kv.push_back(l.kv_source >= 0 ? Tensor() : ones(l.group_units()));  // a reader takes its source's mask
    m.ffn.push_back(ones(l.ffn_dim));
  }
  m.layers = ones(s.n_layers());
  return m;
}

// Moves each mask's gradient into a float64 sum on the CPU (zeros where the mask played no part:
// a unit type the layer lacks), so that batches add up in float64.
void collect(const model::UnitMasks& masks, model::UnitMasks& sums) {
  const auto add = [](const Tensor& mask, Tensor& sum) {
    if (!mask.defined()) return;
    if (!sum.defined()) sum = zeros(mask.numel());
    if (!mask.grad().defined()) return;
    sum += to_cpu64(mask.grad());
    mask.mutable_grad() = Tensor();
  };
  sums.heads.resize(masks.heads.size());
  sums.kv.resize(masks.kv.size());
  sums.ffn.resize(masks.ffn.size());
  for (size_t i = 0; i < masks.heads.size(); ++i) {
    add(masks.heads[i], sums.heads[i]);
    add(masks.kv[i], sums.kv[i]);
    add(masks.ffn[i], sums.ffn[i]);
  }
  add(masks.layers, sums.layers);
}

// Gradients for the masks and the embedding table only, for as long as it lives.
class GradientsForMasks {
 public:
  explicit GradientsForMasks(model::Transformer& net) {
    for (auto& p : net->named_parameters()) {
      saved_.emplace_back(p.value(), p.value().requires_grad());
      p.value().requires_grad_(p.key() == "token_embd.weight");
    }
    net->zero_grad();
  }
  ~GradientsForMasks() {
    for (auto& [p, requires] : saved_) {
      p.mutable_grad() = Tensor();
      p.requires_grad_(requires);
    }
  }

 private:
  std::vector<std::pair<Tensor, bool>> saved_;
};

}  // namespace

Importance activation_importance(model::Transformer& net, const std::vector<Tensor>& batches,
                                 const ImportanceOptions& options) {
  Accumulator acc(net->spec(), false);
  const model::TapObserver observe = [&](const std::string& name, const Tensor& value) { acc.observe(name, value); };
  const torch::Device device = device_of(net);
  int64_t tokens = 0;
  {
    torch::NoGradGuard no_grad;
    net->set_masks(nullptr);
    for (const Tensor& ids : batches) {
      net->forward(ids.to(device), nullptr, false, &observe);
      tokens += ids.numel();
    }
  }
  Importance out;
  out.method = "minitron";
  acc.finish(out, tokens);
  if (options.skip_loss) out.skip_loss = skip_losses(net, batches);
  return out;
}

Importance taylor_importance(model::Transformer& net, const std::vector<Tensor>& batches,
                             const ImportanceOptions& options) {
  const ModelSpec& s = net->spec();
  Accumulator acc(s, true);
  const model::TapObserver observe = [&](const std::string& name, const Tensor& value) { acc.observe(name, value); };
  const torch::Device device = device_of(net);
  const model::UnitMasks masks = ones_masks(s, device);
  model::UnitMasks sums;  // of the mask gradients
  int64_t tokens = 0, predicted = 0;
  {
    const GradientsForMasks scope(net);
    torch::AutoGradMode grad(true);
    net->set_masks(std::make_shared<model::UnitMasks>(masks));
    for (const Tensor& batch : batches) {
      const Tensor ids = batch.to(device);
      loss_sum(net->forward(ids, nullptr, false, &observe).logits, ids).backward();
      net->zero_grad();  // the embedding table's gradient is only a way to reach its output's
      collect(masks, sums);
      tokens += ids.numel();
      predicted += predicted_tokens(ids);
    }
    net->set_masks(nullptr);
  }
  Importance out;
  out.method = "taylor";
  acc.set_predicted(predicted);
  acc.finish(out, tokens);
  const auto score = [&](const Tensor& sum) { return sum.abs() / double(predicted); };
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    out.heads.push_back(score(sums.heads[i]));
    out.ffn.push_back(score(sums.ffn[i]));
    // A layer that reads another's keys and values shares its KV groups (kv_readers).
    const int64_t source = s.layers[i].kv_source;
    out.kv.push_back(source >= 0 ? out.kv[source] : score(sums.kv[i]));
  }
  out.layers = score(sums.layers);
  if (options.skip_loss) out.skip_loss = skip_losses(net, batches);
  return out;
}

}  // namespace bespoke::prune
