// The training loop on a fixture model: loss falls on a memorisation task; 20 steps in one run
// equal 10 steps, a stop, and a resumed run of 10 more, bit for bit on CPU; distilling from
// the model itself starts at zero loss; SIGTERM checkpoints and exits 130; records become
// examples with the right loss mask; bad data is refused naming the line; micro-batches,
// frozen parameters, clipping and the progress line do what they say.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/train/data.h"
#include "bespoke/train/distributed.h"
#include "bespoke/train/evaluate.h"
#include "bespoke/train/sampler.h"
#include "bespoke/train/schedule.h"
#include "bespoke/train/teacher_cache.h"
#include "bespoke/train/trainer.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;

std::string write_data(const std::string& dir) {
  const std::string path = dir + "/data.jsonl";
  std::ofstream out(path);
  out << R"({"text": "the quick brown fox jumps over the lazy dog"})"
      << "\n"
      << R"({"prompt": "Encode: disk full on /var at 03:12.", "completion": "{\"gist\": \"disk full\"}"})"
      << "\n"
      << R"({"messages": [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "general kenobi"}]})"
      << "\n"
      << R"({"text": "pack my box with five dozen liquor jugs", "domain": "prose"})"
      << "\n";
  return path;
}

train::TrainConfig config(const std::string& dir, int64_t steps) {
  fs::create_directories(dir);
  train::TrainConfig c;
  c.model = test::fixture_dir("qwen3");
  c.data = write_data(dir);
  c.out = dir + "/run";
  c.steps = steps;
  c.seq_len = 48;
  c.batch = 4;
  c.micro_batch = 2;
  c.schedule.peak = 3e-3;
  c.schedule.warmup = 2;
  c.weight_decay = 0.01;
  c.save_every = 5;
  return c;
}

const std::atomic<bool> kRun{false};

TEST(Trainer, LossFallsOnAMemorisationTask) {
  train::TrainConfig c = config(test::scratch_dir("memorise"), 30);
  c.schedule.kind = "constant";
  const train::TrainResult r = train::train(c, kRun);
  EXPECT_EQ(r.steps, 30);
  EXPECT_LT(r.final_loss, 0.5 * r.first_loss) << r.first_loss << " -> " << r.final_loss;
  EXPECT_TRUE(fs::exists(c.out + "/final/model.safetensors"));
  std::ifstream metrics(c.out + "/metrics.jsonl");
  EXPECT_EQ(std::count(std::istreambuf_iterator<char>(metrics), {}, '\n'), 30);
}

TEST(Trainer, ResumeContinuesBitForBit) {
  const std::string dir = test::scratch_dir("resume");
  train::TrainConfig whole = config(dir + "/a", 20);
  whole.bucket = 2;  // the length-sorted order is part of the data position too
  train::train(whole, kRun);
  train::TrainConfig half = config(dir + "/b", 20);
  half.bucket = 2;
  half.stop_at = 10;
  EXPECT_TRUE(train::train(half, kRun).interrupted);
  half.stop_at = 0;
  half.resume = true;
  const train::TrainResult r = train::train(half, kRun);
  EXPECT_EQ(r.first_step, 10);
  const io::SafetensorsFile a(train::latest_checkpoint(whole.out) + "/model.safetensors");
  const io::SafetensorsFile b(train::latest_checkpoint(half.out) + "/model.safetensors");
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (const auto& [name, entry] : a.entries()) EXPECT_TRUE(torch::equal(a.get(name), b.get(name))) << name;
  EXPECT_TRUE(fs::exists(train::latest_checkpoint(half.out) + "/optimizer.pt"));
  // Starting over in a directory that holds checkpoints is refused rather than overwriting them.
  train::TrainConfig again = config(dir + "/b", 20);
  EXPECT_THROW(train::train(again, kRun), Error);
}

// The hybrid trains through its DeltaNet layers (the chunked delta rule's backward), with
// each layer's activations recomputed in the backward pass, and resumes bit for bit.
TEST(Trainer, AHybridLearnsAndResumesBitForBitWithCheckpointedLayers) {
  const std::string dir = test::scratch_dir("hybrid");
  const auto hybrid = [&](const std::string& sub) {
    train::TrainConfig c = config(dir + sub, 16);
    c.model = test::fixture_dir("qwen3_5");
    c.checkpoint_layers = true;
    c.schedule.kind = "constant";
    return c;
  };
  train::TrainConfig whole = hybrid("/a");
  const train::TrainResult w = train::train(whole, kRun);
  EXPECT_LT(w.final_loss, 0.7 * w.first_loss) << w.first_loss << " -> " << w.final_loss;
  train::TrainConfig half = hybrid("/b");
  half.stop_at = 8;
  EXPECT_TRUE(train::train(half, kRun).interrupted);
  half.stop_at = 0;
  half.resume = true;
  EXPECT_EQ(train::train(half, kRun).first_step, 8);
  const io::SafetensorsFile a(train::latest_checkpoint(whole.out) + "/model.safetensors");
  const io::SafetensorsFile b(train::latest_checkpoint(half.out) + "/model.safetensors");
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (const auto& [name, entry] : a.entries()) EXPECT_TRUE(torch::equal(a.get(name), b.get(name))) << name;
}

std::vector<nlohmann::json> read_metrics(const std::string& out) {
  std::ifstream in(out + "/metrics.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  return lines;
}

io::SafetensorsFile final_checkpoint(const train::TrainConfig& c) {
  return io::SafetensorsFile(train::latest_checkpoint(c.out) + "/model.safetensors");
}

// Gradient accumulation is exact: micro-batches of one row make the step of the whole batch,
// although the fixture's rows train 11 to 26 targets each (a mean of per-row means would weigh
// a target of the shortest row 2.4 times one of the longest, and miss by 1e-2 in the weights).
// Rounding differs with the shapes: losses and gradient norms agree to 1e-5 relative; weights
// after three steps to 2e-4 (measured 6e-5: Adam magnifies rounding in near-zero gradients).
TEST(Trainer, AccumulatedMicroBatchesMakeTheUpdateOfTheWholeBatch) {
  const std::string dir = test::scratch_dir("accumulate");
  train::TrainConfig whole = config(dir + "/whole", 3), rows = config(dir + "/rows", 3);
  whole.micro_batch = 0;
  rows.micro_batch = 1;
  train::train(whole, kRun);
  train::train(rows, kRun);
  const std::vector<nlohmann::json> a = read_metrics(whole.out), b = read_metrics(rows.out);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i)
    for (const char* key : {"loss", "grad_norm"}) {
      const double want = a[i][key].get<double>();
      EXPECT_NEAR(b[i][key].get<double>(), want, 1e-5 * want) << key << " at step " << i + 1;
    }
  const io::SafetensorsFile x = final_checkpoint(whole), y = final_checkpoint(rows);
  for (const auto& [name, entry] : x.entries()) EXPECT_LT(test::max_abs_diff(x.get(name), y.get(name)), 2e-4) << name;
}

// Frozen parameters keep their starting values bit for bit; the rest train. A checkpoint holds
// only what trains: the frozen weights are the model directory's.
TEST(Trainer, FrozenParametersStayFixed) {
  train::TrainConfig c = config(test::scratch_dir("freeze"), 3);
  c.freeze = {"token_embd", "blk.1."};
  train::train(c, kRun);
  const io::SafetensorsFile checkpoint = final_checkpoint(c);
  auto trained = model::load_model(c.out + "/final")->named_parameters();
  int frozen = 0, moved = 0;
  for (const auto& p : model::load_model(c.model)->named_parameters()) {
    const bool held = p.key().find("token_embd") != std::string::npos || p.key().rfind("blk.1.", 0) == 0;
    EXPECT_EQ(checkpoint.entries().count(p.key()), held ? 0u : 1u) << p.key();
    if (held) {
      EXPECT_TRUE(torch::equal(trained[p.key()], p.value())) << p.key();
      ++frozen;
    } else {
      EXPECT_FALSE(torch::equal(trained[p.key()], p.value())) << p.key();
      EXPECT_TRUE(torch::equal(checkpoint.get(p.key()), trained[p.key()])) << p.key();
      ++moved;
    }
  }
  EXPECT_GT(frozen, 1);
  EXPECT_GT(moved, 1);
  train::TrainConfig all = config(test::scratch_dir("freeze-all"), 1);
  all.freeze = {""};
  EXPECT_THROW(train::train(all, kRun), Error);
}

