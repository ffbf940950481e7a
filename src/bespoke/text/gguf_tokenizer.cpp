#include "bespoke/text/gguf_tokenizer.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/io/gguf_reader.h"
#include "bespoke/text/hf_tokenizer.h"

namespace bespoke::text {
namespace {

using nlohmann::json;

// llama.cpp's token types (llama.h), as tokenizer.ggml.token_type holds them.
enum : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4 };

constexpr const char* kSpace = "▁";  // U+2581, SentencePiece's visible space

// `s` quoted and escaped, so that a message naming it stays on one line.
std::string json_quoted(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

// A byte-level pre-tokenizer of llama.cpp (llama-vocab.cpp): the tokenizer.ggml.pre names that
// select it and the word regex it splits by, as llama.cpp writes it. Only names whose sole effect
// on encoding is this regex (and the two flags) are listed.
struct BytePre {
  std::vector<std::string> names;
  const char* regex;
  bool ignore_merges;  // a word that is a token stays whole
  bool add_bos;        // llama.cpp's default where tokenizer.ggml.add_bos_token is absent
};

constexpr const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr const char* kQwen35Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const std::vector<BytePre>& byte_pres() {
  static const std::vector<BytePre> pres = {
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "a.x-4.0", "mellum", "exaone4", "mpt", "olmo", "jais",
        "trillion", "granite-docling"},
       kGpt2Regex,
       false,
       false},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"},
       kLlama3Regex,
       true,
       true},
      {{"dbrx", "smaug-bpe"}, kLlama3Regex, false, false},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan"}, kQwen2Regex, false, false},
      {{"qwen35"}, kQwen35Regex, false, false},
  };
  return pres;
}

const BytePre& find_byte_pre(const std::string& name) {
  for (const BytePre& pre : byte_pres())
    if (std::find(pre.names.begin(), pre.names.end(), name) != pre.names.end()) return pre;
  fail(ErrorKind::kUnsupported, "tokenizer.ggml.pre " + json_quoted(name) +
                                    " names a llama.cpp pre-tokenizer Bespoke does not reproduce (it reads "
                                    "those of gpt-2, llama-bpe, qwen2 and qwen35)");
}

// The vocabulary as llama.cpp reads it.
struct Vocab {
  std::vector<std::string> tokens;
  std::vector<int64_t> types;  // kNormal where the file has no token_type
  std::vector<float> scores;   // 0 where the file has no scores
  std::unordered_map<std::string, int32_t> ids;
};

// tokenizer.ggml.<name>: one number per token, or `fallback` for each where the file has none.
template <typename T>
std::vector<T> per_token(const json& md, const std::string& name, size_t n, T fallback) {
  const std::string key = "tokenizer.ggml." + name;
  if (!md.contains(key)) return std::vector<T>(n, fallback);
  const json& a = md[key];
  if (!a.is_array() || a.size() < n) fail(ErrorKind::kInput, key + " does not hold a number for every token");
  std::vector<T> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!a[i].is_number()) fail(ErrorKind::kInput, key + " holds a value that is not a number");
    out.push_back(a[i].get<T>());
  }
  return out;
}

// An empty token becomes "[EMPTY_<id>]", as llama.cpp renames it; a text that appears twice is
// refused (llama.cpp aborts on it: ids are looked up by text).
Vocab read_vocab(const json& md) {
  const char* key = "tokenizer.ggml.tokens";
  if (!md.contains(key) || !md[key].is_array() || md[key].empty())
    fail(ErrorKind::kInput, std::string(key) + " is missing or empty");
  Vocab v;
  for (const json& t : md[key]) {
    if (!t.is_string()) fail(ErrorKind::kInput, std::string(key) + " holds a value that is not a string");
    const int32_t id = static_cast<int32_t>(v.tokens.size());
    std::string text = t.get<std::string>();
    if (text.empty()) text = "[EMPTY_" + std::to_string(id) + "]";
    const auto [at, fresh] = v.ids.emplace(text, id);
    if (!fresh)
      fail(ErrorKind::kInput, std::string(key) + " holds " + json_quoted(text) + " twice (ids " +
                                  std::to_string(at->second) + " and " + std::to_string(id) + ")");
    v.tokens.push_back(std::move(text));
  }
  v.types = per_token<int64_t>(md, "token_type", v.tokens.size(), kNormal);
  v.scores = per_token<float>(md, "scores", v.tokens.size(), 0.0f);
  return v;
}

