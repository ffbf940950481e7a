#include "bespoke/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/error.h"
#include "bespoke/core/fingerprint.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/train/adamw.h"
#include "bespoke/train/data.h"
#include "bespoke/train/distributed.h"
#include "bespoke/train/evaluate.h"
#include "bespoke/train/loss.h"
#include "bespoke/train/master_weights.h"
#include "bespoke/train/sampler.h"
#include "bespoke/train/teacher_cache.h"

namespace bespoke::train {
namespace fs = std::filesystem;

namespace {

void check_config(const TrainConfig& c) {
  const auto usage = [](const std::string& m) { fail(ErrorKind::kUsage, m); };
  if (c.steps < 1) usage("--steps must be positive");
  if (c.seq_len < 2) usage("--seq-len must be at least 2");
  if (c.batch < 1) usage("--batch must be positive");
  if (c.micro_batch < 0) usage("--micro-batch must not be negative");
  if (!(c.schedule.peak > 0)) usage("--lr must be positive");
  if (c.kd_weight < 0 || c.kd_weight > 1) usage("--kd-weight must be in [0, 1]");
  if (!(c.kd_tau > 0)) usage("--kd-tau must be positive");
  if (c.schedule.warmup < 0 || c.schedule.warmup >= c.steps) usage("--warmup must be below --steps");
  if (c.eval_every < 0) usage("--eval-every must not be negative");
  if ((c.eval_every > 0 || c.mix_every > 0 || !c.eval_at.empty()) && c.eval_data.empty())
    usage("--eval-every and --mix-every need --eval-data");
}

std::string step_dir(const std::string& out, int64_t step) {
  std::ostringstream name;
  name << "step-" << std::setw(8) << std::setfill('0') << step;
  return (fs::path(out) / "checkpoints" / name.str()).string();
}

struct Checkpointed {
  int64_t step = 0, tokens = 0;
  nlohmann::json data;          // Sampler::state()
  nlohmann::json identity;      // run_identity(): what the data position and optimizer state belong to
  std::vector<double> weights;  // the domain mix, when there is one
  double first_loss = 0;
};

// The global random generators: the CPU's, and the training device's. Training draws nothing
// from them today; a checkpoint keeps them so that anything that does resumes exactly too.
std::vector<at::Generator> generators(const torch::Device& device) {
  std::vector<at::Generator> out = {at::detail::getDefaultCPUGenerator()};
  if (!device.is_cpu()) out.push_back(at::globalContext().defaultGenerator(device));
  return out;
}

void save_rng(const std::string& path, const torch::Device& device) {
  std::vector<std::pair<std::string, torch::Tensor>> states;
  for (at::Generator& g : generators(device)) {
    std::lock_guard<std::mutex> lock(g.mutex());
    states.push_back({"state_" + std::to_string(states.size()), g.get_state()});
  }
  io::write_safetensors(path, states);
}

// Checkpoints written before the generators were kept have no file, and one saved on the CPU
// has no device generator: what the file lacks keeps its own seeding.
void load_rng(const std::string& path, const torch::Device& device) {
  if (!fs::exists(path)) return;
  const io::SafetensorsFile file(path);
  std::vector<at::Generator> gens = generators(device);
  for (size_t i = 0; i < gens.size(); ++i) {
    if (!file.entries().count("state_" + std::to_string(i))) continue;
    std::lock_guard<std::mutex> lock(gens[i].mutex());
    gens[i].set_state(file.get("state_" + std::to_string(i)));
  }
}

// What a checkpoint is a point in. Its data position indexes the examples (their count and a
// hash of their tokens, masks and domains) as the batching settings order them; its optimizer
// state belongs to the parameters (names and shapes), frozen and grouped as the flags say, with
// the group settings libtorch restores with it. A resume with any of these changed would
// continue somewhere else, or fail inside libtorch: it is refused, naming what changed.
nlohmann::json run_identity(size_t examples, const std::string& examples_hash, const TrainConfig& cfg,
                            const MasterWeights& w, const std::vector<ParamGroup>& extra) {
  Fingerprint parameters;
  for (size_t i = 0; i < w.names().size(); ++i) {
    parameters.add(w.names()[i]);
    for (const int64_t d : w.masters()[i].sizes()) parameters.add(uint64_t(d));
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const ParamGroup& g : extra) {
    Fingerprint tensors;
    for (const auto& [name, t] : g.tensors) {
      tensors.add(name);
      for (const int64_t d : t.sizes()) tensors.add(uint64_t(d));
    }
    groups.push_back({{"name", g.name},
                      {"tensors", tensors.hex()},
                      {"lr_multiple", g.lr_multiple},
                      {"weight_decay", g.weight_decay}});
  }
  return {{"extra_groups", groups},
          {"examples", examples},
          {"tokens_hash", examples_hash},
          {"seq_len", cfg.seq_len},
          {"batch", cfg.batch},
          {"bucket", cfg.bucket},
          {"domains", cfg.domains},
          {"seed", cfg.seed},
          {"parameters", parameters.hex()},
          {"freeze", cfg.freeze},
          {"lr_groups", cfg.lr_groups},
          {"weight_decay", cfg.weight_decay},
          {"betas", {cfg.beta1, cfg.beta2}},
          {"eps", cfg.eps}};
}

// One line naming what differs between a checkpoint's identity and this run's. A key the
// checkpoint lacks (an older one) is not compared.
void check_same_run(const std::string& dir, const nlohmann::json& saved, const nlohmann::json& now) {
  if (!saved.is_object()) return;  // written before checkpoints kept it
  std::string differs;
  for (const auto& [key, value] : now.items())
    if (saved.contains(key) && saved[key] != value)
      differs += (differs.empty() ? "" : ", ") + key + " " + saved[key].dump() + " -> " + value.dump();
  if (!differs.empty())
    fail(ErrorKind::kUsage,
         dir + " was made with other data or settings (" + differs +
             "): resume with the same --model, --data, --seq-len, --batch, --bucket, --domains, --seed, "
             "--freeze, --lr-group and optimizer settings");
}

// An extra group's tensor's name in extra.safetensors.
std::string extra_name(const ParamGroup& g, const std::string& tensor) {
  return g.name + "/" + tensor;
}

// Written beside its final name and renamed, so a checkpoint directory is always complete.
void save_checkpoint(const std::string& out, const MasterWeights& w, const std::vector<ParamGroup>& extra,
                     torch::optim::Optimizer& opt, const Checkpointed& c, int64_t keep, const torch::Device& device) {
  const std::string dir = step_dir(out, c.step), tmp = dir + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (size_t i = 0; i < w.names().size(); ++i)
    if (!w.frozen(i)) weights.push_back({w.names()[i], w.masters()[i].detach().cpu()});
  io::write_safetensors(tmp + "/model.safetensors", weights);
  if (!extra.empty()) {
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const ParamGroup& g : extra)
      for (const auto& [name, t] : g.tensors) tensors.push_back({extra_name(g, name), t.detach().cpu()});
    io::write_safetensors(tmp + "/extra.safetensors", tensors);
  }
  torch::save(opt, tmp + "/optimizer.pt");
  save_rng(tmp + "/rng.safetensors", device);
  const nlohmann::json state = {{"step", c.step},         {"data", c.data},
                                {"identity", c.identity}, {"domain_weights", c.weights},
                                {"tokens", c.tokens},     {"first_loss", c.first_loss}};
  write_file_atomic(tmp + "/state.json", [&](std::ostream& o) { o << state.dump(1) << "\n"; });
  // On disk before the older checkpoints go: a power loss must not leave only a torn one.
  for (const auto& e : fs::directory_iterator(tmp)) sync_to_disk(e.path().string());
  sync_to_disk(tmp);
  fs::remove_all(dir);
  fs::rename(tmp, dir);
  sync_to_disk((fs::path(out) / "checkpoints").string());
  std::vector<std::string> all;
  for (const auto& e : fs::directory_iterator(fs::path(out) / "checkpoints"))
    if (e.path().filename().string().rfind("step-", 0) == 0 && e.path().extension() != ".tmp")
      all.push_back(e.path().string());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i + keep < all.size(); ++i) fs::remove_all(all[i]);
}