// The clip rescales the whole gradient by one factor, clip / global norm, and only when the norm
// is above it. One step of AdamW with eps far above every gradient element is plain gradient
// descent at lr / eps: with lr = eps it subtracts the gradient itself (to 1e-6 relative), so each
// tensor's change is its (clipped) gradient. Clipping each tensor to the clip's length would scale
// the tensors differently; a clip above the norm leaves the step as it was. The metrics report
// the norm before clipping.
TEST(Trainer, ClippingScalesTheWholeGradientByOneFactor) {
  const std::string dir = test::scratch_dir("clip");
  const auto run = [&](const std::string& name, double clip) {
    train::TrainConfig c = config(dir + "/" + name, 1);
    c.schedule.warmup = 0;
    c.schedule.peak = c.eps = 1e6;
    c.weight_decay = 0;
    c.clip = clip;
    train::train(c, kRun);
    std::map<std::string, torch::Tensor> change;
    const io::SafetensorsFile trained = final_checkpoint(c);
    for (const auto& p : model::load_model(c.model)->named_parameters())
      change[p.key()] = p.value() - trained.get(p.key());
    return std::pair(change, read_metrics(c.out).at(0)["grad_norm"].get<double>());
  };
  const auto [gradient, norm] = run("none", 0);
  double squares = 0;
  for (const auto& [name, g] : gradient) squares += g.pow(2).sum().item<double>();
  EXPECT_NEAR(std::sqrt(squares), norm, 1e-4 * norm);  // the logged norm is the global one

  for (const double factor : {0.5, 2.0}) {
    const auto [clipped, logged] = run("clip" + std::to_string(factor), factor * norm);
    EXPECT_DOUBLE_EQ(logged, norm);
    const double scale = std::min(factor, 1.0);
    for (const auto& [name, g] : gradient) {
      const torch::Tensor expected = g * scale;
      EXPECT_LT((clipped.at(name) - expected).norm().item<double>(), 1e-3 * expected.norm().item<double>() + 1e-9)
          << name << " with the clip at " << factor << "x the norm";
    }
  }
}

// On a terminal the progress line is redrawn in place (a carriage return before each step's
// step/loss/tokens-per-second/ETA, one newline at the end); elsewhere, with log_every, a plain
// line every that many steps.
TEST(Trainer, ProgressRedrawsOneLineAndLogsPlainLinesElsewhere) {
  const std::string dir = test::scratch_dir("progress");
  train::TrainConfig c = config(dir + "/tty", 3);
  c.progress = true;
  testing::internal::CaptureStderr();
  train::train(c, kRun);
  const std::string tty = testing::internal::GetCapturedStderr();
  const std::regex redraw(R"(\rstep ([1-3])/3  loss [0-9.]+  [0-9]+ tok/s  ETA [0-9]+:[0-9]{2}:[0-9]{2} )");
  std::vector<std::string> steps;
  for (std::sregex_iterator m(tty.begin(), tty.end(), redraw), end; m != end; ++m) steps.push_back((*m)[1]);
  EXPECT_EQ(steps, (std::vector<std::string>{"1", "2", "3"})) << tty;
  const std::string redrawn = tty.substr(std::min(tty.find('\r'), tty.size()));
  EXPECT_EQ(std::count(redrawn.begin(), redrawn.end(), '\n'), 1) << tty;  // only the one that ends the line
  EXPECT_EQ(redrawn.back(), '\n') << tty;

  c = config(dir + "/log", 4);
  c.log_every = 2;
  testing::internal::CaptureStderr();
  train::train(c, kRun);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find('\r'), std::string::npos) << log;
  const std::regex line(R"(step ([1-4])/4  loss [0-9.]+  [0-9]+ tok/s  ETA [0-9]+:[0-9]{2}:[0-9]{2})");
  steps.clear();
  std::istringstream lines(log);
  for (std::string l; std::getline(lines, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) steps.push_back(m[1]);
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"2", "4"})) << log;
}

// A step whose loss is not finite stops the run before the weights change, keeping the
// checkpoints that came before it.
TEST(Trainer, ANonFiniteLossStopsBeforeTheUpdate) {
  const std::string dir = test::scratch_dir("nan");
  train::TrainConfig c = config(dir, 4);
  c.stop_at = 2;
  train::train(c, kRun);
  const std::string good = train::latest_checkpoint(c.out);
  // The checkpoint's weights with one NaN in the final norm: every logit of the next step is NaN.
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  const io::SafetensorsFile saved(good + "/model.safetensors");
  for (const auto& [name, entry] : saved.entries()) weights.push_back({name, saved.get(name)});
  for (auto& [name, w] : weights)
    if (name == "output_norm.weight") w[0] = std::nan("");
  io::write_safetensors(good + "/model.safetensors", weights);
  c.stop_at = 0;
  c.resume = true;
  try {
    train::train(c, kRun);
    ADD_FAILURE() << "a NaN loss was stepped";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 3: the loss is NaN"), std::string::npos) << e.what();
  }
  EXPECT_EQ(train::latest_checkpoint(c.out), good);
  EXPECT_EQ(read_metrics(c.out).size(), 2u);
}

// A checkpoint keeps the global generator, and a resume continues from it rather than from its
// own seeding. The checkpoint's state is set to one only its file can give: seeded with 123 and
// advanced by five draws.
TEST(Trainer, ResumeRestoresTheRandomGenerator) {
  const std::string dir = test::scratch_dir("rng");
  train::TrainConfig c = config(dir, 4);
  train::train(c, kRun);
  torch::manual_seed(123);
  torch::rand({5});
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  torch::Tensor state;
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    state = cpu.get_state();
  }
  const torch::Tensor next = torch::rand({8});
  io::write_safetensors(train::latest_checkpoint(c.out) + "/rng.safetensors", {{"state_0", state}});
  c.resume = true;
  train::train(c, kRun);  // at its last step already: restores, trains nothing
  EXPECT_TRUE(torch::equal(torch::rand({8}), next));
}

// A four-step run on CPU, stopped after step 2: its checkpoint is what the resume tests resume.
train::TrainConfig stopped_at_step_2(const std::string& dir) {
  train::TrainConfig c = config(dir + "/first", 4);
  c.stop_at = 2;
  train::train(c, kRun);
  return c;
}

// A checkpoint resumes on any device, whichever wrote it: the optimizer's state follows the
// weights onto the resuming device.
void expect_resumes_on(const std::string& device, const train::TrainConfig& stopped, const std::string& dir) {
  train::TrainConfig on = config(dir + "/" + device, 4);
  fs::copy(stopped.out, on.out, fs::copy_options::recursive);
  on.device = device;
  on.resume = true;
  const train::TrainResult r = train::train(on, kRun);
  EXPECT_EQ(r.first_step, 2) << device;
  EXPECT_EQ(r.steps, 4) << device;
}

TEST(Trainer, ACpuCheckpointResumesOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: a CPU checkpoint was not resumed on CUDA";
  const std::string dir = test::scratch_dir("resume-cuda");
  expect_resumes_on("cuda", stopped_at_step_2(dir), dir);
}

