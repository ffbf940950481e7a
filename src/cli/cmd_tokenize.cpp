// bespoke tokenize MODEL_DIR --text TEXT        -> ids as a JSON array
// bespoke detokenize MODEL_DIR --ids 1,2,3      -> text
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bespoke/core/error.h"
#include "bespoke/text/tokenizer.h"
#include "commands.h"

namespace bespoke::cli {

struct TokenizeOptions {
  std::string model, text;
  bool no_special = false;
};

struct DetokenizeOptions {
  std::string model, ids;
  bool skip_special = false;
};

namespace {

std::vector<int32_t> parse_ids(const std::string& list) {
  std::vector<int32_t> ids;
  size_t at = 0;
  while (at <= list.size() && !list.empty()) {
    const size_t comma = std::min(list.find(',', at), list.size());
    const std::string item = list.substr(at, comma - at);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < INT32_MIN || v > INT32_MAX)
      fail(ErrorKind::kUsage, "--ids: '" + item + "' is not a token id (expected e.g. 1,2,3)");
    ids.push_back(static_cast<int32_t>(v));
    at = comma + 1;
  }
  return ids;
}

}  // namespace

void add_tokenize(CLI::App& app) {
  auto opt = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
  cmd->add_option("MODEL_DIR", opt->model, "model or tokenizer directory")->required();
  cmd->add_option("--text", opt->text, "UTF-8 text to encode")->required();
  cmd->add_flag("--no-special", opt->no_special, "leave out what the post-processor adds (e.g. BOS)");
  cmd->callback([opt] {
    const auto tokenizer = text::load_tokenizer(opt->model);
    std::cout << nlohmann::json(tokenizer->encode(opt->text, !opt->no_special)).dump() << "\n";
  });

  auto dopt = std::make_shared<DetokenizeOptions>();
  CLI::App* dcmd = app.add_subcommand("detokenize", "Print the text of a list of token ids");
  dcmd->add_option("MODEL_DIR", dopt->model, "model or tokenizer directory")->required();
  dcmd->add_option("--ids", dopt->ids, "comma-separated token ids")->required();
  dcmd->add_flag("--skip-special", dopt->skip_special, "leave out special tokens");
  dcmd->callback([dopt] {
    const auto tokenizer = text::load_tokenizer(dopt->model);
    std::cout << tokenizer->decode(parse_ids(dopt->ids), dopt->skip_special) << "\n";
  });
}

}  // namespace bespoke::cli