// Reads the checkpoint's state and, once its identity matches `identity`, loads its weights,
// optimizer and generators.
Checkpointed load_checkpoint(const std::string& dir, const nlohmann::json& identity, MasterWeights& w,
                             const std::vector<ParamGroup>& extra, torch::optim::Optimizer& opt,
                             const torch::Device& device) {
  std::ifstream in(dir + "/state.json");
  const nlohmann::json s = nlohmann::json::parse(in, nullptr, false);
  Checkpointed c;
  try {  // at(): a missing key throws as a wrong type does
    c.step = s.at("step").get<int64_t>();
    c.data = s.at("data");
    c.identity = s.contains("identity") ? s["identity"] : s.value("data_identity", nlohmann::json());  // the older name
    c.weights = s.value("domain_weights", std::vector<double>());
    c.tokens = s.at("tokens").get<int64_t>();
    c.first_loss = s.at("first_loss").get<double>();
  } catch (const nlohmann::json::exception&) {
    fail(ErrorKind::kInput, dir + "/state.json: not a checkpoint state of this version");
  }
  check_same_run(dir, c.identity, identity);

  const io::SafetensorsFile weights(dir + "/model.safetensors");
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < w.names().size(); ++i)
      if (!w.frozen(i)) w.masters()[i].copy_(weights.get(w.names()[i]));
    if (!extra.empty()) {
      const io::SafetensorsFile tensors(dir + "/extra.safetensors");
      for (const ParamGroup& g : extra)
        for (const auto& [name, t] : g.tensors) t.detach().copy_(tensors.get(extra_name(g, name)));
    }
  }
  w.publish();
  torch::load(opt, dir + "/optimizer.pt", device);  // onto this rank's device, not the saver's
  load_rng(dir + "/rng.safetensors", device);
  return c;
}