TEST(Trainer, ACheckpointResumesOnlyWithTheSettingsItWasWrittenWith) {
  const std::string dir = test::scratch_dir("resume-device");
  const train::TrainConfig c = stopped_at_step_2(dir);
  expect_resumes_on("cpu", c, dir);
  // Other data, or other rows, would continue from a position in something else; another model,
  // other frozen or grouped parameters, or other optimizer settings would meet an optimizer state
  // made for others (or have theirs silently replaced by it): refused, naming what changed.
  const std::map<std::string, std::function<void(train::TrainConfig&)>> changes = {
      {"examples 4 -> 5",
       [](train::TrainConfig& o) {
         std::ofstream(o.data, std::ios::app) << R"({"text": "one more line"})"
                                              << "\n";
       }},
      {"seq_len 48 -> 32", [](train::TrainConfig& o) { o.seq_len = 32; }},
      {"seed 0 -> 7", [](train::TrainConfig& o) { o.seed = 7; }},
      {"parameters", [](train::TrainConfig& o) { o.model = test::fixture_dir("llama"); }},
      {"freeze [] -> [\"blk.0.\"]", [](train::TrainConfig& o) { o.freeze = {"blk.0."}; }},
      {"lr_groups",
       [](train::TrainConfig& o) {
         o.lr_groups = {{"norm", 0.5}};
       }},
      {"weight_decay 0.01 -> 0.1", [](train::TrainConfig& o) { o.weight_decay = 0.1; }},
  };
  int n = 0;
  for (const auto& [want, change] : changes) {
    train::TrainConfig other = config(dir + "/other-" + std::to_string(n++), 4);
    fs::copy(c.out, other.out, fs::copy_options::recursive);
    other.resume = true;
    change(other);
    try {
      train::train(other, kRun);
      ADD_FAILURE() << "resumed with other " << want;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
      EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    }
  }
  // A state file this version cannot read is one line naming it, not a crash.
  for (const std::string& state : {R"({"step": 2})", R"({"step": 2, "tokens": 9, "data": [[0]], "first_loss": 1})"}) {
    train::TrainConfig broken = config(dir + "/broken-" + std::to_string(n++), 4);
    fs::copy(c.out, broken.out, fs::copy_options::recursive);
    std::ofstream(train::latest_checkpoint(broken.out) + "/state.json") << state;
    broken.resume = true;
    try {
      train::train(broken, kRun);
      ADD_FAILURE() << "resumed from " << state;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput) << e.what();
      EXPECT_TRUE(std::string(e.what()).find("state.json") != std::string::npos ||
                  std::string(e.what()).find("data position") != std::string::npos)
          << e.what();
    }
  }
  // A stop at or before the checkpoint's step would never be reached: refused.
  train::TrainConfig late = config(dir + "/late", 4);
  fs::copy(c.out, late.out, fs::copy_options::recursive);
  late.resume = true;
  late.stop_at = 2;
  try {
    train::train(late, kRun);
    ADD_FAILURE() << "a --stop-at at the checkpoint's step was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--stop-at 2 is not after"), std::string::npos) << e.what();
  }
}

// --eval-every logs the held-out loss every that many steps and at the last: the mean over the
// evaluation data's trained tokens of the model as it is then (at the end, the final model's).
TEST(Trainer, EvalEveryLogsTheHeldOutLossOfTheModelAtThatStep) {
  const std::string dir = test::scratch_dir("eval-every");
  train::TrainConfig c = config(dir, 5);
  c.eval_data = c.data;
  c.eval_every = 2;
  train::train(c, kRun);
  const std::vector<nlohmann::json> lines = read_metrics(c.out);
  ASSERT_EQ(lines.size(), 5u);
  for (const nlohmann::json& line : lines)
    EXPECT_EQ(line.contains("eval_loss"), line["step"] == 2 || line["step"] == 4 || line["step"] == 5) << line;

  model::Transformer final_model = model::load_model(c.out + "/final");
  const text::Encoder encoder(c.out + "/final");
  const std::vector<text::Example> held_out =
      train::split_documents(train::read_examples(c.eval_data, encoder), c.seq_len);
  std::vector<int64_t> rows(held_out.size());
  std::iota(rows.begin(), rows.end(), 0);
  const double expected = train::mean_loss(final_model, held_out, rows, c.seq_len, 1);
  EXPECT_NEAR(lines.back()["eval_loss"].get<double>(), expected, 1e-5 * expected);
  EXPECT_GT(lines[1]["eval_loss"].get<double>(), lines.back()["eval_loss"].get<double>());  // memorising its own data

  c.eval_data.clear();
  EXPECT_THROW(train::train(c, kRun), Error);
}

TEST(Trainer, DistillingFromItselfStartsAtZeroLoss) {
  train::TrainConfig c = config(test::scratch_dir("kd"), 1);
  c.teacher = c.model;
  c.schedule.warmup = 0;
  const train::TrainResult r = train::train(c, kRun);
  EXPECT_NEAR(r.first_loss, 0.0, 1e-6);
}

