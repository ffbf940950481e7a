// A Family record describes how one Hugging Face architecture maps onto ModelSpec and the
// canonical tensor names. One file per family under families/ fills one record; the
// transformer never sees the family.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bespoke/model/spec.h"

namespace bespoke::io {
class GgufFile;
}

namespace bespoke::model {

struct GgufArch;  // gguf_arch.h

// A canonical name suffix and its Hugging Face counterpart. Layer rules are relative to
// "blk.<i>." and "model.layers.<i>."; global rules are full names.
struct NameRule {
  std::string canonical;
  std::string hf;
};

// A checkpoint tensor that holds several canonical tensors stacked along dim 0 (Phi-3 qkv).
struct Fusion {
  std::string hf;                  // layer-relative HF suffix
  std::vector<std::string> parts;  // canonical suffixes, in stacking order
};

struct Family {
  std::string name;
  std::vector<std::string> model_types;  // accepted config.json "model_type" values
  // The transformers Config class's defaults as JSON: the values of keys a config.json leaves
  // out (e.g. Gemma 3's text_config, which lists only what differs).
  const char* defaults;
  // Sets the family's quirks on a spec that the generic config reader has filled.
  void (*configure)(const nlohmann::json& config, ModelSpec& spec);
  // For configs without `layer_types`: each layer's "full_attention" or "sliding_attention".
  // Null means every layer is global.
  std::vector<std::string> (*default_layer_types)(const nlohmann::json& config, int64_t n_layers);
  std::vector<NameRule> global_names;
  std::vector<NameRule> layer_names;
  std::vector<Fusion> fusions;
  // The llama.cpp architecture a model of this family is written as, with its keys and weight
  // transforms; refuses shapes that llama.cpp cannot run.
  GgufArch (*gguf_arch)(const ModelSpec& spec);
  // The llama.cpp architectures read back as this family, and the config.json a GGUF file of
  // them stands for (configure() then sets the quirks, as for a checkpoint).
  std::vector<std::string> gguf_reads;
  nlohmann::json (*gguf_config)(const io::GgufFile& file);
  // Rewrites the config keys only this family has for a model whose layers changed (Gemma 4's
  // per_layer_config, renumbered); null where the generic writer (hf_export.cpp) covers all.
  void (*write_config)(const ModelSpec& spec, nlohmann::json& text_config);
  // Sets what the family derives from the hidden size anew after a cut changed it (Gemma's
  // sqrt(hidden) embedding scale); null where nothing is.
  void (*resize_hidden)(ModelSpec& spec) = nullptr;
};

// The names shared by the Llama-like families; families copy and amend them.
std::vector<NameRule> llama_global_names();
std::vector<NameRule> llama_layer_names();

// Layer types for families that apply `sliding_window`, when set, to every layer.
std::vector<std::string> sliding_everywhere_layer_types(const nlohmann::json& config, int64_t n_layers);

// Registered families, one line each in registry.cpp.
const std::vector<const Family*>& families();
// Throws Error(kUnsupported) listing the supported model types.
const Family& family_for_model_type(const std::string& model_type);
const Family& family_named(const std::string& name);
// The family that reads GGUF architecture `arch`; throws Error(kUnsupported) listing them.
const Family& family_for_gguf_arch(const std::string& arch);

// Maps a canonical tensor name to the family's HF name; empty if the family has no rule.
std::string hf_tensor_name(const Family& family, const std::string& canonical);

}  // namespace bespoke::model
