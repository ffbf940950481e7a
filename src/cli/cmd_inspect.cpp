// bespoke inspect MODEL_DIR [--json]
#include <iostream>
#include <memory>

#include <filesystem>

#include "bespoke/core/error.h"
#include "bespoke/core/json.h"
#include "bespoke/io/gguf_reader.h"
#include "bespoke/model/describe.h"
#include "bespoke/model/gguf_load.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/pipeline/feasibility.h"
#include "commands.h"

namespace bespoke::cli {

struct InspectOptions {
  std::string model;
  bool json = false;
};

namespace {

// Metadata (long arrays summarised), the tensor directory and, for architectures Bespoke
// reads, the model's architecture table.
void inspect_gguf(const std::string& path, bool as_json) {
  const io::GgufFile file(path);
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : file.metadata().items())
    meta[k] = v.is_array() && v.size() > 16 ? nlohmann::json("[" + std::to_string(v.size()) + " values]") : v;
  nlohmann::json tensors = nlohmann::json::array();
  for (const io::GgufTensorInfo& t : file.tensors())
    tensors.push_back({{"name", t.name}, {"shape", t.shape}, {"ggml_type", t.type}});
  nlohmann::json out = {{"metadata", meta}, {"tensors", tensors}};
  std::string table;
  try {
    const model::ModelSpec spec = model::spec_from_gguf(file);
    out["model"] = model::describe_json(spec);
    table = model::describe_table(spec);
  } catch (const Error& e) {
    out["model"] = nullptr;
    table = std::string("(not a model Bespoke reads: ") + e.what() + ")\n";
  }
  if (as_json) {
    std::cout << out.dump(2) << "\n";
    return;
  }
  for (const auto& [k, v] : meta.items()) std::cout << k << " = " << v.dump() << "\n";
  std::cout << "\n" << tensors.size() << " tensors\n";
  for (const auto& t : tensors)
    std::cout << "  " << t["name"].get<std::string>() << " " << t["shape"].dump() << " type " << t["ggml_type"] << "\n";
  std::cout << "\n" << table;
}

// A model directory's spec, config.json alone being enough. A mixture-of-experts, unknown hybrid
// or unrecognised config is refused by its class first: the spec reader would name only a key or
// a model_type, or read the attention layers of a model that holds more.
model::ModelSpec read_dense_config(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  if (std::filesystem::is_regular_file(path)) {
    const nlohmann::json config = read_json(path);
    const std::string reason = pipeline::class_reason(config);
    if (!reason.empty())
      fail(ErrorKind::kUnsupported, path + ": class " + pipeline::architecture_class(config) + ": " + reason);
  }
  return model::read_hf_config(dir);
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a model's architecture and parameter count");
  cmd->add_option("MODEL_DIR", opt->model, "Hugging Face model directory, or a GGUF file")->required();
  cmd->add_flag("--json", opt->json, "print a JSON object instead of a table");
  cmd->callback([opt] {
    if (std::filesystem::is_regular_file(opt->model) && io::is_gguf(opt->model))
      return inspect_gguf(opt->model, opt->json);
    const model::ModelSpec spec = read_dense_config(opt->model);
    if (opt->json)
      std::cout << model::describe_json(spec).dump(2) << "\n";
    else
      std::cout << model::describe_table(spec);
  });
}

}  // namespace bespoke::cli