// Texts that llama.cpp's loader makes control tokens whatever type the file gives them: those
// that end generation, and the fill-in-the-middle ones of each role the file names no id for
// (tokenizer.ggml.<key>_token_id).
struct ControlTexts {
  std::vector<std::string> keys, texts;
};

const std::vector<ControlTexts>& control_texts() {
  static const std::vector<ControlTexts> roles = {
      {{},
       {"<|eot_id|>",
        "<|im_end|>",
        "<|end|>",
        "<|return|>",
        "<|call|>",
        "<|flush|>",
        "<|calls|>",
        "<end_of_turn>",
        "<|endoftext|>",
        "</s>",
        "<|eom_id|>",
        "<EOT>",
        "_<EOT>",
        "[EOT]",
        "[EOS]",
        "<|end_of_text|>",
        "<end_of_utterance>",
        "<eos>",
        "<turn|>",
        "<|tool_response>",
        "<｜end▁of▁sentence｜>",
        "[e~["}},
      {{"fim_pre", "prefix"},
       {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
        "<|prefix|>"}},
      {{"fim_suf", "suffix"},
       {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
        "<|suffix|>"}},
      {{"fim_mid", "middle"},
       {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
        "<|middle|>"}},
      {{"fim_pad"}, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}},
      {{"fim_rep"}, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}},
      {{"fim_sep"}, {"<|file_sep|>"}},
  };
  return roles;
}

// A special token's id as llama.cpp resolves it: tokenizer.ggml.<name>_token_id where it names a
// token, else `fallback` where that does, else -1.
int32_t special_id(const json& md, const std::string& name, int32_t fallback, size_t n) {
  const int64_t id = config_int(md, ("tokenizer.ggml." + name + "_token_id").c_str(), -1);
  if (id >= 0 && static_cast<size_t>(id) < n) return static_cast<int32_t>(id);
  return fallback >= 0 && static_cast<size_t>(fallback) < n ? fallback : -1;
}

struct SpecialIds {
  int32_t bos, eos, unk;
};

// llama.cpp's defaults where the file names none: SentencePiece's ids for "llama", its
// placeholder 11 for a "gpt2" EOS, and no BOS for "gpt2" (what node-llama-cpp 3.21.1 reports
// for the Qwen and OLMo exports, which name none).
SpecialIds special_ids(const json& md, size_t n) {
  const bool spm = config_string(md, "tokenizer.ggml.model", "") == "llama";
  return {special_id(md, "bos", spm ? 1 : -1, n), special_id(md, "eos", spm ? 2 : 11, n),
          special_id(md, "unknown", spm ? 0 : -1, n)};
}

// The token types llama.cpp's loader ends with (llama-vocab.cpp): the control_texts() become
// control tokens, then </s> a normal one again where <|tool_response> also ends generation.
void retype_as_llama_cpp(Vocab& v, const json& md) {
  auto retype = [&](const std::string& text, int64_t type) {
    const auto it = v.ids.find(text);
    if (it != v.ids.end()) v.types[it->second] = type;
  };
  for (const ControlTexts& role : control_texts()) {
    const bool named = std::any_of(role.keys.begin(), role.keys.end(), [&](const std::string& key) {
      return special_id(md, key, -1, v.tokens.size()) >= 0;
    });
    if (!named)
      for (const std::string& t : role.texts) retype(t, kControl);
  }
  if (v.ids.count("<|tool_response>")) retype("</s>", kNormal);
}