// A teacher's top-K file with K = the whole vocabulary trains the student as the resident
// teacher does: the same losses step by step (the file keeps fp32 log-probabilities; only
// rounding differs, 1e-6), the same weights up to Adam's magnification of that rounding in
// near-zero gradients (1e-4, where the weights move by ~1e-2). A small K trains too.
TEST(Trainer, PrecomputedTeacherTopKMatchesTheResidentTeacher) {
  const std::string dir = test::scratch_dir("topk");
  train::TrainConfig c = config(dir, 3);
  c.schedule.warmup = 0;
  c.kd_weight = 0.5;  // the CE half moves the student away from its teacher (itself, here)
  c.teacher = c.model;
  c.out = dir + "/resident";
  train::train(c, kRun);
  train::write_teacher_topk(c.model, c.data, dir + "/topk.safetensors", c.seq_len, 700);
  c.teacher.clear();
  c.teacher_topk = dir + "/topk.safetensors";
  c.out = dir + "/file";
  train::train(c, kRun);
  const io::SafetensorsFile a(train::latest_checkpoint(dir + "/resident") + "/model.safetensors");
  const io::SafetensorsFile b(train::latest_checkpoint(dir + "/file") + "/model.safetensors");
  for (const auto& [name, entry] : a.entries()) EXPECT_LT(test::max_abs_diff(a.get(name), b.get(name)), 1e-4) << name;
  std::ifstream ma(dir + "/resident/metrics.jsonl"), mb(dir + "/file/metrics.jsonl");
  for (std::string la, lb; std::getline(ma, la) && std::getline(mb, lb);)
    EXPECT_NEAR(nlohmann::json::parse(la)["loss"].get<double>(), nlohmann::json::parse(lb)["loss"].get<double>(), 1e-6);
  const test::CommandResult small = test::run_bespoke("teacher-logits --teacher " + c.model + " --data " + c.data +
                                                      " --out " + dir + "/top8.safetensors --seq-len 48 --top-k 8");
  ASSERT_EQ(small.exit_code, 0) << small.err;
  c.teacher_topk = dir + "/top8.safetensors";
  c.out = dir + "/top8";
  EXPECT_TRUE(std::isfinite(train::train(c, kRun).final_loss));

  // The file says what it was made from: other records (as many of them), or a teacher with
  // another vocabulary, are refused rather than read as this data's.
  const auto refused = [&](const train::TrainConfig& run, const std::string& want) {
    try {
      train::train(run, kRun);
      ADD_FAILURE() << "trained on " << run.teacher_topk << " with " << run.data;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  train::TrainConfig edited = c;
  edited.data = dir + "/edited.jsonl";
  {  // the first record, one word changed
    std::vector<std::string> lines;
    std::ifstream in(c.data);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    std::ofstream out(edited.data);
    out << R"({"text": "the quick brown fox jumps over the lazy cat"})"
        << "\n";
    for (size_t i = 1; i < lines.size(); ++i) out << lines[i] << "\n";
  }
  edited.out = dir + "/edited";
  refused(edited, "made from other tokens");
  train::write_teacher_topk(test::fixture_dir("gemma3"), c.data, dir + "/gemma3.safetensors", c.seq_len, 8);
  train::TrainConfig other_tokenizer = c;
  other_tokenizer.teacher_topk = dir + "/gemma3.safetensors";
  other_tokenizer.out = dir + "/other-tokenizer";
  refused(other_tokenizer, "made from other tokens");
  const text::Encoder encoder(c.model);
  const std::vector<text::Example> examples = train::split_documents(train::read_examples(c.data, encoder), c.seq_len);
  const train::TeacherTopK top8(dir + "/top8.safetensors");
  top8.check_made_from(train::tokens_hash(examples), 700);
  EXPECT_THROW(top8.check_made_from(train::tokens_hash(examples), 701),
               Error);  // the fixtures' vocabularies are all 700
}

TEST(Trainer, SigtermSavesACheckpointAndResumeFinishes) {
  const std::string dir = test::scratch_dir("sigterm");
  const train::TrainConfig c = config(dir, 100000);
  const std::string args =
      "train --model " + c.model + " --data " + c.data + " --out " + c.out + " --seq-len 48 --batch 2";
  const test::CommandResult r = test::run_command("timeout --preserve-status -s TERM 4 " + std::string(BESPOKE_BINARY) +
                                                  " " + args + " --steps 100000");
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted at step"), std::string::npos) << r.err;
  ASSERT_FALSE(train::latest_checkpoint(c.out).empty());
  const test::CommandResult resumed = test::run_bespoke(args + " --steps 1 --resume");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;  // already past step 1: nothing to do but finish
  EXPECT_TRUE(fs::exists(c.out + "/final/config.json"));
}

// A stop that comes while the models load (or the reference is measured) ends the run before
// its first step: a fresh run leaves no checkpoint and no final model, a resumed one leaves its
// checkpoint and metrics as they were.
TEST(Trainer, AStopBeforeTheFirstStepTrainsAndSavesNothing) {
  const std::string dir = test::scratch_dir("early-stop");
  const std::atomic<bool> stopped{true};
  train::TrainConfig c = config(dir, 4);
  const train::TrainResult fresh = train::train(c, stopped);
  EXPECT_TRUE(fresh.interrupted);
  EXPECT_EQ(fresh.steps, 0);
  EXPECT_EQ(train::latest_checkpoint(c.out), "");
  EXPECT_FALSE(fs::exists(c.out + "/final"));

  c.stop_at = 2;
  train::train(c, kRun);
  const std::string saved = train::latest_checkpoint(c.out);
  c.stop_at = 0;
  c.resume = true;
  const train::TrainResult resumed = train::train(c, stopped);
  EXPECT_TRUE(resumed.interrupted);
  EXPECT_EQ(resumed.steps, 2);
  EXPECT_EQ(train::latest_checkpoint(c.out), saved);
  EXPECT_EQ(read_metrics(c.out).size(), 2u);
  EXPECT_FALSE(fs::exists(c.out + "/final"));
}

// Two processes, each with half the global batch (every other row), make the same update as one
// process that accumulates the same rows: over Gloo on CPU, and over NCCL on two GPUs where the
// machine has them. A row at a time on both sides, so each row's forward has the same shapes and
// only the summation order differs (the all-reduce adds the ranks' gradients, the single process
// accumulates them): the weights agree to float rounding, which Adam's normalisation may magnify
// a little: bound 1e-5.
void expect_two_processes_make_the_update_of_one(const std::string& device) {
  const std::string dir = test::scratch_dir("ddp-" + device);
  const train::TrainConfig c = config(dir, 6);
  const std::string common = "train --model " + c.model + " --data " + c.data +
                             " --steps 6 --batch 4 --seq-len 48 --lr 3e-3 --device " + device;
  const test::CommandResult one = test::run_bespoke(common + " --micro-batch 1 --out " + dir + "/one");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const test::CommandResult two = test::run_bespoke(common + " --micro-batch 1 --nproc 2 --out " + dir + "/two");
  ASSERT_EQ(two.exit_code, 0) << two.err;
#ifdef BESPOKE_NCCL
  const std::string backend = device == "cuda" ? "nccl" : "gloo";
#else
  const std::string backend = "gloo";
#endif
  EXPECT_NE(two.err.find("2 processes over " + backend), std::string::npos) << two.err;
  const io::SafetensorsFile a(train::latest_checkpoint(dir + "/one") + "/model.safetensors");
  const io::SafetensorsFile b(train::latest_checkpoint(dir + "/two") + "/model.safetensors");
  double worst = 0, moved = 0;
  for (const auto& p : model::load_model(c.model)->named_parameters()) {
    worst = std::max(worst, test::max_abs_diff(a.get(p.key()), b.get(p.key())));
    moved = std::max(moved, test::max_abs_diff(a.get(p.key()), p.value()));
  }
  EXPECT_LT(worst, 1e-5) << device;
  EXPECT_GT(moved, 1e-3) << device;  // the runs did train
  // Adam would hide a gradient off by a constant factor; the logged norm (before clipping) does not.
  const std::vector<nlohmann::json> m1 = read_metrics(dir + "/one"), m2 = read_metrics(dir + "/two");
  ASSERT_EQ(m1.size(), m2.size());
  for (size_t i = 0; i < m1.size(); ++i)
    for (const char* key : {"loss", "grad_norm"})
      EXPECT_NEAR(m2[i][key].get<double>(), m1[i][key].get<double>(), 1e-5 * m1[i][key].get<double>())
          << key << " " << i;
  std::cout << device << ": max |one process - two processes| = " << worst << " (weights moved up to " << moved
            << ")\n";
}

TEST(Trainer, TwoProcessesMakeTheUpdateOfOneWithTheSameGlobalBatch) {
  expect_two_processes_make_the_update_of_one("cpu");
}

TEST(Trainer, TwoCudaProcessesMakeTheUpdateOfOneWithTheSameGlobalBatch) {
  const int gpus = static_cast<int>(torch::cuda::device_count());
  if (gpus < 2) GTEST_SKIP() << "needs two CUDA devices, found " << gpus << ": the NCCL two-process case did not run";
  expect_two_processes_make_the_update_of_one("cuda");
}

// Two ranks (threads of this process, over Gloo on loopback) average every tensor, whichever
// bucket it falls in: alone in place, alone through a copy (not contiguous), or with others.
TEST(Trainer, TwoRanksAverageEveryBucket) {
  const auto tensors = [](int rank) {
    const double k = rank + 1;
    return std::vector<torch::Tensor>{torch::arange(6, torch::kFloat32) * k,
                                      (torch::arange(6, torch::kFloat32) * k - 2).reshape({3, 2}).t(),
                                      torch::full({2}, 7.0f * k), torch::tensor({-1.0f, 3.0f}) * k};
  };
  const int port = train::free_port();
  std::vector<std::vector<torch::Tensor>> got = {tensors(0), tensors(1)};
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank)
    ranks.emplace_back([&, rank] {
      train::DataParallel dp = train::DataParallel::join(rank, 2, "127.0.0.1", port, torch::kCPU);
      dp.average(got[rank], 24);
    });
  for (std::thread& t : ranks) t.join();
  const std::vector<torch::Tensor> first = tensors(0), second = tensors(1);
  for (size_t i = 0; i < first.size(); ++i)
    for (int rank = 0; rank < 2; ++rank)
      EXPECT_TRUE(torch::equal(got[rank][i], (first[i] + second[i]) / 2)) << "tensor " << i << " rank " << rank;
}

// A worker that fails stops the others, which would otherwise wait for it in an all-reduce: the
// launch returns the failure's code long before the survivor's two minutes are up (`exec`: the
// signal reaches the sleep itself, which would otherwise hold the test's output open).
TEST(Trainer, AFailingWorkerStopsTheOthers) {
  const auto start = std::chrono::steady_clock::now();
  const int code = train::launch_local(2, {"/bin/sh", "-c", "if [ \"$RANK\" = 1 ]; then exit 3; fi; exec sleep 120"});
  EXPECT_EQ(code, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

// A group of one over loopback: the collectives are identities, on every device this machine
// has, and CUDA gets NCCL where libtorch was built with it. A CUDA run asks each rank for a GPU
// of its own.
void expect_group_of_one_collectives(const torch::Device& device) {
  train::DataParallel dp = train::DataParallel::join(0, 1, "127.0.0.1", train::free_port(), device);
#ifdef BESPOKE_NCCL
  EXPECT_EQ(dp.backend(), device.is_cuda() ? "nccl" : "gloo");
#else
  EXPECT_EQ(dp.backend(), "gloo");
#endif
  // In buckets of 24 bytes: {a} in place, {b} (not contiguous) through a copy, {c, d} together.
  const torch::Tensor a = torch::arange(6, torch::kFloat32).to(device),
                      b = torch::arange(6, torch::kFloat32).reshape({3, 2}).to(device).t(),
                      c = torch::full({2}, 7.0f).to(device), d = torch::tensor({-1.0f, 3.0f}).to(device);
  const std::vector<torch::Tensor> before = {a.clone(), b.clone(), c.clone(), d.clone()};
  for (const int64_t bucket : {int64_t(24), int64_t(1) << 20}) {
    dp.average({a, b, c, d}, bucket);
    const std::vector<torch::Tensor> after = {a, b, c, d};
    for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(torch::equal(after[i], before[i])) << device << " " << i;
  }
  EXPECT_EQ(dp.sum(2.5), 2.5);
  dp.barrier();
}

TEST(Trainer, ProcessGroupOfOneRunsItsCollectivesOnCpu) {
  expect_group_of_one_collectives(torch::kCPU);
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "0", 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", "29555", 1);
  ::setenv("LOCAL_RANK", std::to_string(torch::cuda::device_count()).c_str(), 1);
  EXPECT_THROW(train::DataParallel::from_env("cuda"), Error);
  for (const char* name : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"}) ::unsetenv(name);
}

TEST(Trainer, ProcessGroupOfOneRunsItsCollectivesOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the CUDA process group case did not run";
  expect_group_of_one_collectives(torch::Device(torch::kCUDA, 0));
}

TEST(Trainer, RecordsBecomeExamplesWithTheirLossMask) {
  const std::string dir = test::scratch_dir("records");
  const text::Encoder encoder(test::fixture_dir("qwen3"));
  const std::vector<text::Example> examples = train::read_examples(write_data(dir), encoder);
  ASSERT_EQ(examples.size(), 4u);
  const auto trained = [](const text::Example& e) { return std::count(e.trained.begin(), e.trained.end(), 1); };
  EXPECT_EQ(trained(examples[0]), int64_t(examples[0].ids.size()));  // text: everything
  const std::vector<int32_t> completion = encoder.tokenizer->encode("{\"gist\": \"disk full\"}", false);
  EXPECT_EQ(trained(examples[1]), int64_t(completion.size()) + 1);  // completion + EOS
  EXPECT_EQ(examples[1].trained.front(), 0);
  EXPECT_GT(trained(examples[2]), 0);  // the reply only
  EXPECT_LT(trained(examples[2]), int64_t(examples[2].ids.size()) / 2);
  EXPECT_EQ(encoder.tokenizer
                ->decode(std::vector<int32_t>(examples[2].ids.end() - trained(examples[2]), examples[2].ids.end()))
                .find("general kenobi"),
            0u);
  EXPECT_EQ(examples[3].domain, "prose");
  // A batch shifts targets by one, masks padding, and is as long as its longest row.
  const int64_t n_short = examples[3].ids.size(), n_long = examples[1].ids.size();
  ASSERT_LT(n_short, n_long);
  ASSERT_LT(n_long, 64);
  const train::Batch b = train::make_batch(examples, {3, 1}, 64);
  EXPECT_EQ(b.ids.size(1), n_long);
  EXPECT_EQ(b.targets[0][0].item<int64_t>(), examples[3].ids[1]);
  const auto targets_trained = [](const text::Example& e) {
    return std::count(e.trained.begin() + 1, e.trained.end(), 1);
  };
  EXPECT_EQ(b.tokens, targets_trained(examples[3]) + targets_trained(examples[1]));
  EXPECT_FALSE(b.mask[0][n_short - 1].item<bool>());
  EXPECT_EQ(b.ids[0][n_short].item<int64_t>(), 0);
  // A row longer than seq_len is cut there.
  const train::Batch cut = train::make_batch(examples, {1}, 4);
  EXPECT_EQ(cut.ids.size(1), 4);
  EXPECT_EQ(cut.targets[0][3].item<int64_t>(), examples[1].ids[4]);
}

// A template that prints today's date (Llama 3.2's) renders a fixed one in training data, so the
// same data makes the same tokens on any day. A template Bespoke does not recognise still trains
// on text, refuses chat records naming --chat-template, and --chat-template renders them.
TEST(Trainer, ChatRecordsRenderTheSameOnAnyDayAndInANamedFormat) {
  const std::string dir = test::scratch_dir("chat-formats");
  const auto tokenizer_dir = [&](const std::string& name, const std::string& chat_template) {
    const std::string out = dir + "/" + name;
    fs::create_directories(out);
    fs::copy_file(test::fixture_dir("qwen3") + "/tokenizer.json", out + "/tokenizer.json",
                  fs::copy_options::overwrite_existing);
    nlohmann::json config = nlohmann::json::parse(std::ifstream(test::fixture_dir("qwen3") + "/tokenizer_config.json"));
    config["chat_template"] = chat_template;
    std::ofstream(out + "/tokenizer_config.json") << config.dump();
    return out;
  };
  const nlohmann::json chat = nlohmann::json::parse(
      R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})");
  const auto rendered = [&](const text::Encoder& encoder) {
    const text::Example e = encoder.encode(chat);
    return encoder.tokenizer->decode(e.ids, /*skip_special=*/false);
  };

  const std::string llama32 = tokenizer_dir(
      "llama32", "{{ '<|start_header_id|>' }}Cutting Knowledge Date: December 2023{{ strftime_now('%d %b %Y') }}");
  EXPECT_NE(rendered(text::Encoder(llama32)).find("Today Date: 26 Jul 2024\n"), std::string::npos)
      << rendered(text::Encoder(llama32));

  const std::string unknown = tokenizer_dir("unknown", "{{ messages[0]['content'] }}");
  const text::Encoder plain(unknown);
  EXPECT_FALSE(plain.encode(nlohmann::json::parse(R"({"text": "plain text trains"})")).ids.empty());
  try {
    plain.encode(chat);
    ADD_FAILURE() << "a chat record rendered with an unrecognised template";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--chat-template"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rendered(text::Encoder(unknown, "chatml")).rfind("<|im_start|>user\nhi<|im_end|>", 0), 0u)
      << rendered(text::Encoder(unknown, "chatml"));
}

TEST(Trainer, LongDocumentsSplitIntoWindowsAndEachTokenIsATargetOnce) {
  const std::string dir = test::scratch_dir("windows");
  std::string text;
  for (int i = 0; i < 40; ++i) text += "line " + std::to_string(i) + " of a long plain-text document. ";
  const std::string long_reply = text.substr(0, 300);
  {
    std::ofstream out(dir + "/long.jsonl");
    out << nlohmann::json{{"text", text}}.dump() << "\n"
        << nlohmann::json{{"prompt", "Say it:"}, {"completion", long_reply}}.dump() << "\n";
  }
  const text::Encoder encoder(test::fixture_dir("qwen3"));
  const std::vector<text::Example> records = train::read_examples(dir + "/long.jsonl", encoder);
  const int64_t window = 16, n = records[0].ids.size();
  ASSERT_GT(n, 4 * window);
  const std::vector<text::Example> split = train::split_documents(records, window);
  const int64_t windows = (n - 1 + window - 1) / window;
  ASSERT_EQ(int64_t(split.size()), windows + 1);
  // The windows overlap by one token and spell the document.
  std::vector<int32_t> spelled = split[0].ids;
  for (int64_t w = 1; w < windows; ++w) {
    EXPECT_LE(int64_t(split[w].ids.size()), window + 1);
    EXPECT_EQ(split[w].ids.front(), spelled.back());
    spelled.insert(spelled.end(), split[w].ids.begin() + 1, split[w].ids.end());
  }
  EXPECT_EQ(spelled, records[0].ids);
  // Every target of the document is trained once; the prompt/completion example stays whole.
  std::vector<int64_t> rows(windows);
  for (int64_t w = 0; w < windows; ++w) rows[w] = w;
  EXPECT_EQ(train::make_batch(split, rows, window).tokens, n - 1);
  EXPECT_EQ(split.back().ids, records[1].ids);

  // A teacher file made at another length split the documents otherwise: refused.
  train::TrainConfig c = config(dir, 2);
  c.data = dir + "/long.jsonl";
  c.seq_len = window;
  c.schedule.warmup = 0;
  train::write_teacher_topk(c.model, c.data, dir + "/topk.safetensors", 2 * window, 4);
  c.teacher_topk = dir + "/topk.safetensors";
  EXPECT_THROW(train::train(c, kRun), Error);
  train::write_teacher_topk(c.model, c.data, dir + "/topk16.safetensors", window, 4);
  c.teacher_topk = dir + "/topk16.safetensors";
  EXPECT_EQ(train::train(c, kRun).steps, 2);
}

TEST(Trainer, OptionsComeFromATomlFileAndFlagsWin) {
  const std::string dir = test::scratch_dir("toml");
  const train::TrainConfig c = config(dir, 3);
  std::ofstream(dir + "/run.toml") << "[train]\nmodel = \"" << c.model << "\"\ndata = \"" << c.data << "\"\nout = \""
                                   << dir << "/run\"\nsteps = 3\nseq-len = 32\nbatch = 2\nlr = 0.002\n"
                                   << "lr-group = [\"attn_q=0.5\", \"token_embd=0\"]\n";
  const test::CommandResult r = test::run_bespoke("train --config " + dir + "/run.toml --steps 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream metrics(dir + "/run/metrics.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(metrics, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 2u);                              // --steps 2 beat the file's 3
  EXPECT_NEAR(lines[0]["lr"].get<double>(), 0.002, 1e-12);  // the file's lr (no warmup, step 0 of cosine)

  for (const char* group : {"attn_q", "attn_q=x", "=0.5", "attn_q=0.5x"}) {
    const test::CommandResult bad =
        test::run_bespoke("train --config " + dir + "/run.toml --out " + dir + "/bad --lr-group " + group);
    EXPECT_EQ(bad.exit_code, 64) << group << ": " << bad.err;
    EXPECT_NE(bad.err.find("is not PATTERN=MULTIPLE"), std::string::npos) << bad.err;
  }
  // --domains: spaces around names are not part of them; a weight must be a number, whole.
  const test::CommandResult spaced = test::run_bespoke("train --config " + dir + "/run.toml --out " + dir +
                                                       "/spaced --steps 1 --domains 'default=0.75, prose=0.25'");
  ASSERT_EQ(spaced.exit_code, 0) << spaced.err;
  EXPECT_EQ(read_metrics(dir + "/spaced").at(0)["domain_weights"], nlohmann::json::parse("[0.75, 0.25]"));
  for (const char* domains : {"default=0.5x,prose=0.5", "default=0.5,", ",prose", "default=0.5,prose"}) {
    const test::CommandResult bad =
        test::run_bespoke("train --config " + dir + "/run.toml --out " + dir + "/bad --domains '" + domains + "'");
    EXPECT_EQ(bad.exit_code, 64) << domains << ": " << bad.err;
    EXPECT_NE(bad.err.find("--domains: "), std::string::npos) << bad.err;
  }
}

// DIR/final is an HF directory made from the student's: a GGUF student is refused before any
// step, not after the last one.
TEST(Trainer, AGgufStudentIsRefusedBeforeTraining) {
  const std::string dir = test::scratch_dir("gguf-student");
  ASSERT_EQ(test::run_bespoke("export " + test::fixture_dir("qwen3") + " --to gguf --out " + dir + "/m.gguf").exit_code,
            0);
  std::ofstream(dir + "/ids.jsonl") << R"({"ids": [1, 2, 3, 4, 5, 6]})"
                                    << "\n";
  const test::CommandResult r =
      test::run_bespoke("train --model " + dir + "/m.gguf --data " + dir + "/ids.jsonl --out " + dir +
                        "/run --steps 1 --batch 1 --seq-len 5 --warmup 0");
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("a GGUF file can be a --teacher, not a student"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/run/checkpoints"));
}

TEST(Trainer, BadDataIsRefusedNamingTheLine) {
  const std::string dir = test::scratch_dir("bad");
  std::ofstream(dir + "/bad.jsonl") << R"({"text": "fine"})"
                                    << "\n"
                                    << R"({"prompt": 3, "completion": "x"})"
                                    << "\n";
  const test::CommandResult r = test::run_bespoke("train --model " + test::fixture_dir("qwen3") + " --data " + dir +
                                                  "/bad.jsonl --out " + dir + "/run --steps 1");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("bad.jsonl:2"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // Token ids the model has no embedding for, or that do not fit a token id at all.
  const std::string model = " --model " + test::fixture_dir("qwen3");
  std::ofstream(dir + "/big.jsonl") << R"({"ids": [1, 2, 1000000]})"
                                    << "\n";
  std::ofstream(dir + "/huge.jsonl") << R"({"ids": [1, 3000000000]})"
                                     << "\n";
  for (const auto& [file, message] : {std::pair("big", "token id 1000000 is not below the model's vocabulary size"),
                                      std::pair("huge", "huge.jsonl:1")}) {
    const test::CommandResult bad = test::run_bespoke("train" + model + " --data " + dir + "/" + file +
                                                      ".jsonl --out " + dir + "/run-" + file + " --steps 1");
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_NE(bad.err.find(message), std::string::npos) << bad.err;
  }
  // teacher-logits refuses rows or batches it could never fill, rather than looping.
  for (const char* option : {"--seq-len 0", "--batch 0"}) {
    const test::CommandResult bad =
        test::run_bespoke("teacher-logits --teacher " + test::fixture_dir("qwen3") + " --data " + dir +
                          "/big.jsonl --out " + dir + "/topk.safetensors " + option);
    EXPECT_EQ(bad.exit_code, 64) << option << ": " << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  }
  // ...and an --out that is the data file, which it would replace.
  const auto contents = [](const std::string& path) {
    return std::string(std::istreambuf_iterator<char>(std::ifstream(path).rdbuf()), {});
  };
  const std::string data = dir + "/big.jsonl", before = contents(data);
  const test::CommandResult same =
      test::run_bespoke("teacher-logits --teacher " + test::fixture_dir("qwen3") + " --data " + data + " --out " + dir +
                        "/../" + fs::path(dir).filename().string() + "/big.jsonl");
  EXPECT_EQ(same.exit_code, 64) << same.err;
  EXPECT_EQ(contents(data), before);
}

// bf16 compute with fp32 masters: the loss still falls, and the checkpoint holds fp32 masters
// (which differ from their bf16 copies by less than bf16's rounding).
TEST(Trainer, Bf16TrainingKeepsFp32Masters) {
  train::TrainConfig c = config(test::scratch_dir("bf16"), 20);
  c.schedule.kind = "constant";
  c.bf16 = true;
  const train::TrainResult r = train::train(c, kRun);
  EXPECT_LT(r.final_loss, 0.7 * r.first_loss) << r.first_loss << " -> " << r.final_loss;
  const io::SafetensorsFile ckpt(train::latest_checkpoint(c.out) + "/model.safetensors");
  const torch::Tensor w = ckpt.get("blk.0.attn_q.weight");
  EXPECT_EQ(w.scalar_type(), torch::kFloat32);
  EXPECT_FALSE(torch::equal(w, w.to(torch::kBFloat16).to(torch::kFloat32)));  // not just bf16 values
}

TEST(Trainer, LrGroupsScaleTheUpdatesOfTheirParameters) {
  const std::string dir = test::scratch_dir("lr-groups");
  // One step each: at the plain rate, with groups, and with every rate 0 (the starting weights).
  const auto one_step = [&](const std::string& name, std::vector<std::pair<std::string, double>> groups) {
    train::TrainConfig c = config(dir + "/" + name, 1);
    c.schedule.warmup = 0;
    c.lr_groups = std::move(groups);
    train::train(c, kRun);
    return io::SafetensorsFile(train::latest_checkpoint(c.out) + "/model.safetensors");
  };
  const io::SafetensorsFile plain = one_step("plain", {});
  const io::SafetensorsFile grouped = one_step("grouped", {{"attn_q", 0.5}, {"blk.0.", 0.0}});
  const io::SafetensorsFile start = one_step("start", {{"", 0.0}});
  int scaled = 0, held = 0, same = 0;
  for (const auto& [name, entry] : plain.entries()) {
    const torch::Tensor base = plain.get(name) - start.get(name), step = grouped.get(name) - start.get(name);
    ASSERT_GT(base.abs().max().item<double>(), 0) << name;
    if (name.find("attn_q") != std::string::npos) {  // the first matching group wins, in blk.0 too
      EXPECT_TRUE(torch::allclose(step, 0.5 * base, 1e-4, 1e-9)) << name;
      ++scaled;
    } else if (name.rfind("blk.0.", 0) == 0) {
      EXPECT_TRUE(torch::equal(grouped.get(name), start.get(name))) << name;
      ++held;
    } else {
      EXPECT_TRUE(torch::equal(grouped.get(name), plain.get(name))) << name;
      ++same;
    }
  }
  EXPECT_GT(scaled, 1);
  EXPECT_GT(held, 0);
  EXPECT_GT(same, 0);

  train::TrainConfig bad = config(dir + "/bad", 1);
  bad.schedule.warmup = 0;
  bad.lr_groups = {{"attn", -1.0}};
  EXPECT_THROW(train::train(bad, kRun), Error);
}

TEST(Trainer, LengthBucketingPadsLessAndVisitsEveryExampleOncePerPass) {
  std::vector<text::Example> examples(200);
  std::mt19937 rng(3);
  for (text::Example& e : examples) e.ids.resize(std::uniform_int_distribution<int>(1, 100)(rng));
  const int64_t batch = 8, steps_per_pass = 25;
  const auto padded = [&](train::Sampler& s, std::vector<int64_t>* seen) {
    int64_t total = 0;
    for (int64_t step = 0; step < 2 * steps_per_pass; ++step) {
      int64_t longest = 0;
      for (int64_t i : s.rows(step, batch)) {
        longest = std::max<int64_t>(longest, examples[i].ids.size());
        if (seen) ++(*seen)[i];
      }
      total += longest * batch;
    }
    return total;
  };
  train::Sampler plain(examples, nullptr, 5), bucketed(examples, nullptr, 5, 4, batch);
  std::vector<int64_t> seen(examples.size());
  const int64_t plain_positions = padded(plain, nullptr), bucketed_positions = padded(bucketed, &seen);
  for (int64_t n : seen) EXPECT_EQ(n, 2);  // two passes, each example once in each
  // Rows of 1..100 tokens: a batch of 8 drawn at random is padded to about 89, a sorted window's
  // batch to about its own rows' length.
  EXPECT_LT(bucketed_positions, 0.8 * plain_positions) << bucketed_positions << " vs " << plain_positions;

  // With a pass that is not a whole number of batches (203 rows, 8 per step), the second pass
  // starts mid-step; its sorted batches still line up with the steps, so it pads as little.
  examples.resize(203);
  examples.back().ids.resize(50);
  train::Sampler p(examples, nullptr, 5), b(examples, nullptr, 5, 4, batch);
  const auto positions = [&](const std::vector<int64_t>& rows) {
    int64_t longest = 0;
    for (int64_t i : rows) longest = std::max<int64_t>(longest, examples[i].ids.size());
    return longest * batch;
  };
  int64_t plain_pass[2] = {0, 0}, bucketed_pass[2] = {0, 0};  // steps 0-24 (pass 1), 26-49 (pass 2)
  for (int64_t step = 0; step < 50; ++step) {
    const int64_t a = positions(p.rows(step, batch)), c = positions(b.rows(step, batch));
    if (step == 25) continue;  // the step that straddles the passes
    plain_pass[step > 25] += a;
    bucketed_pass[step > 25] += c;
  }
  for (const int pass : {0, 1})
    EXPECT_LT(bucketed_pass[pass], 0.8 * plain_pass[pass])
        << "pass " << pass + 1 << ": " << bucketed_pass[pass] << " vs " << plain_pass[pass];

  // A sampler restored mid-pass continues the same order.
  train::Sampler whole(examples, nullptr, 5, 4, batch), resumed(examples, nullptr, 5, 4, batch);
  for (int64_t step = 0; step < 30; ++step) whole.rows(step, batch);
  resumed.restore(whole.state());
  for (int64_t step = 30; step < 40; ++step) EXPECT_EQ(whole.rows(step, batch), resumed.rows(step, batch));

  const train::DomainMix mix = train::DomainMix::make({"default"});
  EXPECT_THROW(train::Sampler(examples, &mix, 5, 4, batch), Error);

  // Ranks take every world-th row of a (sorted) global batch, so each gets short and long rows
  // alike; every row goes to exactly one micro-batch of one rank.
  std::vector<int64_t> global(24);
  for (size_t i = 0; i < global.size(); ++i) global[i] = 100 + i;
  std::vector<int> taken(global.size());
  for (const int world : {1, 2, 3})
    for (int rank = 0; rank < world; ++rank)
      for (int64_t m = 0; m < 4; ++m)
        for (const int64_t row : train::micro_batch_rows(global, rank, world, m, 24 / world / 4)) {
          EXPECT_EQ((row - 100) % world, rank) << world;
          ++taken[row - 100];
        }
  for (const int n : taken) EXPECT_EQ(n, 3);  // once for each world size
}

TEST(Trainer, SchedulesWarmUpThenDecay) {
  train::Schedule s;
  s.peak = 1.0, s.final_ratio = 0.1, s.warmup = 10;
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 0, 110), 0.1);
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 9, 110), 1.0);
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 10, 110), 1.0);
  EXPECT_NEAR(train::learning_rate(s, 109, 110), 0.1, 1e-12);
  s.kind = "wsd", s.decay_fraction = 0.2;
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 80, 110), 1.0);
  EXPECT_NEAR(train::learning_rate(s, 109, 110), 0.1, 1e-12);
  s.kind = "constant";
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 50, 110), 1.0);
  s.kind = "linear";
  EXPECT_THROW(train::learning_rate(s, 0, 110), Error);  // refused during warmup too, before any training
  s.kind = "cosine", s.final_ratio = -0.1;
  EXPECT_THROW(train::learning_rate(s, 0, 110), Error);
}

