// bespoke export MODEL --to gguf --out FILE.gguf [--type f32|f16|bf16|q8_0|q4_0] [--pad-uniform] [--force]
// bespoke export MODEL --to hf --out DIR [--force]
#include <filesystem>
#include <iostream>
#include <memory>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/export/pad_uniform.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "commands.h"

namespace bespoke::cli {

struct ExportOptions {
  std::string model, to, out, type = "f32";
  bool force = false, pad_uniform = false;
};

void add_export(CLI::App& app) {
  auto opt = std::make_shared<ExportOptions>();
  CLI::App* cmd =
      app.add_subcommand("export", "Write a model as a GGUF file that llama.cpp runs, or a Hugging Face directory");
  cmd->add_option("MODEL", opt->model, "model directory")->required();
  cmd->add_option("--to", opt->to, "output format")->required()->check(CLI::IsMember({"gguf", "hf"}));
  cmd->add_option("--out", opt->out, "output file (gguf) or directory (hf)")->required();
  cmd->add_option("--type", opt->type, "weight type: f32, f16, bf16, q8_0 or q4_0 (norms stay f32)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0"}))
      ->capture_default_str();
  cmd->add_flag("--pad-uniform", opt->pad_uniform,
                "zero-pad pruned layers to one shape, for architectures without per-layer shapes (exact, no savings)");
  cmd->add_flag("--force", opt->force, "overwrite an existing output");
  cmd->callback([opt] {
    if (std::filesystem::exists(opt->out) && !opt->force)
      fail(ErrorKind::kUsage, opt->out + " exists; pass --force to overwrite it");
    const io::GgmlType type = opt->type == "f16"    ? io::GgmlType::kF16
                              : opt->type == "bf16" ? io::GgmlType::kBF16
                              : opt->type == "q8_0" ? io::GgmlType::kQ8_0
                              : opt->type == "q4_0" ? io::GgmlType::kQ4_0
                                                    : io::GgmlType::kF32;
    model::Transformer net = model::load_model(opt->model);
    std::string description;
    if (opt->pad_uniform) {
      const int64_t real = model::parameter_count(net->spec());
      net = exporter::pad_uniform(net);
      const int64_t zeros = model::parameter_count(net->spec()) - real;
      description = "zero-padded to one shape per layer kind (exact): " + std::to_string(zeros) + " of its " +
                    std::to_string(real + zeros) + " parameters are padding";
    }
    if (opt->to == "hf") {
      model::export_hf(net, opt->model, opt->out);
      std::cerr << "wrote " << opt->out << "/\n";
      return;
    }
    exporter::export_gguf(net, opt->model, opt->out, type, description);
    std::cerr << "wrote " << opt->out << " (" << std::filesystem::file_size(opt->out) << " bytes)\n";
  });
}

}  // namespace bespoke::cli
