#include "common.h"

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"

namespace bespoke::cli {

void add_run_options(CLI::App* cmd, RunOptions& options) {
  cmd->add_option("--device", options.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", options.dtype, "weights and activations: f32, bf16 or f16")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}))
      ->capture_default_str();
}

model::LoadOptions load_options(const RunOptions& options) {
  model::LoadOptions out;
  out.dtype = options.dtype == "bf16" ? torch::kBFloat16 : options.dtype == "f16" ? torch::kFloat16 : torch::kFloat32;
  try {
    out.device = torch::Device(options.device);
  } catch (const c10::Error&) {
    fail(ErrorKind::kUsage, "--device '" + options.device + "' is not a device (cpu, cuda, cuda:N)");
  }
  if (out.device.is_cuda() && !torch::cuda::is_available())
    fail(ErrorKind::kUsage, "--device " + options.device + ": this build or machine has no CUDA");
#if TORCH_VERSION_MAJOR < 2
  if (out.dtype == torch::kFloat16 && out.device.is_cpu())
    fail(ErrorKind::kUsage, "--dtype f16 on CPU needs libtorch 2 (this is " TORCH_VERSION "); use bf16 or f32");
#endif
  return out;
}

torch::Tensor read_ids(const std::string& path, const std::string& name, int64_t vocab_size) {
  io::SafetensorsFile file(path);
  if (!file.entries().count(name))
    fail(ErrorKind::kInput, path + ": no tensor '" + name + "' (use --tensor to name it)");
  torch::Tensor ids = file.get(name);
  if (ids.scalar_type() != torch::kInt64)
    fail(ErrorKind::kInput, path + ": tensor '" + name + "' is " + file.entries().at(name).dtype + ", expected I64");
  if (ids.dim() == 1) ids = ids.unsqueeze(0);
  if (ids.dim() != 2 || ids.size(0) == 0 || ids.size(1) == 0)
    fail(ErrorKind::kInput, path + ": tensor '" + name + "' must be [batch, seq] with batch, seq > 0");
  if (ids.numel() > 0 && (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= vocab_size))
    fail(ErrorKind::kInput, path + ": tensor '" + name + "' has ids outside [0, " + std::to_string(vocab_size) + ")");
  return ids;
}

}  // namespace bespoke::cli