// An extra loss term adds its own gradient to the step, and is logged under its name. One step
// of AdamW at lr = eps (far above every gradient element) subtracts the gradient itself, as in
// the clip's test: with c * ||w||^2 on one matrix, that matrix moves by 2 c w more than in plain
// training, and every other tensor as in plain training. The logged loss includes the term.
TEST(Trainer, AnExtraLossTermAddsItsGradientAndIsLogged) {
  const std::string dir = test::scratch_dir("extra-term");
  const std::string target = "blk.0.attn_q.weight";
  const double c = 0.5;
  const auto run = [&](const std::string& name, const train::Extensions& ext) {
    train::TrainConfig cfg = config(dir + "/" + name, 1);
    cfg.schedule.warmup = 0;
    cfg.schedule.peak = cfg.eps = 1e6;
    cfg.weight_decay = 0;
    cfg.clip = 0;
    train::train(cfg, kRun, ext);
    std::map<std::string, torch::Tensor> change;
    const io::SafetensorsFile trained = final_checkpoint(cfg);
    for (const auto& p : model::load_model(cfg.model)->named_parameters())
      change[p.key()] = p.value() - trained.get(p.key());
    return std::pair(change, read_metrics(cfg.out).at(0));
  };
  const auto [plain, plain_line] = run("plain", {});
  train::Extensions ext;
  ext.terms.push_back({"l2", [&](model::Transformer& m, const train::Batch&, int64_t step) {
                         EXPECT_EQ(step, 0);
                         return m->named_parameters()[target].pow(2).sum() * c;
                       }});
  const auto [with_term, line] = run("term", ext);
  const torch::Tensor w = model::load_model(test::fixture_dir("qwen3"))->named_parameters()[target];
  for (const auto& [name, g] : plain) {
    const torch::Tensor expected = name == target ? g + 2 * c * w : g;
    EXPECT_LT((with_term.at(name) - expected).norm().item<double>(), 1e-3 * expected.norm().item<double>() + 1e-9)
        << name;
  }
  const double term = c * w.pow(2).sum().item<double>();
  ASSERT_TRUE(line.contains("terms")) << line.dump();
  EXPECT_NEAR(line["terms"]["l2"].get<double>(), term, 1e-5 * term);
  EXPECT_NEAR(line["loss"].get<double>(), plain_line["loss"].get<double>() + term, 1e-5 * term);
  EXPECT_FALSE(plain_line.contains("terms"));
}

