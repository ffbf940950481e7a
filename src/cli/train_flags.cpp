#include "train_flags.h"

#include <algorithm>
#include <optional>

#include "bespoke/core/error.h"
#include "bespoke/text/chat_template.h"

namespace bespoke::cli {
namespace {

// `text` read whole as a number; nothing if any of it is not part of one.
std::optional<double> whole_number(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return value;
}

std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t"), last = text.find_last_not_of(" \t");
  return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

// --domains: NAME=WEIGHT,... or NAME,... (spaces around the names are not part of them).
void parse_domains(const std::string& text, train::TrainConfig& cfg) {
  for (size_t begin = 0; begin <= text.size();) {
    const size_t end = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, end - begin);
    const size_t eq = item.find('=');
    const std::string name = trimmed(item.substr(0, eq));
    const std::optional<double> weight =
        eq == std::string::npos ? std::optional<double>() : whole_number(item.substr(eq + 1));
    if (name.empty() || (eq != std::string::npos && !weight))
      fail(ErrorKind::kUsage, "--domains: '" + item + "' is not NAME or NAME=WEIGHT");
    cfg.domains.push_back(name);
    if (weight) cfg.domain_weights.push_back(*weight);
    begin = end + 1;
  }
  if (!cfg.domain_weights.empty() && cfg.domain_weights.size() != cfg.domains.size())
    fail(ErrorKind::kUsage, "--domains: give a weight for every domain or for none");
}

}  // namespace

void add_engine_flags(CLI::App* cmd, TrainFlags& f, const std::vector<std::string>& except) {
  train::TrainConfig& cfg = f.cfg;
  const auto own = [&](const char* name) { return std::find(except.begin(), except.end(), name) == except.end(); };
  cmd->add_option(
      "--chat-template", cfg.chat_template,
      "render chat records in this format instead of the model's template: " + text::chat_format_names().choices());
  cmd->add_option("--stop-at", cfg.stop_at, "checkpoint and stop at this step (resume later with --resume)");
  cmd->add_option("--micro-batch", cfg.micro_batch, "rows per forward pass (gradient accumulation); 0: --batch");
  cmd->add_option("--bucket", cfg.bucket,
                  "batch rows of like length, sorted within windows of this many batches; 0: off");
  if (own("--lr")) cmd->add_option("--lr", cfg.schedule.peak, "peak learning rate")->capture_default_str();
  cmd->add_option("--schedule", cfg.schedule.kind, "cosine, wsd or constant")->capture_default_str();
  cmd->add_option("--warmup", cfg.schedule.warmup, "linear warmup steps")->capture_default_str();
  cmd->add_option("--final-lr-ratio", cfg.schedule.final_ratio, "last rate / peak (cosine, wsd)")
      ->capture_default_str();
  cmd->add_option("--weight-decay", cfg.weight_decay, "AdamW decoupled weight decay (matrices only)")
      ->capture_default_str();
  cmd->add_option("--clip", cfg.clip, "global gradient-norm clip; 0: none")->capture_default_str();
  cmd->add_option("--teacher", cfg.teacher,
                  "teacher model directory, or self (the model without its masks): distil with forward KL");
  cmd->add_option("--teacher-topk", cfg.teacher_topk, "a file from `bespoke teacher-logits`: distil from it instead");
  cmd->add_option("--kd-weight", cfg.kd_weight, "with --teacher: loss = w KD + (1 - w) CE")->capture_default_str();
  cmd->add_option("--kd-tau", cfg.kd_tau, "distillation temperature")->capture_default_str();
  cmd->add_option("--save-every", cfg.save_every, "steps between checkpoints; 0: only at the end")
      ->capture_default_str();
  cmd->add_option("--freeze", cfg.freeze, "keep parameters whose name contains this fixed (repeatable)");
  cmd->add_flag("--resume", cfg.resume, "continue from the newest checkpoint in --out");
  if (own("--device")) cmd->add_option("--device", cfg.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--checkpoint-layers", cfg.checkpoint_layers, "recompute layer activations in backward (less memory)");
  cmd->add_option("--dtype", f.dtype, "f32, or bf16 (bf16 compute, fp32 master weights and optimizer)")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  cmd->add_option("--lr-group", f.lr_groups,
                  "PATTERN=MULTIPLE: parameters whose name contains PATTERN train at MULTIPLE x the rate (repeatable; "
                  "the first match wins)");
  cmd->add_option("--domains", f.domains, "mix by record domain: NAME=WEIGHT,... (or NAME,... for equal weights)");
  cmd->add_option("--domain-cap", cfg.domain_cap, "the largest share any domain may take")->capture_default_str();
  cmd->add_option("--mix-every", cfg.mix_every, "dynamic batch loading: update the mix every N steps from --eval-data");
  if (own("--eval-data"))
    cmd->add_option("--eval-data", cfg.eval_data, "held-out JSONL (with every domain, for --mix-every)");
  cmd->add_option("--eval-every", cfg.eval_every, "the loss on --eval-data every N steps and at the end; 0: never");
  cmd->add_option("--reference-losses", cfg.reference_losses,
                  "JSON {domain: loss}; default: the teacher's (or the starting model's) loss on --eval-data");
}

void finish_engine_flags(TrainFlags& f) {
  f.cfg.bf16 = f.dtype == "bf16";
  for (const std::string& group : f.lr_groups) {
    const size_t eq = group.rfind('=');
    const std::optional<double> multiple =
        eq == std::string::npos || eq == 0 ? std::nullopt : whole_number(group.substr(eq + 1));
    if (!multiple) fail(ErrorKind::kUsage, "--lr-group: '" + group + "' is not PATTERN=MULTIPLE");
    f.cfg.lr_groups.emplace_back(group.substr(0, eq), *multiple);
  }
  if (!f.domains.empty()) parse_domains(f.domains, f.cfg);
}

}  // namespace bespoke::cli