// Keeps the metric lines of steps up to `step`: a resumed run rewrites the rest.
void trim_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::string kept, line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("step", int64_t(0)) <= step) kept += line + "\n";
  }
  write_file_atomic(path, [&](std::ostream& o) { o << kept; });
}

std::string clock(double seconds) {
  const int64_t s = int64_t(seconds);
  std::ostringstream o;
  o << s / 3600 << ":" << std::setw(2) << std::setfill('0') << s / 60 % 60 << ":" << std::setw(2) << s % 60;
  return o.str();
}

// Each domain's reference loss from `path`, a JSON object domain -> loss.
std::vector<double> read_reference_losses(const std::string& path, const DomainMix& mix) {
  std::ifstream in(path);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) fail(ErrorKind::kInput, path + ": expected a JSON object {\"domain\": loss}");
  std::vector<double> out;
  for (const std::string& d : mix.names) {
    if (!j.contains(d) || !j[d].is_number()) fail(ErrorKind::kInput, path + ": no loss for domain '" + d + "'");
    out.push_back(j[d].get<double>());
  }
  return out;
}

// One run: its data, models, optimizer, and where it stands. Made by the setup functions below,
// in order, then advanced a step at a time.
struct Run {
  Run(const TrainConfig& c, const Extensions& e) : cfg(c), ext(e), dp(DataParallel::from_env(c.device)) {}
  const TrainConfig& cfg;
  const Extensions& ext;
  DataParallel dp;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  int64_t micro = 0, n_micro = 0;  // rows per forward pass, and forward passes per step on this rank
  std::vector<text::Example> examples;
  std::string examples_hash;
  bool split = false;  // some documents are longer than seq_len, and split into windows of it
  model::Transformer net{nullptr}, teacher{nullptr};
  bool shared_teacher = false;  // teacher "self" with every weight frozen: `teacher` is `net`
  std::unique_ptr<TeacherTopK> topk;
  std::unique_ptr<DomainMix> mix;
  std::vector<text::Example> eval_examples;
  std::vector<int64_t> eval_rows;
  std::vector<double> reference;  // each domain's reference loss, for the dynamic mix
  std::unique_ptr<Sampler> sampler;
  MasterWeights weights;
  // The model's trainable masters in its order (the clip's norm adds them up the same way
  // whatever the groups), then the extra groups' tensors.
  std::vector<torch::Tensor> trainable;
  std::unique_ptr<AdamW> opt;
  std::vector<double> group_multiples;  // each optimizer group's multiple of the scheduled rate
  Checkpointed state;
  std::string metrics_path;
  std::ofstream metrics;
  std::chrono::steady_clock::time_point start;
  int64_t positions = 0;  // non-padding positions trained by this run, all ranks
  int64_t first_step = 0;
};

// What one step did: the rate it ran at, its loss (the extra terms included), each extra term's
// share of it, and the gradient norm before the clip.
struct StepResult {
  double lr = 0, loss = 0, grad_norm = 0;
  std::vector<double> terms;
};