// An extra parameter group trains (here only through its loss term, pulling it towards 1), is
// saved in each checkpoint beside the model, and a stop and resume continues it bit for bit.
// The caller's tensor is the one trained.
TEST(Trainer, AnExtraParameterGroupTrainsAndResumesBitForBit) {
  const std::string dir = test::scratch_dir("extra-group");
  const auto extensions = [](torch::Tensor& x) {
    x = torch::zeros({3});
    train::Extensions ext;
    ext.groups.push_back({"spoke", {{"x", x}}, 2.0, 0.0});
    ext.terms.push_back(
        {"pull", [x](model::Transformer&, const train::Batch&, int64_t) { return (x - 1).pow(2).sum(); }});
    return ext;
  };
  torch::Tensor x_whole, x_half;
  train::TrainConfig whole = config(dir + "/a", 12);
  train::train(whole, kRun, extensions(x_whole));
  train::TrainConfig half = config(dir + "/b", 12);
  half.stop_at = 6;
  EXPECT_TRUE(train::train(half, kRun, extensions(x_half)).interrupted);
  const io::SafetensorsFile at_stop(train::latest_checkpoint(half.out) + "/extra.safetensors");
  EXPECT_TRUE(torch::equal(at_stop.get("spoke/x"), x_half));
  half.stop_at = 0;
  half.resume = true;
  EXPECT_EQ(train::train(half, kRun, extensions(x_half)).first_step, 6);
  const io::SafetensorsFile a(train::latest_checkpoint(whole.out) + "/extra.safetensors");
  const io::SafetensorsFile b(train::latest_checkpoint(half.out) + "/extra.safetensors");
  EXPECT_TRUE(torch::equal(a.get("spoke/x"), b.get("spoke/x")));
  EXPECT_TRUE(torch::equal(a.get("spoke/x"), x_whole));
  EXPECT_TRUE(torch::equal(x_half, x_whole));
  EXPECT_GT(x_whole.min().item<double>(), 0.01);  // moved towards 1
  const io::SafetensorsFile ma = final_checkpoint(whole), mb = final_checkpoint(half);
  for (const auto& [name, entry] : ma.entries()) EXPECT_TRUE(torch::equal(ma.get(name), mb.get(name))) << name;
  // A resume without the group is refused: its optimizer state would not fit.
  train::TrainConfig bare = config(dir + "/b", 14);
  bare.resume = true;
  EXPECT_THROW(train::train(bare, kRun), Error);
}

