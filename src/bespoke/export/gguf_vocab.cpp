#include "bespoke/export/gguf_vocab.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/text/chat_template.h"

namespace bespoke::exporter {
namespace {

using nlohmann::json;

// llama.cpp token types (llama.h).
enum : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// The file's JSON, or {} for a file that is not there.
json read_json_if_present(const std::filesystem::path& p) {
  return std::filesystem::exists(p) ? read_json(p.string()) : json::object();
}

// The pre-tokenizer regex of a byte-level tokenizer.json, or "".
std::string split_regex(const json& pre) {
  if (!pre.is_object()) return "";
  if (pre.value("type", "") == "Split" && pre.contains("pattern") && pre["pattern"].contains("Regex"))
    return pre["pattern"]["Regex"].get<std::string>();
  if (pre.value("type", "") == "Sequence")
    for (const auto& p : pre["pretokenizers"]) {
      const std::string r = split_regex(p);
      if (!r.empty()) return r;
    }
  return "";
}

// llama.cpp names its pre-tokenizers; pick the one whose regex this is.
std::string pre_tokenizer_name(const json& pre) {
  const std::string r = split_regex(pre);
  if (r.empty()) return "gpt-2";  // ByteLevel's own GPT-2 pattern
  if (r.find("\\p{N}{1,3}") != std::string::npos) return "llama-bpe";
  if (r.find("[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}|") != std::string::npos)
    return "qwen35";  // marks join letters
  if (r.find("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|") != std::string::npos) return "qwen2";
  fail(ErrorKind::kUnsupported,
       "tokenizer.json pre-tokenizer regex has no llama.cpp equivalent known to Bespoke: " + r);
}

// A special token's text from tokenizer_config.json ("<s>" or {"content": "<s>"}).
std::string config_token(const json& c, const char* key) {
  if (!c.contains(key)) return "";
  if (c[key].is_string()) return c[key].get<std::string>();
  if (c[key].is_object() && c[key].contains("content")) return c[key]["content"].get<std::string>();
  return "";
}

}  // namespace

void write_vocab(const std::string& dir, int64_t n_vocab, io::GgufWriter& out) {
  namespace fs = std::filesystem;
  const json tok = read_json_if_present(fs::path(dir) / "tokenizer.json");
  if (!tok.contains("model")) fail(ErrorKind::kUnsupported, dir + ": GGUF export needs a tokenizer.json");
  const json config = read_json_if_present(fs::path(dir) / "tokenizer_config.json");
  const json model_config = read_json_if_present(fs::path(dir) / "config.json");
  const json& model = tok["model"];
  if (model.value("type", "BPE") != "BPE") fail(ErrorKind::kUnsupported, "GGUF export supports BPE tokenizers only");
  const bool byte_fallback = model.value("byte_fallback", false);

  std::vector<std::string> tokens(n_vocab);
  std::vector<int32_t> types(n_vocab, kUnused);
  std::vector<float> scores(n_vocab, 0.0f);
  std::map<std::string, int64_t> ids;
  for (const auto& [text, id] : model["vocab"].items()) {
    const int64_t i = id.get<int64_t>();
    if (i >= n_vocab)
      fail(ErrorKind::kInput,
           "tokenizer id " + std::to_string(i) + " is past the model's vocabulary of " + std::to_string(n_vocab));
    tokens[i] = text;
    types[i] = byte_fallback && text.size() == 6 && text.rfind("<0x", 0) == 0 ? kByte : kNormal;
    ids[text] = i;
  }
  std::vector<std::string> merges;
  for (const auto& m : model["merges"])
    merges.push_back(m.is_array() ? m[0].get<std::string>() + " " + m[1].get<std::string>() : m.get<std::string>());
  if (byte_fallback) {
    // SentencePiece-style models merge by highest piece score: score each merged piece by its
    // merge's rank, and the rest below every merge.
    for (float& s : scores) s = -1e9f;
    for (size_t r = 0; r < merges.size(); ++r) {
      const size_t space = merges[r].find(' ', 1);
      auto it = ids.find(merges[r].substr(0, space) + merges[r].substr(space + 1));
      if (it != ids.end()) scores[it->second] = -static_cast<float>(r);
    }
    if (model.contains("unk_token") && model["unk_token"].is_string() && ids.count(model["unk_token"]))
      types[ids[model["unk_token"]]] = kUnknown;
  }
  for (const auto& a : tok.value("added_tokens", json::array())) {
    const int64_t i = a["id"].get<int64_t>();
    if (i >= n_vocab)
      fail(ErrorKind::kInput, "added token id " + std::to_string(i) + " is past the model's vocabulary");
    tokens[i] = a["content"].get<std::string>();
    ids[tokens[i]] = i;
    if (types[i] != kUnknown) types[i] = a.value("special", false) ? kControl : kUserDefined;
  }
  for (int64_t i = 0; i < n_vocab; ++i)
    if (tokens[i].empty()) tokens[i] = "[PAD" + std::to_string(i) + "]";

  out.add_string("tokenizer.ggml.model", byte_fallback ? "llama" : "gpt2");
  out.add_string("tokenizer.ggml.pre",
                 byte_fallback ? "default" : pre_tokenizer_name(tok.value("pre_tokenizer", json())));
  out.add_string_array("tokenizer.ggml.tokens", tokens);
  out.add_int32_array("tokenizer.ggml.token_type", types);
  if (byte_fallback)
    out.add_float32_array("tokenizer.ggml.scores", scores);
  else
    out.add_string_array("tokenizer.ggml.merges", merges);

  auto special_id = [&](const char* config_key, const char* id_key) -> int64_t {
    const std::string text = config_token(config, config_key);
    if (!text.empty() && ids.count(text)) return ids[text];
    if (model_config.contains(id_key) && model_config[id_key].is_number_integer())
      return model_config[id_key].get<int64_t>();
    return -1;
  };
  const std::pair<const char*, const char*> specials[] = {
      {"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unknown", "unk_token_id"}, {"padding", "pad_token_id"}};
  for (const auto& [name, id_key] : specials) {
    const std::string config_key = std::string(name == std::string("unknown")   ? "unk"
                                               : name == std::string("padding") ? "pad"
                                                                                : name) +
                                   "_token";
    const int64_t id = special_id(config_key.c_str(), id_key);
    if (id >= 0) out.add_uint32(std::string("tokenizer.ggml.") + name + "_token_id", static_cast<uint32_t>(id));
  }
  // BOS is added where the post-processor's template starts with a special token.
  bool add_bos = false;
  const json& post = tok.value("post_processor", json());
  auto template_adds_bos = [](const json& p) {
    return p.is_object() && p.value("type", "") == "TemplateProcessing" && !p["single"].empty() &&
           p["single"][0].contains("SpecialToken");
  };
  if (template_adds_bos(post)) add_bos = true;
  if (post.is_object() && post.value("type", "") == "Sequence")
    for (const auto& p : post["processors"]) add_bos = add_bos || template_adds_bos(p);
  out.add_bool("tokenizer.ggml.add_bos_token", add_bos);
  out.add_bool("tokenizer.ggml.add_eos_token", false);
  if (byte_fallback) {
    const std::string normalizer = tok.value("normalizer", json()).dump();
    out.add_bool("tokenizer.ggml.add_space_prefix", normalizer.find("Prepend") != std::string::npos);
  }
  try {
    out.add_string("tokenizer.chat_template", text::read_chat_template(dir));
  } catch (const Error&) {
    // A model without a chat template exports without one.
  }
}

}  // namespace bespoke::exporter
