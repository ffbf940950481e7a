#include "bespoke/pipeline/scratch.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/pipeline/domains.h"
#include "bespoke/text/bpe_trainer.h"
#include "bespoke/text/tokenizer.h"
#include "bespoke/pipeline/stage.h"

namespace bespoke::pipeline {
namespace {

namespace fs = std::filesystem;

// Sets the special-token ids in a config (config.json, generation_config.json) from `renumber`.
void renumber_token_ids(Json& config, const std::map<int64_t, int64_t>& renumber) {
  const auto one = [&](const Json& id) -> Json {
    if (!id.is_number_integer()) return id;
    auto it = renumber.find(id.get<int64_t>());
    if (it == renumber.end())
      fail(ErrorKind::kInput, "token id " + id.dump() + " in the base config is no added token");
    return it->second;
  };
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"}) {
    if (!config.contains(key)) continue;
    if (config[key].is_array())
      for (Json& id : config[key]) id = one(id);
    else
      config[key] = one(config[key]);
  }
}

// The texts a tokenizer learns from, every record's.
std::vector<std::string> file_texts(const std::string& jsonl) {
  std::vector<std::string> texts;
  std::ifstream in(jsonl);
  for (std::string line; std::getline(in, line);)
    for (std::string& text : record_texts(Json::parse(line))) texts.push_back(std::move(text));
  return texts;
}

}  // namespace

void copy_model_files(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.find("safetensors") == std::string::npos && name.rfind("reference", 0) != 0)
      fs::copy_file(e.path(), fs::path(to) / name, fs::copy_options::overwrite_existing);
  }
}

Json learn_tokenizer(const Scratch& s, const std::string& train_data, const std::string& dir) {
  const fs::path out = fs::path(dir) / "tokenizer";
  copy_model_files(s.tokenizer, out.string());
  const Json base = read_json(out / "tokenizer.json");
  const std::vector<std::string> texts = file_texts(train_data);
  const Json trained =
      text::train_byte_level_bpe(base, texts, static_cast<int32_t>(s.vocab), static_cast<int32_t>(s.digits));
  write_json(out / "tokenizer.json", trained);

  std::map<std::string, int64_t> new_ids;
  for (const Json& a : trained["added_tokens"]) new_ids[a["content"]] = a["id"];
  std::map<int64_t, int64_t> renumber;
  for (const Json& a : base.value("added_tokens", Json::array())) renumber[a["id"]] = new_ids.at(a["content"]);
  for (const char* name : {"config.json", "generation_config.json"}) {
    if (!fs::exists(out / name)) continue;
    Json config = read_json(out / name);
    renumber_token_ids(config, renumber);
    if (std::string(name) == "config.json") config["vocab_size"] = trained["model"]["vocab"].size();
    write_json(out / name, config);
  }
  const auto mean_tokens = [&](const text::Tokenizer& t) {
    double n = 0;
    for (const std::string& text : texts) n += static_cast<double>(t.encode(text, false).size());
    return n / static_cast<double>(std::max<size_t>(texts.size(), 1));
  };
  return {{"outputs", {{"tokenizer", out.string()}}},
          {"metrics",
           {{"vocab", trained["model"]["vocab"].size()},
            {"tokens_per_record_base", mean_tokens(*text::load_tokenizer(s.tokenizer))},
            {"tokens_per_record", mean_tokens(*text::load_tokenizer(out.string()))}}}};
}

nlohmann::json scratch_config(const Scratch& s, const nlohmann::json& tokenizer_config, int64_t seq_len) {
  nlohmann::json config = tokenizer_config;
  if (config.value("model_type", "") != "llama")
    fail(ErrorKind::kInput, "scratch.tokenizer: a scratch parent is a llama model; " + s.tokenizer +
                                "'s config.json is " + config.value("model_type", "?"));
  config["hidden_size"] = s.hidden;
  config["num_hidden_layers"] = s.layers;
  config["num_attention_heads"] = s.heads;
  config["num_key_value_heads"] = s.kv_heads;
  config["head_dim"] = s.hidden / s.heads;
  config["intermediate_size"] = s.ffn;
  config["vocab_size"] = s.vocab;
  config["max_position_embeddings"] = std::max<int64_t>(4096, seq_len);
  config["rope_parameters"] = {{"rope_theta", 10000.0}, {"rope_type", "default"}};
  config.erase("rope_scaling");
  config["tie_word_embeddings"] = false;
  return config;
}

Json init_scratch_model(const Scratch& s, int64_t seq_len, uint64_t seed, const std::string& tokenizer_dir,
                        const std::string& dir) {
  const fs::path source = fs::path(dir) / "source";
  copy_model_files(tokenizer_dir, source.string());
  nlohmann::json config = scratch_config(s, nlohmann::json::parse(std::ifstream(source / "config.json")), seq_len);
  config["vocab_size"] = nlohmann::json::parse(std::ifstream(source / "config.json"))["vocab_size"];
  write_json((source / "config.json").string(), config);
  model::Transformer net(model::spec_from_hf_config(config));
  torch::manual_seed(seed);
  model::init_random(net);
  const std::string out = dir + "/model";
  model::export_hf(net, source.string(), out);
  return {{"outputs", {{"model", out}}}, {"metrics", {{"parameters", model::parameter_count(net->spec())}}}};
}

}  // namespace bespoke::pipeline