// A model directory with per-layer shapes (bespoke_layers: a layer without attention, one with
// fewer heads, one without an MLP) trains, resumes bit for bit, keeps its shapes in DIR/final,
// and that directory exports to a deci GGUF whose logits are the trained model's.
TEST(Trainer, APerLayerShapeDirectoryTrainsResumesAndExports) {
  const std::string dir = test::scratch_dir("per-layer-shapes");
  model::Transformer cut = test::cut_fixture("llama", {4, 0, 2, 4}, {2, 0, 1, 2}, {160, 64, 96, 0});
  model::export_hf(cut, test::fixture_dir("llama"), dir + "/cut");
  train::TrainConfig whole = config(dir + "/a", 8);
  whole.model = dir + "/cut";
  whole.save_every = 4;
  train::train(whole, kRun);
  train::TrainConfig half = config(dir + "/b", 8);
  half.model = dir + "/cut";
  half.save_every = 4;
  half.stop_at = 4;
  EXPECT_TRUE(train::train(half, kRun).interrupted);
  half.stop_at = 0;
  half.resume = true;
  EXPECT_EQ(train::train(half, kRun).first_step, 4);
  const io::SafetensorsFile a = final_checkpoint(whole), b = final_checkpoint(half);
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (const auto& [name, entry] : a.entries()) EXPECT_TRUE(torch::equal(a.get(name), b.get(name))) << name;

  const model::ModelSpec trained_spec = model::read_hf_config(whole.out + "/final");
  EXPECT_EQ(trained_spec.layers[1].n_heads, 0);
  EXPECT_EQ(trained_spec.layers[2].n_heads, 2);
  EXPECT_EQ(trained_spec.layers[3].ffn_dim, 0);
  model::Transformer trained = model::load_model(whole.out + "/final");
  const std::string gguf = dir + "/trained.gguf";
  exporter::export_gguf(trained, whole.out + "/final", gguf, io::GgmlType::kF32);
  model::Transformer back = model::load_model(gguf);
  const torch::Tensor ids = io::SafetensorsFile(test::fixture_dir("llama") + "/reference.safetensors").get("input_ids");
  torch::NoGradGuard no_grad;
  EXPECT_LT(test::max_abs_diff(back->forward(ids).logits, trained->forward(ids).logits), 1e-5);
}

}  // namespace
}  // namespace bespoke