// The batching, and the training data: its examples, and a warning for those it trains only in part.
void load_data(Run& run) {
  const TrainConfig& cfg = run.cfg;
  check_config(cfg);
  // DIR/final is written in the student's own format at the end: refuse now what it cannot be.
  if (!fs::exists(fs::path(cfg.model) / "config.json"))
    fail(ErrorKind::kUsage, cfg.model +
                                ": the student must be an HF model directory (config.json, weights, tokenizer); "
                                "a GGUF file can be a --teacher, not a student");
  DataParallel& dp = run.dp;
  if (cfg.batch % dp.world() != 0) fail(ErrorKind::kUsage, "--batch must be a multiple of the number of processes");
  if (dp.world() > 1 && dp.leader())
    std::fprintf(stderr, "data parallel: %d processes over %s\n", dp.world(), dp.backend().c_str());
  const int64_t per_rank = cfg.batch / dp.world();
  run.micro = cfg.micro_batch > 0 ? cfg.micro_batch : per_rank;
  run.n_micro = per_rank / run.micro;
  if (per_rank % run.micro != 0) fail(ErrorKind::kUsage, "--micro-batch must divide each process's share of --batch");
  torch::manual_seed(cfg.seed);
  const text::Encoder encoder(cfg.model, cfg.chat_template);
  const std::vector<text::Example> records = read_examples(cfg.data, encoder);
  run.examples = split_documents(records, cfg.seq_len);
  const std::vector<text::Example>& examples = run.examples;
  run.examples_hash = tokens_hash(examples);
  const int64_t cut = std::count_if(examples.begin(), examples.end(), [&](const text::Example& e) {
    return static_cast<int64_t>(e.ids.size()) > cfg.seq_len + 1;
  });
  int64_t empty = 0;
  for (size_t i = 0; i < examples.size(); ++i) empty += trained_targets(examples, {int64_t(i)}, cfg.seq_len) == 0;
  if (cut > 0 && dp.leader())
    std::fprintf(stderr, "%lld of %zu examples are longer than --seq-len %lld: their ends are not trained\n",
                 static_cast<long long>(cut), examples.size(), static_cast<long long>(cfg.seq_len));
  if (empty > 0 && dp.leader())
    std::fprintf(stderr,
                 "%lld of %zu examples train nothing within --seq-len %lld (a prompt that fills it, or no reply)\n",
                 static_cast<long long>(empty), examples.size(), static_cast<long long>(cfg.seq_len));
  run.dtype = cfg.bf16 ? torch::kBFloat16 : torch::kFloat32;
  run.device = dp.device();
  // The held-out data is read with the same encoder (its ids are checked once the model is loaded).
  if (!cfg.eval_data.empty()) run.eval_examples = split_documents(read_examples(cfg.eval_data, encoder), cfg.seq_len);
  run.eval_rows.resize(run.eval_examples.size());
  std::iota(run.eval_rows.begin(), run.eval_rows.end(), 0);
  run.split = examples.size() != records.size();
}

bool frozen(const std::string& name, const std::vector<std::string>& freeze) {
  for (const std::string& f : freeze)
    if (name.find(f) != std::string::npos) return true;
  return false;
}

bool every_weight_frozen(model::Transformer& net, const std::vector<std::string>& freeze) {
  for (const auto& p : net->named_parameters())
    if (!frozen(p.key(), freeze)) return false;
  return true;
}

// The student, and the teacher or its top-K file, each checked against the data and each other.
void load_models(Run& run) {
  const TrainConfig& cfg = run.cfg;
  const model::LoadOptions load{run.dtype, run.device};
  run.net = model::load_model(cfg.model, load);
  model::Transformer& net = run.net;
  check_token_ids(run.examples, net->spec().vocab_size, cfg.data);
  net->set_activation_checkpointing(cfg.checkpoint_layers);
  if (cfg.teacher == "self" && every_weight_frozen(net, cfg.freeze)) {
    run.teacher = net;
    run.shared_teacher = true;
  } else if (!cfg.teacher.empty()) {
    run.teacher = model::load_model(cfg.teacher == "self" ? cfg.model : cfg.teacher, load);
    run.teacher->eval();
    if (run.teacher->spec().vocab_size != net->spec().vocab_size)
      fail(ErrorKind::kInput, cfg.teacher + ": the teacher's vocabulary (" +
                                  std::to_string(run.teacher->spec().vocab_size) + ") differs from the student's (" +
                                  std::to_string(net->spec().vocab_size) + ")");
  }
  if (!cfg.teacher_topk.empty()) {
    if (run.teacher) fail(ErrorKind::kUsage, "give --teacher or --teacher-topk, not both");
    run.topk = std::make_unique<TeacherTopK>(cfg.teacher_topk);
    const TeacherTopK& topk = *run.topk;
    // The file's rows are its own --seq-len's windows: the same split only at the same length.
    if (topk.seq_len() != cfg.seq_len && run.split)
      fail(ErrorKind::kInput, cfg.teacher_topk + ": made at " + std::to_string(topk.seq_len()) +
                                  " positions, but documents longer than --seq-len " + std::to_string(cfg.seq_len) +
                                  " are split into windows of it: make the file with the same --seq-len");
    if (topk.examples() != int64_t(run.examples.size()) || topk.seq_len() < cfg.seq_len)
      fail(ErrorKind::kInput, cfg.teacher_topk + ": made for " + std::to_string(topk.examples()) + " examples of " +
                                  std::to_string(topk.seq_len()) + " positions, not this data at --seq-len " +
                                  std::to_string(cfg.seq_len));
    run.topk->check_made_from(run.examples_hash, net->spec().vocab_size);
  }
  if (!cfg.eval_data.empty()) check_token_ids(run.eval_examples, net->spec().vocab_size, cfg.eval_data);
}

void before_forward(Run& run, Pass pass) {
  if (run.ext.before_forward) run.ext.before_forward(run.net, pass, run.state.step);
}