json vocab_json(const Vocab& v) {
  json vocab = json::object();
  for (size_t id = 0; id < v.tokens.size(); ++id) vocab[v.tokens[id]] = id;
  return vocab;
}

// What llama.cpp matches in the raw text before tokenizing it: control, user-defined and unknown
// tokens; all but user-defined ones are special (decode skips them on request). llama.cpp makes
// those of a model named Phi-3 swallow the whitespace after them, all but <unk>, <s> and
// <|endoftext|>, as Phi-3's own tokenizer.json does.
json added_tokens(const Vocab& v, std::string model_name) {
  std::transform(model_name.begin(), model_name.end(), model_name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool phi3 = model_name.find("phi-3") != std::string::npos || model_name.find("phi3") != std::string::npos;
  json added = json::array();
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const int64_t type = v.types[id];
    if (type != kControl && type != kUserDefined && type != kUnknown) continue;
    const std::string& t = v.tokens[id];
    const bool rstrip = phi3 && t != "<unk>" && t != "<s>" && t != "<|endoftext|>";
    added.push_back(
        json{{"id", id}, {"content", t}, {"special", type != kUserDefined}, {"normalized", false}, {"rstrip", rstrip}});
  }
  return added;
}

// The BOS and EOS that encoding with special tokens puts around the text.
json post_processor(const Vocab& v, int32_t bos, int32_t eos, bool add_bos, bool add_eos) {
  json single = json::array(), special_tokens = json::object();
  auto add = [&](int32_t id) {
    const std::string& t = v.tokens[id];
    single.push_back(json{{"SpecialToken", json{{"id", t}, {"type_id", 0}}}});
    special_tokens[t] = json{{"id", t}, {"ids", json::array({id})}};
  };
  if (add_bos && bos >= 0) add(bos);
  single.push_back(json{{"Sequence", json{{"id", "A"}, {"type_id", 0}}}});
  if (add_eos && eos >= 0) add(eos);
  return json{{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", special_tokens}};
}

// llama.cpp's SentencePiece-style merging as ranked BPE merges. It joins the neighbours whose
// concatenation is the highest-scored piece, so every split of a piece into two pieces is a merge,
// ranked by the piece's score. Pieces of equal score rank by id where llama.cpp joins the leftmost
// pair; the two differ only where such pieces compete for one symbol.
json merges_by_score(const Vocab& v) {
  std::vector<int32_t> order(v.tokens.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return v.scores[a] > v.scores[b]; });
  json merges = json::array();
  for (const int32_t id : order) {
    const std::string& t = v.tokens[id];
    for (size_t k = 1; k < t.size(); ++k) {
      if ((static_cast<unsigned char>(t[k]) & 0xC0) == 0x80) continue;  // inside a UTF-8 character
      std::string left = t.substr(0, k), right = t.substr(k);
      if (v.ids.count(left) && v.ids.count(right)) merges.push_back(json::array({std::move(left), std::move(right)}));
    }
  }
  return merges;
}

// "llama": the text's spaces written as U+2581, with one more in front of every stretch of text
// (each follows the start or a special token) where add_space_prefix says so; no pre-tokenizer;
// pieces merged by score; characters outside the vocabulary as <0xNN> byte tokens.
json spm_json(const json& md, const Vocab& v, const SpecialIds& ids) {
  const bool space_prefix = config_bool(md, "tokenizer.ggml.add_space_prefix", true);
  const json escape = {{"type", "Replace"}, {"pattern", json{{"String", " "}}}, {"content", kSpace}};
  const json prepend = {{"type", "Prepend"}, {"prepend", kSpace}};
  json decoders = json::array({json{{"type", "Replace"}, {"pattern", json{{"String", kSpace}}}, {"content", " "}},
                               json{{"type", "ByteFallback"}}, json{{"type", "Fuse"}}});
  if (space_prefix)  // the prefix comes off the decoded text again
    decoders.push_back(json{{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  return json{{"normalizer",
               space_prefix ? json{{"type", "Sequence"}, {"normalizers", json::array({prepend, escape})}} : escape},
              {"model", json{{"type", "BPE"},
                             {"vocab", vocab_json(v)},
                             {"merges", merges_by_score(v)},
                             {"byte_fallback", true},
                             {"unk_token", ids.unk >= 0 ? json(v.tokens[ids.unk]) : json()}}},
              {"decoder", json{{"type", "Sequence"}, {"decoders", decoders}}}};
}

// "gpt2": words split by the pre-tokenizer's regex, their bytes written as GPT-2's stand-in
// characters, then ranked merges (tokenizer.ggml.merges).
json bpe_json(const json& md, const Vocab& v, const BytePre& pre) {
  const char* key = "tokenizer.ggml.merges";
  if (!md.contains(key) || !md[key].is_array()) fail(ErrorKind::kInput, std::string(key) + " is missing");
  const json split = {
      {"type", "Split"}, {"pattern", json{{"Regex", pre.regex}}}, {"behavior", "Isolated"}, {"invert", false}};
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  return json{
      {"pre_tokenizer", json{{"type", "Sequence"}, {"pretokenizers", json::array({split, byte_level})}}},
      {"model",
       json{{"type", "BPE"}, {"vocab", vocab_json(v)}, {"merges", md[key]}, {"ignore_merges", pre.ignore_merges}}},
      {"decoder", json{{"type", "ByteLevel"}}}};
}

// The tokenizer.json that encodes as llama.cpp does with the file's metadata.
json tokenizer_json(const json& md) {
  const std::string model = config_string(md, "tokenizer.ggml.model", "");
  if (model.empty()) fail(ErrorKind::kInput, "no tokenizer.ggml.model: the file carries no tokenizer");
  if (model != "llama" && model != "gpt2")
    fail(ErrorKind::kUnsupported, "tokenizer.ggml.model " + json_quoted(model) +
                                      " is a tokenizer Bespoke does not reproduce (it reads \"llama\" and \"gpt2\")");
  const bool spm = model == "llama";
  // llama.cpp reads no pre-tokenizer for "llama"; for "gpt2" a missing one is its "default".
  const BytePre* pre = spm ? nullptr : &find_byte_pre(config_string(md, "tokenizer.ggml.pre", "default"));
  Vocab v = read_vocab(md);
  retype_as_llama_cpp(v, md);
  const SpecialIds ids = special_ids(md, v.tokens.size());
  json spec = spm ? spm_json(md, v, ids) : bpe_json(md, v, *pre);
  spec["added_tokens"] = added_tokens(v, config_string(md, "general.name", ""));
  spec["post_processor"] =
      post_processor(v, ids.bos, ids.eos, config_bool(md, "tokenizer.ggml.add_bos_token", spm || pre->add_bos),
                     config_bool(md, "tokenizer.ggml.add_eos_token", false));
  return spec;
}

}  // namespace

bool is_gguf_path(const std::string& path) {
  // A file that is not a GGUF then fails as one, rather than as a directory without a tokenizer.
  return std::filesystem::is_regular_file(path);
}

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const io::GgufFile& file) {
  try {
    return std::make_unique<HfTokenizer>(tokenizer_json(file.metadata()));
  } catch (const Error& e) {
    throw with_context(e, file.path());
  } catch (const json::exception& e) {
    fail(ErrorKind::kInput, file.path() + ": " + e.what());
  }
}

GgufChat read_gguf_chat(const io::GgufFile& file) {
  const json& md = file.metadata();
  try {
    const Vocab v = read_vocab(md);
    const SpecialIds ids = special_ids(md, v.tokens.size());
    GgufChat chat;
    if (ids.bos >= 0) chat.bos_token = v.tokens[ids.bos];
    if (ids.eos >= 0) chat.eos_token = v.tokens[ids.eos];
    chat.chat_template = config_string(md, "tokenizer.chat_template", "");
    return chat;
  } catch (const Error& e) {
    throw with_context(e, file.path());
  }
}

}  // namespace bespoke::text
