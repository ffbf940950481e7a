#include "bespoke/prune/slicegpt.h"

#include <cmath>
#include <map>
#include <string>

#include "bespoke/core/error.h"
#include "bespoke/model/family.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::prune {
// A norm on what a branch writes scales it per channel after the branch: the rotated stream
// would need Qᵀ diag(w) Q there, which is no norm the family has.
void check_rotatable(const model::ModelSpec& s) {
  if (s.attn_post_norm || s.ffn_post_norm)
    fail(ErrorKind::kUnsupported, "SliceGPT: " + s.family +
                                      " norms each branch's output before the residual add, and no rotation of the "
                                      "residual stream commutes with that norm's weight");
  if (s.per_layer_input_dim > 0)
    fail(ErrorKind::kUnsupported, "SliceGPT: " + s.family +
                                      " adds a normed per-layer input to the residual stream, and no rotation of the "
                                      "stream commutes with that norm's weight");
}

namespace {

using model::Axis;

// The norm whose output each reader of the stream reads (layer-relative, or global for the head).
const std::map<std::string, std::string>& norm_of_reader() {
  static const std::map<std::string, std::string> readers = {
      {"attn_q.weight", "attn_norm.weight"}, {"attn_k.weight", "attn_norm.weight"},
      {"attn_v.weight", "attn_norm.weight"}, {"ffn_gate.weight", "ffn_norm.weight"},
      {"ffn_up.weight", "ffn_norm.weight"},  {"output.weight", "output_norm.weight"}};
  return readers;
}

void check_width(const model::ModelSpec& s, int64_t new_hidden) {
  if (new_hidden < 1 || new_hidden > s.hidden_size)
    fail(ErrorKind::kUsage, "SliceGPT: the new hidden size must be from 1 to " + std::to_string(s.hidden_size) +
                                ", not " + std::to_string(new_hidden));
}

bool writes_stream(const std::string& suffix) {
  return suffix == "attn_output.weight" || suffix == "attn_output.bias" || suffix == "ffn_down.weight" ||
         suffix == "ffn_down.bias";
}

bool is_stream_norm(const std::string& suffix) {
  return suffix == "attn_norm.weight" || suffix == "ffn_norm.weight" || suffix == "output_norm.weight";
}

// What the rotated, cut model holds for each tensor, computed in float64.
class Rotation {
 public:
  Rotation(model::Transformer& source, const torch::Tensor& kept, const model::ModelSpec& target)
      : s_(source->spec()),
        from_(source->named_parameters()),
        kept_(kept),
        norm_gain_(std::sqrt(double(s_.hidden_size) / double(target.hidden_size))),
        embedding_gain_(s_.embedding_scale / target.embedding_scale) {}

  torch::Tensor operator()(const model::TensorInfo& info) const {
    const std::string suffix = model::layer_tensor_suffix(info.name);
    const std::string prefix = info.name.substr(0, info.name.size() - suffix.size());  // "blk.N." or ""
    const auto reader = norm_of_reader().find(suffix);
    if (reader != norm_of_reader().end()) return folded(source(info.name), prefix + reader->second).matmul(kept_);
    if (writes_stream(suffix)) return kept_.t().matmul(source(info.name));
    // The sliced norm divides by the mean over E' channels where the full one divided by E.
    if (is_stream_norm(suffix)) return torch::full(info.shape, norm_gain_ - s_.norm_weight_offset, kept_.options());
    // A family whose embedding scale follows E (Gemma's sqrt(E)) would scale them otherwise.
    if (info.name == "token_embd.weight") return source(info.name).matmul(kept_) * embedding_gain_;
    for (const Axis a : info.axes) BESPOKE_CHECK(a != Axis::kHidden, info.name + " touches the stream unrotated");
    return source(info.name);
  }

 private:
  // The source's tensor in float64; a tied head is the embedding table.
  torch::Tensor source(const std::string& name) const {
    const torch::Tensor* t = from_.find(name);
    if (!t && name == "output.weight") t = from_.find("token_embd.weight");
    BESPOKE_CHECK(t, "no tensor " + name);
    return t->detach().to(torch::kFloat64);
  }