// Each domain's loss on the evaluation data, a micro-batch of rows per forward. Every rank
// measures and they take the mean, so every rank's mix moves the same way even on a device
// whose sums are not bit-reproducible. The student's measurement (`student`) sets its masks
// first; a reference is measured as the model stands before training.
std::vector<double> measure_domains(Run& run, model::Transformer model, bool student) {
  if (student) before_forward(run, Pass::kMeasure);
  std::vector<double> losses = domain_losses(model, run.eval_examples, *run.mix, run.cfg.seq_len, run.micro);
  for (double& loss : losses) loss = run.dp.sum(loss) / run.dp.world();
  return losses;
}

// The domain mix and its reference losses (from the file, else the teacher's or the starting
// model's before training), and the sampler that draws the batches.
void make_sampler(Run& run) {
  const TrainConfig& cfg = run.cfg;
  if (!cfg.domains.empty())
    run.mix = std::make_unique<DomainMix>(DomainMix::make(cfg.domains, cfg.domain_weights, cfg.domain_cap));
  if (run.mix && cfg.mix_every > 0)
    run.reference = cfg.reference_losses.empty() ? measure_domains(run, run.teacher ? run.teacher : run.net, false)
                                                 : read_reference_losses(cfg.reference_losses, *run.mix);
  run.sampler = std::make_unique<Sampler>(run.examples, run.mix.get(), cfg.seed, cfg.bucket, cfg.batch);
}

// The fp32 masters and AdamW. Matrices decay, norms and biases do not; frozen parameters take no
// part. One optimizer group per (rate multiple, decay or not), then one per extra group.
void make_optimizer(Run& run) {
  const TrainConfig& cfg = run.cfg;
  std::vector<double> multiples = {1.0};
  for (const auto& [pattern, multiple] : cfg.lr_groups) {
    if (!std::isfinite(multiple) || multiple < 0)
      fail(ErrorKind::kUsage, "learning-rate group '" + pattern + "': the multiple must be finite and >= 0");
    multiples.push_back(multiple);
  }
  std::vector<std::vector<torch::Tensor>> decay(multiples.size()), no_decay(multiples.size());
  for (auto& p : run.net->named_parameters()) {
    const bool held = frozen(p.key(), cfg.freeze);
    const torch::Tensor master = run.weights.add(p.key(), p.value(), held);
    size_t g = 0;
    for (size_t i = 0; i < cfg.lr_groups.size() && g == 0; ++i)
      if (p.key().find(cfg.lr_groups[i].first) != std::string::npos) g = i + 1;
    if (!held) (p.value().dim() >= 2 ? decay : no_decay)[g].push_back(master);
  }
  const auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(cfg.schedule.peak).betas({cfg.beta1, cfg.beta2}).eps(cfg.eps).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (size_t g = 0; g < multiples.size(); ++g)
    for (const auto& [params, wd] : {std::pair(decay[g], cfg.weight_decay), std::pair(no_decay[g], 0.0)}) {
      if (params.empty()) continue;
      groups.emplace_back(params, options(wd));
      run.group_multiples.push_back(multiples[g]);
    }
  run.trainable = run.weights.trainable();
  for (const ParamGroup& extra : run.ext.groups) {
    const std::string what = "parameter group '" + extra.name + "'";
    const auto named = [&](const ParamGroup& g) { return g.name == extra.name; };
    if (extra.name.empty() || std::count_if(run.ext.groups.begin(), run.ext.groups.end(), named) > 1)
      fail(ErrorKind::kUsage, what + ": needs a name of its own");
    if (!std::isfinite(extra.lr_multiple) || extra.lr_multiple < 0)
      fail(ErrorKind::kUsage, what + ": the multiple must be finite and >= 0");
    if (extra.tensors.empty()) fail(ErrorKind::kUsage, what + ": has no tensors");
    std::vector<torch::Tensor> params;
    for (const auto& [name, t] : extra.tensors) {
      if (!t.defined() || t.scalar_type() != torch::kFloat32)
        fail(ErrorKind::kUsage, what + ": " + name + " is not an fp32 tensor");
      torch::Tensor leaf = t;
      {
        torch::NoGradGuard no_grad;
        leaf.set_data(t.detach().to(run.device));  // in place: the caller's handle is the trained tensor
      }
      leaf.requires_grad_(true);
      params.push_back(leaf);
      run.trainable.push_back(leaf);
    }
    groups.emplace_back(params, options(extra.weight_decay));
    run.group_multiples.push_back(extra.lr_multiple);
  }
  if (run.trainable.empty()) fail(ErrorKind::kUsage, "--freeze leaves nothing to train");
  run.opt = std::make_unique<AdamW>(groups, torch::optim::AdamWOptions(cfg.schedule.peak));
}

