#include "bespoke/model/load.h"

#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "bespoke/core/error.h"
#include "bespoke/core/shape.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/family.h"
#include "bespoke/model/gguf_load.h"
#include "bespoke/model/hf_config.h"
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
  return layer_tensor_suffix(t.name);
}

// Where one canonical tensor lives in a Hugging Face checkpoint.
struct Source {
  const TensorInfo* info;
  std::string hf;           // the checkpoint's name
  int64_t row_offset = -1;  // >= 0: rows [row_offset, + rows) of a fused tensor
};

std::vector<Source> sources(const Family& family, const std::vector<TensorInfo>& table) {
  std::map<std::string, const TensorInfo*> by_name;
  for (const TensorInfo& t : table) by_name[t.name] = &t;
  std::vector<Source> out;
  for (const TensorInfo& t : table) {
    Source s{&t, hf_tensor_name(family, t.name)};
    if (const Fusion* f = t.layer >= 0 ? fusion_of(family, suffix_of(t)) : nullptr) {
      s.hf = "model.layers." + std::to_string(t.layer) + "." + f->hf;
      s.row_offset = 0;
      for (const std::string& part : f->parts) {
        if (part == suffix_of(t)) break;
        s.row_offset += by_name.at(layer_tensor_name(t.layer, part))->shape[0];
      }
    }
    BESPOKE_CHECK(!s.hf.empty(), "family " + family.name + " has no name for " + t.name);
    out.push_back(s);
  }
  return out;
}

// Multimodal checkpoints nest the language model ("model.language_model.layers.0...",
// "language_model.model.layers.0...") beside vision and audio towers. Maps each language-model
// tensor's plain name to its stored name; the towers are left out.
std::map<std::string, std::string> language_model_names(const io::Checkpoint& ckpt) {
  static const char* kOtherModalities[] = {"vision_tower", "multi_modal_projector", "audio_tower",
                                           "embed_vision", "embed_audio",           "model.visual."};
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

torch::Tensor read_tensor(const io::Checkpoint& ckpt, const std::map<std::string, std::string>& stored,
                          const Source& src) {
  const TensorInfo& t = *src.info;
  auto it = stored.find(src.hf);
  if (it == stored.end())
    fail(ErrorKind::kInput, "checkpoint has no tensor '" + src.hf + "' (needed for " + t.name + ")");
  const std::string& name = it->second;
  torch::Tensor x = ckpt.get(name);
  if (src.row_offset >= 0) {
    if (x.dim() != int64_t(t.shape.size()) || x.size(0) < src.row_offset + t.shape[0])
      fail(ErrorKind::kInput, ckpt.file_of(name) + ": tensor '" + name + "': shape " + shape_string(x.sizes().vec()) +
                                  " too small for its parts");
    x = x.narrow(0, src.row_offset, t.shape[0]);
  }
  if (x.sizes().vec() != t.shape)
    fail(ErrorKind::kInput, ckpt.file_of(name) + ": tensor '" + name + "': shape " + shape_string(x.sizes().vec()) +
                                " != spec " + shape_string(t.shape) + " from config.json");
  return x;
}

bool ends_with(const std::string& s, const std::string& end) {
  return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

// Tensors a checkpoint may carry that are not weights of the model: rope tables, a tied
// head, Qwen 3.5's multi-token-prediction block (mtp.*, which transformers does not run either),
// and the unused key/value weights of layers that reuse another layer's (Gemma 4).
bool ignorable(const std::string& name, const ModelSpec& spec) {
  if (ends_with(name, "rotary_emb.inv_freq") || (spec.tie_embeddings && name == "lm_head.weight")) return true;
  if (name.rfind("mtp.", 0) == 0) return true;
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) != 0) return false;
  const size_t dot = name.find('.', prefix.size());
  const int64_t layer = std::atoll(name.c_str() + prefix.size());
  if (layer < 0 || layer >= spec.n_layers() || spec.layers[layer].kv_source < 0) return false;
  for (const char* unused :
       {"self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.k_norm.weight", "self_attn.v_norm.weight"})
    if (name.compare(dot + 1, std::string::npos, unused) == 0) return true;
  return false;
}

}  // namespace

Transformer load_model(const std::string& dir, const LoadOptions& options) {
  if (std::filesystem::is_regular_file(dir) && io::is_gguf(dir)) return load_gguf_model(dir, options);
  const ModelSpec spec = read_hf_config(dir);
  const Family& family = family_named(spec.family);
  const io::Checkpoint ckpt(dir);
  const std::map<std::string, std::string> stored = language_model_names(ckpt);
  Transformer model(spec, torch::TensorOptions().dtype(options.dtype).device(options.device));
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  std::set<std::string> used;
  const std::vector<TensorInfo> table = tensor_table(spec);
  for (const Source& src : sources(family, table)) {
    torch::Tensor* p = params.find(src.info->name);
    BESPOKE_CHECK(p != nullptr, "transformer has no parameter " + src.info->name);
    p->copy_(read_tensor(ckpt, stored, src));
    used.insert(src.hf);
  }
  for (const auto& [plain, name] : stored)
    if (!used.count(plain) && !ignorable(plain, spec))
      fail(ErrorKind::kInput, ckpt.file_of(name) + ": unexpected tensor '" + name + "' for a " + family.name +
                                  " model with this config.json");
  return model;
}

std::vector<std::pair<std::string, torch::Tensor>> hf_state_dict(Transformer& model) {
  const ModelSpec& spec = model->spec();
  auto params = model->named_parameters();
  const std::vector<TensorInfo> table = tensor_table(spec);
  std::vector<std::pair<std::string, torch::Tensor>> out;
  std::map<std::string, std::map<int64_t, torch::Tensor>> fused;  // HF name -> parts by row offset
  for (const Source& src : sources(family_named(spec.family), table)) {
    const torch::Tensor p = params.find(src.info->name)->detach();
    if (src.row_offset < 0) {
      out.emplace_back(src.hf, p);
      continue;
    }
    if (!fused.count(src.hf)) out.emplace_back(src.hf, torch::Tensor());
    fused[src.hf][src.row_offset] = p;
  }
  for (auto& [name, tensor] : out) {
    if (tensor.defined()) continue;
    std::vector<torch::Tensor> parts;
    for (const auto& [offset, part] : fused[name]) parts.push_back(part);
    tensor = torch::cat(parts, 0);
  }
  return out;
}

}  // namespace bespoke::model
