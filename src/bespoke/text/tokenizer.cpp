#include "bespoke/text/tokenizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/io/gguf_reader.h"
#include "bespoke/text/gguf_tokenizer.h"
#include "bespoke/text/hf_tokenizer.h"
#include "bespoke/text/spm_tokenizer.h"

namespace bespoke::text {
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir) {
  namespace fs = std::filesystem;
  // A GGUF file brings its own tokenizer, so every command that takes a model path takes one.
  if (is_gguf_path(dir)) return load_gguf_tokenizer(io::GgufFile(dir));
  const std::string json_path = (fs::path(dir) / "tokenizer.json").string();
  const std::string spm_path = (fs::path(dir) / "tokenizer.model").string();
  if (fs::exists(json_path)) {
    const nlohmann::json spec = read_json(json_path);
    try {
      return std::make_unique<HfTokenizer>(spec);
    } catch (const Error& e) {
      throw with_context(e, json_path);
    } catch (const nlohmann::json::exception& e) {
      fail(ErrorKind::kInput, json_path + ": " + e.what());
    }
  }
  if (fs::exists(spm_path)) {
    const std::string config_path = (fs::path(dir) / "tokenizer_config.json").string();
    const nlohmann::json config = fs::exists(config_path) ? read_json(config_path) : nlohmann::json::object();
    const auto flag = [&](const char* key, bool fallback) {
      return config.contains(key) && config[key].is_boolean() ? config[key].get<bool>() : fallback;
    };
    return std::make_unique<SpmTokenizer>(spm_path, flag("add_bos_token", true), flag("add_eos_token", false));
  }
  fail(ErrorKind::kInput, dir + ": no tokenizer.json or tokenizer.model");
}

}  // namespace bespoke::text