// A fresh output directory, or, with --resume, the newest checkpoint's weights, optimizer, data
// position and mix, and the metric lines up to its step.
void start_or_resume(Run& run) {
  const TrainConfig& cfg = run.cfg;
  DataParallel& dp = run.dp;
  run.metrics_path = (fs::path(cfg.out) / "metrics.jsonl").string();
  const nlohmann::json identity =
      run_identity(run.examples.size(), run.examples_hash, cfg, run.weights, run.ext.groups);
  const std::string previous = latest_checkpoint(cfg.out);
  dp.barrier();  // every rank has looked before the leader writes anything
  if (dp.leader()) fs::create_directories(fs::path(cfg.out) / "checkpoints");
  if (cfg.resume) {
    if (previous.empty()) fail(ErrorKind::kUsage, cfg.out + ": no checkpoint to resume from");
    run.state = load_checkpoint(previous, identity, run.weights, run.ext.groups, *run.opt, run.device);
    if (cfg.stop_at > 0 && cfg.stop_at <= run.state.step)
      fail(ErrorKind::kUsage, "--stop-at " + std::to_string(cfg.stop_at) + " is not after the checkpoint's step " +
                                  std::to_string(run.state.step));
    run.sampler->restore(run.state.data);
    if (run.mix) run.mix->weights = run.state.weights;
    if (dp.leader()) trim_metrics(run.metrics_path, run.state.step);
  } else if (!previous.empty()) {
    fail(ErrorKind::kUsage, cfg.out + " already holds checkpoints; pass --resume to continue, or choose another --out");
  } else if (dp.leader()) {
    fs::remove(run.metrics_path);
  }
  run.state.identity = identity;
  run.first_step = run.state.step;
  if (dp.leader()) run.metrics.open(run.metrics_path, std::ios::app);
  run.start = std::chrono::steady_clock::now();
}

// The teacher's final features for `ids`: a model of its own, or the student with its masks lifted.
torch::Tensor teacher_features(Run& run, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  if (!run.shared_teacher) return run.teacher->features(ids);
  const std::shared_ptr<const model::UnitMasks> masks = run.net->masks();
  run.net->set_masks(nullptr);
  const torch::Tensor h = run.net->features(ids);
  run.net->set_masks(masks);
  return h;
}

// One micro-batch's loss: distillation (from the resident teacher or its top-K file) mixed with
// cross-entropy by kd_weight, plus the extra terms (their values added to `terms`, times `share`).
torch::Tensor micro_batch_loss(Run& run, const std::vector<int64_t>& rows, const Batch& b, double share,
                               std::vector<double>& terms) {
  const TrainConfig& cfg = run.cfg;
  model::Transformer& net = run.net;
  const train::Head head = [net](const torch::Tensor& h) mutable { return net->head(h); };
  const train::CollectGrads collect = [&run] { run.weights.accumulate_grads(); };
  const torch::Tensor ids = b.ids.to(run.device);
  before_forward(run, Pass::kTrain);
  const torch::Tensor h = net->features(ids).flatten(0, 1);
  const torch::Tensor targets = b.targets.flatten().to(run.device), mask = b.mask.flatten().to(run.device);
  torch::Tensor kd;
  if (run.topk) {
    auto [ids_k, logprobs_k] = run.topk->rows(rows);
    const int64_t K = ids_k.size(-1);
    ids_k = ids_k.narrow(1, 0, ids.size(1)).reshape({-1, K}).to(run.device);
    logprobs_k = logprobs_k.narrow(1, 0, ids.size(1)).reshape({-1, K}).to(run.device);
    kd = chunked_topk_kl_divergence(head, h, ids_k, logprobs_k, mask, cfg.kd_tau, cfg.chunk, collect);
  } else if (run.teacher) {
    model::Transformer teacher = run.teacher;
    const train::Head teacher_head = [teacher](const torch::Tensor& x) mutable { return teacher->head(x); };
    const torch::Tensor teacher_h = teacher_features(run, ids).flatten(0, 1);
    kd = chunked_kl_divergence(head, h, teacher_head, teacher_h, mask, cfg.kd_tau, cfg.chunk, collect);
  }
  const double w = kd.defined() ? cfg.kd_weight : 0.0;
  torch::Tensor loss = w > 0 ? kd * w : torch::Tensor();
  if (w < 1) {
    const torch::Tensor ce = chunked_cross_entropy(head, h, targets, mask, cfg.chunk, collect) * (1 - w);
    loss = loss.defined() ? loss + ce : ce;
  }
  for (size_t i = 0; i < run.ext.terms.size(); ++i) {
    const torch::Tensor term = run.ext.terms[i].loss(net, b, run.state.step).to(torch::kFloat32);
    terms[i] += term.item<double>() * share;
    loss = loss + term;
  }
  return loss;
}