  // `w` [out, E] reading the output of `norm`, with that norm's weight taken in.
  torch::Tensor folded(const torch::Tensor& w, const std::string& norm) const {
    const torch::Tensor* n = from_.find(norm);
    if (!n) return w;  // a family without this pre-norm reads the stream itself
    return w * (n->detach().to(torch::kFloat64) + s_.norm_weight_offset).unsqueeze(0);
  }

  const model::ModelSpec& s_;
  const torch::OrderedDict<std::string, torch::Tensor> from_;
  const torch::Tensor kept_;  // [E, E'] float64
  const double norm_gain_, embedding_gain_;
};

}  // namespace

ResidualBasis residual_basis(model::Transformer& source, const std::vector<torch::Tensor>& batches,
                             const BasisOptions& options) {
  const model::ModelSpec& s = source->spec();
  check_rotatable(s);
  if (batches.empty()) fail(ErrorKind::kUsage, "SliceGPT needs calibration batches");
  const int64_t E = s.hidden_size;
  const torch::Device device = source->parameters().front().device();
  torch::Tensor h = torch::zeros({E, E}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  const std::string last_output = model::layer_tensor_name(s.n_layers() - 1, "output");
  const model::TapObserver taps = [&](const std::string& name, const torch::Tensor& value) {
    if (model::layer_tensor_suffix(name) != "input" && name != last_output) return;
    torch::Tensor x = value.detach().reshape({-1, E}).to(torch::kFloat64);
    if (options.normalize_positions) x = x / x.norm(2, 1, /*keepdim=*/true).clamp_min(1e-300);
    h.addmm_(x.t(), x);
  };
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& ids : batches) source->forward(ids.to(device), nullptr, false, &taps);
  const double damping = 0.01 * h.diagonal().mean().item<double>();
  const auto [values, vectors] = torch::linalg_eigh(h + damping * torch::eye(E, h.options()), "L");  // ascending
  return {vectors.flip({1}), (values - damping).flip({0})};
}

SliceResult rotate_and_cut(model::Transformer& source, const ResidualBasis& basis, int64_t new_hidden) {
  const model::ModelSpec& s = source->spec();
  check_rotatable(s);
  check_width(s, new_hidden);
  const int64_t E = s.hidden_size;
  BESPOKE_CHECK(basis.rotation.dim() == 2 && basis.rotation.size(0) == E && basis.rotation.size(1) == E,
                "the rotation is not [E, E]");
  model::ModelSpec target = s;
  target.hidden_size = new_hidden;
  target.tie_embeddings = false;
  const model::Family& family = model::family_named(s.family);
  if (new_hidden != E && family.resize_hidden) family.resize_hidden(target);

  const torch::Tensor any = source->parameters().front();
  SliceResult out;
  out.model = model::Transformer(target, torch::TensorOptions().dtype(any.dtype()).device(any.device()));
  out.untied = s.tie_embeddings;
  const torch::Tensor eigenvalues = basis.eigenvalues.to(torch::kFloat64);
  out.dropped_energy = (eigenvalues.narrow(0, new_hidden, E - new_hidden).sum() / eigenvalues.sum()).item<double>();
  torch::NoGradGuard no_grad;
  const Rotation rotated(source, basis.rotation.to(torch::kFloat64).to(any.device()).narrow(1, 0, new_hidden), target);
  auto to = out.model->named_parameters();
  for (const model::TensorInfo& info : model::tensor_table(target)) to[info.name].copy_(rotated(info));
  return out;
}

SliceResult slice_gpt(model::Transformer& source, const std::vector<torch::Tensor>& batches, int64_t new_hidden,
                      const BasisOptions& options) {
  check_width(source->spec(), new_hidden);  // before the forwards
  return rotate_and_cut(source, residual_basis(source, batches, options), new_hidden);
}

}  // namespace bespoke::prune
