#include "bespoke/model/load.h"

#include <map>
#include <set>
#include <cstring>

#include "bespoke/core/error.h"
#include "bespoke/io/hf_config.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/family.h"
#include "bespoke/model/tensor_table.h"

namespace bespoke::model {
namespace {

// The fusion whose parts include the layer tensor `suffix`, or null.
const Fusion* fusion_of(const Family& family, const std::string& suffix) {
  for (const Fusion& f : family.fusions)
    for (const std::string& part : f.parts)
      if (part == suffix) return &f;
  return nullptr;
}

std::string suffix_of(const TensorInfo& t) {
  return t.layer < 0 ? t.name : t.name.substr(t.name.find('.', 4) + 1);
}

std::string hf_name(const Family& family, const TensorInfo& t) {
  if (t.layer >= 0) {
    if (const Fusion* f = fusion_of(family, suffix_of(t)))
      return "model.layers." + std::to_string(t.layer) + "." + f->hf;
  }
  const std::string name = hf_tensor_name(family, t.name);
  BESPOKE_CHECK(!name.empty(), "family " + family.name + " has no name for " + t.name);
  return name;
}

// Rows [offset, offset + rows) of a fused tensor hold `t`.
int64_t fusion_offset(const Family& family, const ModelSpec& spec, const TensorInfo& t) {
  const Fusion* f = fusion_of(family, suffix_of(t));
  if (!f) return -1;
  int64_t offset = 0;
  for (const std::string& part : f->parts) {
    if (part == suffix_of(t)) return offset;
    for (const TensorInfo& other : tensor_table(spec))
      if (other.name == layer_tensor_name(t.layer, part)) offset += other.shape[0];
  }
  return offset;
}

// Multimodal checkpoints nest the language model ("model.language_model.layers.0...",
// "language_model.model.layers.0...") beside vision and audio towers. Maps each language-model
// tensor's plain name to its stored name; the towers are left out.
std::map<std::string, std::string> language_model_names(const io::Checkpoint& ckpt) {
  static const char* kOtherModalities[] = {"vision_tower", "multi_modal_projector", "audio_tower",
                                           "embed_vision", "embed_audio"};
  std::map<std::string, std::string> out;
  for (const std::string& stored : ckpt.names()) {
    bool other = false;
    for (const char* m : kOtherModalities) other = other || stored.find(m) != std::string::npos;
    if (other) continue;
    std::string plain = stored;
    for (const char* prefix : {"model.language_model.", "language_model.model.", "language_model."}) {
      if (plain.rfind(prefix, 0) == 0) {
        plain = (std::string(prefix) == "language_model." ? "" : "model.") + plain.substr(std::strlen(prefix));
        break;
      }
    }
    out[plain] = stored;
  }
  return out;
}

torch::Tensor read_tensor(const Family& family, const ModelSpec& spec, const io::Checkpoint& ckpt,
                          const std::map<std::string, std::string>& stored, const TensorInfo& t) {
  const std::string plain = hf_name(family, t);
  auto it = stored.find(plain);
  if (it == stored.end())
    fail(ErrorKind::kInput, "checkpoint has no tensor '" + plain + "' (needed for " + t.name + ")");
  const std::string& name = it->second;
  torch::Tensor x = ckpt.get(name);
  const int64_t offset = fusion_offset(family, spec, t);
  if (offset >= 0) {
    if (x.dim() != 2 || x.size(0) < offset + t.shape[0]) {
      fail(ErrorKind::kInput, ckpt.file_of(name) + ": tensor '" + name + "': shape " +
                                  shape_string(x.sizes().vec()) + " too small for its parts");
    }
    x = x.narrow(0, offset, t.shape[0]);
  }
  if (x.sizes().vec() != t.shape)
    fail(ErrorKind::kInput, ckpt.file_of(name) + ": tensor '" + name + "': shape " +
                                shape_string(x.sizes().vec()) + " != spec " + shape_string(t.shape) +
                                " from config.json");
  return x;
}

// Tensors a checkpoint may carry that are not weights of the model.
bool ignorable(const std::string& name, const ModelSpec& spec) {
  const std::string inv_freq = "rotary_emb.inv_freq";
  return (name.size() >= inv_freq.size() && name.compare(name.size() - inv_freq.size(), inv_freq.size(), inv_freq) == 0) ||
         (spec.tie_embeddings && name == "lm_head.weight");
}

}  // namespace

Transformer load_model(const std::string& dir, const LoadOptions& options) {
  const ModelSpec spec = io::read_hf_config(dir);
  const Family& family = family_named(spec.family);
  const io::Checkpoint ckpt(dir);
  const std::map<std::string, std::string> stored = language_model_names(ckpt);
  Transformer model(spec);
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  std::set<std::string> used;
  for (const TensorInfo& t : tensor_table(spec)) {
    torch::Tensor* p = params.find(t.name);
    BESPOKE_CHECK(p != nullptr, "transformer has no parameter " + t.name);
    p->copy_(read_tensor(family, spec, ckpt, stored, t));
    used.insert(hf_name(family, t));
  }
  for (const auto& [plain, name] : stored)
    if (!used.count(plain) && !ignorable(plain, spec))
      fail(ErrorKind::kInput, ckpt.file_of(name) + ": unexpected tensor '" + name + "' for a " +
                                  family.name + " model with this config.json");
  model->to(options.device, options.dtype);
  return model;
}

std::vector<std::pair<std::string, torch::Tensor>> hf_state_dict(Transformer& model) {
  const ModelSpec& spec = model->spec();
  const Family& family = family_named(spec.family);
  auto params = model->named_parameters();
  std::vector<std::pair<std::string, torch::Tensor>> out;
  std::map<std::string, std::vector<torch::Tensor>> fused;  // HF name -> parts in order
  for (const TensorInfo& t : tensor_table(spec)) {
    const std::string name = hf_name(family, t);
    const torch::Tensor& p = *params.find(t.name);
    if (fusion_offset(family, spec, t) < 0) {
      out.emplace_back(name, p.detach());
      continue;
    }
    if (!fused.count(name)) out.emplace_back(name, torch::Tensor());
    fused[name].push_back(p.detach());
  }
  for (auto& [name, tensor] : out)
    if (!tensor.defined()) tensor = torch::cat(fused[name], 0);
  return out;
}

}  // namespace bespoke::model