// One optimizer step: the batch's gradient over the micro-batches (and ranks), the clip, AdamW.
StepResult train_step(Run& run) {
  const TrainConfig& cfg = run.cfg;
  DataParallel& dp = run.dp;
  StepResult s;
  s.lr = learning_rate(cfg.schedule, run.state.step, cfg.steps);
  for (size_t g = 0; g < run.group_multiples.size(); ++g)
    static_cast<torch::optim::AdamWOptions&>(run.opt->param_groups()[g].options()).lr(s.lr * run.group_multiples[g]);
  s.terms.assign(run.ext.terms.size(), 0.0);
  double loss_sum = 0;
  int64_t step_positions = 0;
  // Every rank draws the same global batch and keeps its slice, micro-batch by micro-batch.
  const std::vector<int64_t> rows = run.sampler->rows(run.state.step, cfg.batch);
  // Each micro-batch's mean loss counts by its share of the global batch's trained targets, so
  // the accumulated gradient is that of the whole batch's mean whatever the micro-batches and
  // ranks: a mean of per-micro-batch means would weigh a target in a short micro-batch more.
  const int64_t step_tokens = trained_targets(run.examples, rows, cfg.seq_len);
  for (int64_t m = 0; m < run.n_micro; ++m) {
    const std::vector<int64_t> mine = micro_batch_rows(rows, dp.rank(), dp.world(), m, run.micro);
    const Batch b = make_batch(run.examples, mine, cfg.seq_len);
    const double share = double(b.tokens) / std::max<int64_t>(step_tokens, 1);
    const torch::Tensor loss = micro_batch_loss(run, mine, b, share, s.terms);
    (loss * (share * dp.world())).backward();  // dp.average divides by the world
    run.weights.accumulate_grads();
    loss_sum += loss.item<double>() * share;
    step_positions += b.positions;
  }
  run.weights.finish_grads();
  for (size_t i = run.weights.trainable().size(); i < run.trainable.size(); ++i)
    if (!run.trainable[i].grad().defined()) run.trainable[i].mutable_grad() = torch::zeros_like(run.trainable[i]);
  if (dp.world() > 1) {
    std::vector<torch::Tensor> grads;
    for (const torch::Tensor& m : run.trainable) grads.push_back(m.grad());
    dp.average(grads);
  }
  run.state.tokens += step_tokens;
  run.positions += int64_t(dp.sum(double(step_positions)));
  s.loss = dp.sum(loss_sum);
  for (double& t : s.terms) t = dp.sum(t);
  // The norm is measured (and logged) without a clip too: a non-finite gradient must stop the run.
  s.grad_norm = torch::nn::utils::clip_grad_norm_(run.trainable,
                                                  cfg.clip > 0 ? cfg.clip : std::numeric_limits<double>::infinity());
  // A diverged step would be applied, checkpointed, and the last good checkpoints pruned.
  if (!std::isfinite(s.loss) || !std::isfinite(s.grad_norm)) {
    const auto text = [](double x) { return std::isnan(x) ? std::string("NaN") : std::to_string(x); };
    fail(ErrorKind::kInput,
         "step " + std::to_string(run.state.step + 1) + ": the loss is " + text(s.loss) + " and the gradient norm " +
             text(s.grad_norm) +
             "; stopped before updating the weights (checkpoints are kept): lower --lr or check the data");
  }
  run.opt->step();
  run.weights.publish();
  for (size_t i = run.weights.trainable().size(); i < run.trainable.size(); ++i)
    run.trainable[i].mutable_grad().reset();
  ++run.state.step;
  if (run.state.step == 1) run.state.first_loss = s.loss;
  return s;
}

// The step's metrics line: loss, rate, gradient norm, tokens and speed, and the extra terms.
nlohmann::json metrics_line(const Run& run, const StepResult& s) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - run.start).count();
  nlohmann::json line = {{"step", run.state.step},
                         {"loss", s.loss},
                         {"lr", s.lr},
                         {"grad_norm", s.grad_norm},
                         {"tokens", run.state.tokens},
                         {"tokens_per_s", run.positions / std::max(elapsed, 1e-9)},
                         {"elapsed_s", elapsed}};
  if (!run.ext.terms.empty()) {
    nlohmann::json terms = nlohmann::json::object();
    for (size_t i = 0; i < s.terms.size(); ++i) terms[run.ext.terms[i].name] = s.terms[i];
    line["terms"] = terms;
  }
  if (run.ext.metrics) line.update(run.ext.metrics());
  return line;
}

// Every mix_every steps the domain weights follow each domain's loss against its reference.
void mix_domains(Run& run, nlohmann::json& line) {
  if (!run.mix) return;
  if (run.cfg.mix_every > 0 && run.state.step % run.cfg.mix_every == 0) {
    const std::vector<double> losses = measure_domains(run, run.net, true);
    run.mix->update(losses, run.reference);
    line["domain_losses"] = losses;
  }
  line["domain_weights"] = run.mix->weights;
}

// Every eval_every steps and at the last, and at the eval_at steps, the held-out loss: measured by
// the leader alone (the others wait for it at the next step).
void evaluate(Run& run, nlohmann::json& line) {
  const TrainConfig& cfg = run.cfg;
  const int64_t step = run.state.step;
  const bool every = cfg.eval_every > 0 && (step % cfg.eval_every == 0 || step == cfg.steps);
  const bool at = std::find(cfg.eval_at.begin(), cfg.eval_at.end(), step) != cfg.eval_at.end();
  if (!(every || at) || !run.dp.leader()) return;
  before_forward(run, Pass::kMeasure);
  const double eval_loss = mean_loss(run.net, run.eval_examples, run.eval_rows, cfg.seq_len, run.micro);
  line["eval_loss"] = eval_loss;
  std::fprintf(stderr, "%sstep %lld: eval loss %.4f\n", cfg.progress ? "\n" : "", (long long)step, eval_loss);
}

// The line into metrics.jsonl, and the progress line (or every log_every steps a plain one) on stderr.
void log_step(Run& run, const nlohmann::json& line) {
  const TrainConfig& cfg = run.cfg;
  if (!run.dp.leader()) return;
  run.metrics << line.dump() << "\n" << std::flush;
  const int64_t step = run.state.step;
  if (!cfg.progress && !(cfg.log_every > 0 && step % cfg.log_every == 0)) return;
  const double elapsed = line["elapsed_s"].get<double>();
  const double eta = elapsed / (step - run.first_step) * (cfg.steps - step);
  std::fprintf(stderr, "%sstep %lld/%lld  loss %.4f  %.0f tok/s  ETA %s%s", cfg.progress ? "\r" : "", (long long)step,
               (long long)cfg.steps, line["loss"].get<double>(), line["tokens_per_s"].get<double>(), clock(eta).c_str(),
               cfg.progress ? " " : "\n");
}

// Every save_every steps, at the last, and on a stop: the leader writes a checkpoint.
void checkpoint(Run& run, bool halt) {
  const TrainConfig& cfg = run.cfg;
  const bool due = cfg.save_every > 0 && run.state.step % cfg.save_every == 0;
  run.state.data = run.sampler->state();
  if (run.mix) run.state.weights = run.mix->weights;
  if ((due || run.state.step == cfg.steps || halt) && run.dp.leader())
    save_checkpoint(cfg.out, run.weights, run.ext.groups, *run.opt, run.state, cfg.keep, run.device);
}

bool stop_requested(Run& run, const std::atomic<bool>& stop) {
  return run.dp.sum(stop.load() ? 1 : 0) > 0;  // one rank stopping stops all
}

}  // namespace

std::string latest_checkpoint(const std::string& out) {
  const fs::path dir = fs::path(out) / "checkpoints";
  std::string best;
  if (!fs::exists(dir)) return best;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step-", 0) == 0 && e.path().extension() != ".tmp" && e.path().string() > best)
      best = e.path().string();
  }
  return best;
}

TrainResult train(const TrainConfig& cfg, const std::atomic<bool>& stop, const Extensions& extensions) {
  Run run(cfg, extensions);
  load_data(run);        // the examples (and the held-out ones), the batching over ranks
  load_models(run);      // the student, and the teacher or its top-K file
  make_sampler(run);     // the domain mix and its reference losses, the batch order
  make_optimizer(run);   // fp32 masters, parameter groups (the extra ones too), AdamW
  start_or_resume(run);  // a fresh output directory, or the newest checkpoint
  TrainResult r;
  r.first_step = r.steps = run.state.step;
  r.first_loss = run.state.first_loss;
  // A stop while the models loaded or the reference was measured: no step to finish, nothing to save.
  if (stop_requested(run, stop)) {
    r.interrupted = true;
    return r;
  }
  run.net->train();
  while (run.state.step < cfg.steps) {
    const StepResult s = train_step(run);  // forward, backward, clip, AdamW
    nlohmann::json line = metrics_line(run, s);
    mix_domains(run, line);
    evaluate(run, line);
    log_step(run, line);
    r.final_loss = s.loss;
    const bool halt = stop_requested(run, stop) || run.state.step == cfg.stop_at;
    checkpoint(run, halt);
    if (halt) {
      r.interrupted = run.state.step < cfg.steps;
      break;
    }
  }
  if (cfg.progress && run.dp.leader()) std::fprintf(stderr, "\n");
  r.steps = run.state.step;
  r.tokens = run.state.tokens;
  r.first_loss = run.state.first_loss;
  r.model = run.net;
  if (!r.interrupted && cfg.write_final && run.dp.leader())
    model::export_hf(run.net, cfg.model, (fs::path(cfg.out) / "final").string());
  run.dp.barrier();  // the run is complete when its checkpoint and final directory are
  return r;
}

}  // namespace bespoke::train
