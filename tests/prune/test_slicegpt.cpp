// SliceGPT with one rotation of the residual stream (prune/slicegpt.h): rotating alone keeps
// the function for every pre-norm family; the cut model is a plain model that Bespoke reads back
// and llama.cpp runs; each norm's error stays within the bound the header states; and on a model
// with something to lose, the rotation keeps more of it than cutting channels does.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bespoke/core/error.h"
#include "bespoke/export/gguf_export.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/hf_config.h"
#include "bespoke/model/hf_export.h"
#include "bespoke/model/load.h"
#include "bespoke/model/tensor_table.h"
#include "bespoke/prune/calibration.h"
#include "bespoke/prune/extract.h"
#include "bespoke/prune/importance.h"
#include "bespoke/prune/rank.h"
#include "bespoke/prune/slicegpt.h"
#include "bespoke/prune/target.h"
#include "test_util.h"

namespace bespoke {
namespace {

torch::Tensor fixture_ids(const std::string& family) {
  return io::SafetensorsFile(test::fixture_dir(family) + "/reference.safetensors").get("input_ids");
}

torch::Tensor logits_of(model::Transformer net, const torch::Tensor& ids) {  // a holder: const ones too
  torch::NoGradGuard no_grad;
  return net->forward(ids.to(net->parameters().front().device())).logits.to(torch::kFloat32).cpu();
}

// The fixture's ids and 6 random rows of 24 tokens: enough positions for a full-rank basis.
std::vector<torch::Tensor> calibration(const std::string& family, int64_t vocab) {
  torch::manual_seed(5);
  return {fixture_ids(family), torch::randint(vocab, {6, 24}, torch::kInt64)};
}

TEST(SliceGpt, RotatingAloneKeepsTheLogits) {
  for (const std::string family : {"llama", "mistral", "qwen2", "qwen3", "phi3", "granite"}) {
    model::Transformer net = model::load_model(test::fixture_dir(family));
    const model::ModelSpec& s = net->spec();
    const prune::SliceResult r = prune::slice_gpt(net, calibration(family, s.vocab_size), s.hidden_size);
    const double d = test::max_abs_diff(logits_of(r.model, fixture_ids(family)), logits_of(net, fixture_ids(family)));
    EXPECT_LT(d, 1e-4) << family;
    EXPECT_EQ(r.untied, s.tie_embeddings) << family;
    EXPECT_FALSE(r.model->spec().tie_embeddings) << family;
    EXPECT_EQ(r.dropped_energy, 0.0) << family;
    auto before = net->named_parameters(), after = r.model->named_parameters();
    // A rotation, not the identity: the embeddings moved.
    EXPECT_GT(test::max_abs_diff(after["token_embd.weight"], before["token_embd.weight"]), 1e-2) << family;
    // Per-head q/k norms act after the projections: untouched.
    if (s.qk_norm != model::QkNorm::kNone)
      EXPECT_TRUE(torch::equal(after["blk.1.attn_q_norm.weight"], before["blk.1.attn_q_norm.weight"])) << family;
    std::cout << family << ": rotated vs source max |logit diff| = " << d << "\n";
  }
}

TEST(SliceGpt, TheBasisIsOrthogonalAndSorted) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const prune::ResidualBasis b = prune::residual_basis(net, calibration("llama", net->spec().vocab_size));
  const torch::Tensor& q = b.rotation;
  EXPECT_LT(test::max_abs_diff(q.t().matmul(q), torch::eye(q.size(0), q.options())), 1e-12);
  EXPECT_TRUE(
      (b.eigenvalues.narrow(0, 0, q.size(0) - 1) >= b.eigenvalues.narrow(0, 1, q.size(0) - 1)).all().item<bool>());
}

// bf16 weights: the rotation is computed in float64 and rounded once, so the rotated bf16 model
// is about as far from the fp32 source as the bf16 source is (measured: 0.046 and 0.043).
TEST(SliceGpt, Bf16WeightsRotateWithinTheirOwnRounding) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  const torch::Tensor want = logits_of(net, fixture_ids("llama"));
  const prune::ResidualBasis basis = prune::residual_basis(net, calibration("llama", net->spec().vocab_size));
  net->to(torch::kBFloat16);
  const prune::SliceResult r = prune::rotate_and_cut(net, basis, net->spec().hidden_size);
  EXPECT_EQ(r.model->parameters().front().scalar_type(), torch::kBFloat16);
  const double own = test::max_abs_diff(logits_of(net, fixture_ids("llama")), want);
  const double rotated = test::max_abs_diff(logits_of(r.model, fixture_ids("llama")), want);
  EXPECT_LT(rotated, 2 * own + 1e-3);
  std::cout << "bf16: source " << own << ", rotated " << rotated << " from the fp32 logits\n";
}

TEST(SliceGpt, PostNormFamiliesAreRefusedInOneLine) {
  for (const std::string family : {"gemma2", "gemma3", "gemma4", "olmo2"}) {
    model::Transformer net = model::load_model(test::fixture_dir(family));
    try {
      prune::slice_gpt(net, {fixture_ids(family)}, 32);
      ADD_FAILURE() << family << " was sliced";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_NE(what.find(family), std::string::npos) << what;
    }
  }
}

TEST(SliceGpt, WidthsOutOfRangeAreRefused) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  for (const int64_t width : {int64_t(0), net->spec().hidden_size + 1}) {
    try {
      prune::slice_gpt(net, {fixture_ids("llama")}, width);
      ADD_FAILURE() << "sliced to " << width;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    }
  }
}

std::string join(const torch::Tensor& row) {
  std::string s;
  for (int64_t i = 0; i < row.numel(); ++i) s += (i ? "," : "") + std::to_string(row[i].item<int64_t>());
  return s;
}

// llama.cpp's log-probabilities for `ids` on `gguf` (tools/interop/eval.mjs, as in
// test_gguf_interop.cpp).
torch::Tensor llama_cpp_logprobs(const std::string& gguf, const torch::Tensor& ids) {
  const test::CommandResult r =
      test::run_command("node " + std::string(BESPOKE_INTEROP) + "/eval.mjs " + gguf + " --ids " + join(ids));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return {};
  std::vector<double> flat;
  for (const auto& row : nlohmann::json::parse(r.out)["logprobs"].get<std::vector<std::vector<double>>>())
    flat.insert(flat.end(), row.begin(), row.end());
  return torch::tensor(flat, torch::kFloat64).view({ids.size(0), -1});
}

// A cut to 48 of 64 channels is a model like any other: its directory reads back with the same
// weights and logits.
TEST(SliceGpt, TheCutModelIsAPlainModelDirectory) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  prune::SliceResult r = prune::slice_gpt(net, calibration("llama", net->spec().vocab_size), 48);
  const std::string dir = test::scratch_dir("slicegpt") + "/llama48";
  model::export_hf(r.model, test::fixture_dir("llama"), dir);
  model::Transformer back = model::load_model(dir);
  EXPECT_EQ(back->spec().hidden_size, 48);
  auto want = r.model->named_parameters();
  for (const auto& p : back->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), want[p.key()])) << p.key();
  EXPECT_LT(test::max_abs_diff(logits_of(back, fixture_ids("llama")), logits_of(r.model, fixture_ids("llama"))), 1e-6);
}

// llama.cpp runs the cut model's GGUF as Bespoke does, within the SiLU families' 1e-3 of
// test_gguf_interop.cpp: Llama (GQA) and Qwen3 (per-head q/k norms; untied by the cut). Not
// Qwen2: llama.cpp's qwen2 sizes attn_q as [E, E], so no model whose query width differs from
// its hidden size (any hidden cut) loads there as qwen2.
TEST(SliceGpt, TheCutModelRunsInLlamaCpp) {
  for (const std::string family : {"llama", "qwen3"}) {
    model::Transformer net = model::load_model(test::fixture_dir(family));
    prune::SliceResult r = prune::slice_gpt(net, calibration(family, net->spec().vocab_size), 48);
    const std::string gguf = test::scratch_dir("slicegpt") + "/" + family + ".gguf";
    exporter::export_gguf(r.model, test::fixture_dir(family), gguf, io::GgmlType::kF32);
    const torch::Tensor ids = fixture_ids(family);
    const torch::Tensor want = torch::log_softmax(logits_of(r.model, ids).to(torch::kFloat64), -1);
    for (int64_t row = 0; row < ids.size(0); ++row) {
      const torch::Tensor theirs = llama_cpp_logprobs(gguf, ids[row]);
      ASSERT_TRUE(theirs.defined()) << family;
      const double worst = (theirs - want[row]).abs().max().item<double>();
      EXPECT_LT(worst, 1e-3) << family << " row " << row;
      EXPECT_TRUE(torch::equal(theirs.argmax(-1), want[row].argmax(-1))) << family << " row " << row;
      std::cout << family << " cut to 48, row " << row << ": max |log p llama.cpp - Bespoke| = " << worst << "\n";
    }
  }
}

// The llama fixture with everything written into the residual stream (embeddings, attention
// and FFN outputs) projected onto a random `rank`-dimensional subspace, plus `leak` times the
// rest: the stream lies in that subspace, or near it, in no particular channels.
model::Transformer planted(int64_t rank, double leak, double eps) {
  model::Transformer net = model::load_model(test::fixture_dir("llama"));
  model::ModelSpec spec = net->spec();
  spec.norm_eps = eps;
  net = test::with_spec(net, spec);
  const int64_t E = spec.hidden_size;
  torch::manual_seed(3);
  const torch::Tensor u = std::get<0>(torch::linalg_qr(torch::randn({E, E}, torch::kFloat64)));
  const torch::Tensor in = u.narrow(1, 0, rank), out = u.narrow(1, rank, E - rank);
  const torch::Tensor p = in.matmul(in.t()) + leak * out.matmul(out.t());  // [E, E], symmetric
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_parameters()) {
    torch::Tensor& t = item.value();
    const std::string suffix = model::layer_tensor_suffix(item.key());
    if (item.key() == "token_embd.weight") t.copy_(t.to(torch::kFloat64).matmul(p));
    if (suffix == "attn_output.weight" || suffix == "ffn_down.weight") t.copy_(p.matmul(t.to(torch::kFloat64)));
  }
  return net;
}

// The first `width` hidden channels of `net`, as prune::extract cuts them (norms rescaled).
model::Transformer first_channels(model::Transformer& net, int64_t width) {
  prune::Selection sel = prune::keep_everything(net->spec());
  sel.hidden.resize(width);
  return prune::extract(net, sel);
}

// A stream that lies in 40 of 64 dimensions loses nothing when cut to 48: only the norms'
// epsilon separates the cut model from the source (1e-20 here; measured 2.3e-6, fp32), while
// cutting 16 channels moves the logits by 3.1.
TEST(SliceGpt, AStreamInFewerDimensionsIsCutExactly) {
  model::Transformer net = planted(40, 0.0, 1e-20);
  const torch::Tensor ids = fixture_ids("llama");
  const prune::SliceResult r = prune::slice_gpt(net, calibration("llama", net->spec().vocab_size), 48);
  EXPECT_LT(r.dropped_energy, 1e-12);
  model::Transformer cut = first_channels(net, 48);
  const double sliced = test::max_abs_diff(logits_of(r.model, ids), logits_of(net, ids));
  const double channels = test::max_abs_diff(logits_of(cut, ids), logits_of(net, ids));
  EXPECT_LT(sliced, 1e-5);
  EXPECT_GT(channels, 100 * sliced + 1e-3);
  std::cout << "planted rank 40, cut to 48: max |logit diff| sliced " << sliced << ", first 48 channels " << channels
            << "\n";
}

struct NormError {
  double worst_error = 0, worst_bound = 0, max_rho = 0;
  double worst_excess = 0;  // the largest error - bound
  double worst_ratio = 0;   // the largest error / bound where the bound exceeds fp32's noise (1e-4)
};

// Each stream norm of `cut` (attn_norm of every layer, output_norm) against the same norm of
// `rotated` (the uncut rotation) on the rotated stream `rotated` computes: the relative error of
// the cut norm's output against the full one's first E' components, and the header's bound
// (rho + (1 - E'/E) eps / m) / (2 (1 - rho)) for each position.
NormError norm_errors(model::Transformer& rotated, model::Transformer& cut, const torch::Tensor& ids) {
  const model::ModelSpec& s = rotated->spec();
  const int64_t E = s.hidden_size, kept = cut->spec().hidden_size, L = s.n_layers();
  std::map<std::string, torch::Tensor> stream;
  const model::TapObserver taps = [&](const std::string& name, const torch::Tensor& value) {
    stream[name] = value.detach().reshape({-1, E});
  };
  torch::NoGradGuard no_grad;
  rotated->forward(ids, nullptr, false, &taps);
  auto full = rotated->named_modules(), sliced = cut->named_modules();
  NormError out;
  for (int64_t i = 0; i <= L; ++i) {
    const std::string norm = i < L ? model::layer_tensor_name(i, "attn_norm") : "output_norm";
    const torch::Tensor z =
        stream[i < L ? model::layer_tensor_name(i, "input") : model::layer_tensor_name(L - 1, "output")];
    const torch::Tensor want = full[norm]->as<model::RmsNormImpl>()->forward(z).narrow(1, 0, kept).to(torch::kFloat64);
    const torch::Tensor got = sliced[norm]->as<model::RmsNormImpl>()->forward(z.narrow(1, 0, kept)).to(torch::kFloat64);
    const torch::Tensor error = (got - want).norm(2, 1) / want.norm(2, 1);
    const torch::Tensor z64 = z.to(torch::kFloat64), energy = z64.pow(2).sum(1);
    const torch::Tensor rho = z64.narrow(1, kept, E - kept).pow(2).sum(1) / energy;
    const torch::Tensor bound = (rho + (1.0 - double(kept) / E) * s.norm_eps / (energy / E)) / (2 * (1 - rho));
    out.worst_error = std::max(out.worst_error, error.max().item<double>());
    out.worst_bound = std::max(out.worst_bound, bound.max().item<double>());
    out.worst_excess = std::max(out.worst_excess, (error - bound).max().item<double>());
    const torch::Tensor ratio = (error / bound).masked_select(bound > 1e-4);
    if (ratio.numel() > 0) out.worst_ratio = std::max(out.worst_ratio, ratio.max().item<double>());
    out.max_rho = std::max(out.max_rho, rho.max().item<double>());
  }
  return out;
}

// The bound holds at every position of every stream norm: on the random fixture (which keeps
// about 3/4 of the energy in 48 of 64 dimensions, rho up to ~0.4) and near a planted
// 40-dimensional stream (rho ~ 1e-3, where the bound is small). The bound is tight to first
// order in rho (measured: error / bound up to 0.998 on the fixture), so fp32's ~2e-7 may put an
// error just above it: the check allows 1e-6.
TEST(SliceGpt, EachNormIsWithinTheStatedBound) {
  const std::pair<const char*, model::Transformer> cases[] = {
      {"fixture", model::load_model(test::fixture_dir("llama"))}, {"planted", planted(40, 0.03, 1e-5)}};
  for (auto [what, net] : cases) {
    const auto batches = calibration("llama", net->spec().vocab_size);
    const prune::ResidualBasis basis = prune::residual_basis(net, batches);
    model::Transformer rotated = prune::rotate_and_cut(net, basis, net->spec().hidden_size).model;
    model::Transformer cut = prune::rotate_and_cut(net, basis, 48).model;
    const NormError e = norm_errors(rotated, cut, batches[1]);
    EXPECT_LT(e.worst_excess, 1e-6) << what;
    if (std::string(what) == "planted") EXPECT_LT(e.worst_bound, 1e-2);
    std::cout << what << ": max rho " << e.max_rho << ", worst norm error " << e.worst_error << ", worst bound "
              << e.worst_bound << ", worst error - bound " << e.worst_excess << ", worst error / bound "
              << e.worst_ratio << "\n";
  }
}

// Rows of a chain over 64 tokens whose next token depends only on the class of the last
// (t mod 16): it is one of that class's 4 successors (`successors` [16, 4]), uniformly. The
// best possible loss is ln 4 = 1.386.
torch::Tensor chain_rows(const torch::Tensor& successors, int64_t rows, int64_t length) {
  torch::Tensor ids = torch::empty({rows, length}, torch::kInt64);
  ids.select(1, 0).copy_(torch::randint(64, {rows}, torch::kInt64));
  for (int64_t t = 1; t < length; ++t) {
    const torch::Tensor cls = ids.select(1, t - 1).remainder(16);
    ids.select(1, t).copy_(successors.index({cls, torch::randint(4, {rows}, torch::kInt64)}));
  }
  return ids;
}

// A Llama-shaped model (the fixture's layers, two of them, vocabulary 64) trained for 150 Adam
// steps on that chain: its stream has something to lose, as a real model's has and a random
// one's has not.
model::Transformer trained_on(const torch::Tensor& successors) {
  model::ModelSpec spec = model::read_hf_config(test::fixture_dir("llama"));
  spec.vocab_size = 64;
  spec.layers.resize(2);
  model::Transformer net(spec);
  model::init_random(net, 0.02);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(3e-3));
  for (int step = 0; step < 150; ++step) {
    const torch::Tensor ids = chain_rows(successors, 16, 32);
    const torch::Tensor logits = net->forward(ids).logits.narrow(1, 0, 31).reshape({-1, 64});
    const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, ids.narrow(1, 1, 31).reshape({-1}));
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  return net;
}

double loss_of(model::Transformer& net, const torch::Tensor& ids) {
  return prune::next_token_loss(logits_of(net, ids), ids);
}

// Cut to 48, 32 and 16 of 64 channels, the rotated model keeps more of the trained model's loss
// than cutting the channels Minitron's importance ranks highest, or the first ones. Measured
// on held-out rows (source 1.394; ln 4 = 1.386 is the best possible):
//   width  sliced  sliced, raw PCA  top channels  first channels
//     48   1.395       1.395           1.432          1.421
//     32   1.394       1.395           1.507          1.548
//     24   1.398       1.404           1.600          1.689
//     16   1.405       1.404           1.936          2.036
//     12   1.728       1.731           2.287          2.363
// Normalising each position before the PCA (the default) and the raw PCA agree within 0.006
// nats here; normalising is lower at 32, 24 and 12, raw lower by under 0.001 at 48 and 16.
TEST(SliceGpt, BeatsCuttingChannels) {
  torch::manual_seed(11);
  const torch::Tensor successors = torch::randint(64, {16, 4}, torch::kInt64);
  model::Transformer net = trained_on(successors);
  const std::vector<torch::Tensor> batches = {chain_rows(successors, 16, 32)};
  const torch::Tensor held_out = chain_rows(successors, 16, 32);
  const prune::Importance importance = prune::activation_importance(net, batches);
  const prune::ResidualBasis normalized = prune::residual_basis(net, batches);
  const prune::ResidualBasis raw = prune::residual_basis(net, batches, {/*normalize_positions=*/false});
  const double source = loss_of(net, held_out);
  EXPECT_LT(source, 1.6);  // trained: ln 64 = 4.16 untrained
  for (const int64_t width : {48, 32, 16}) {
    model::Transformer top = prune::extract(
        net, prune::ranked_selection(net->spec(), importance, prune::parse_target("hidden=" + std::to_string(width))));
    model::Transformer first = first_channels(net, width);
    model::Transformer sliced = prune::rotate_and_cut(net, normalized, width).model;
    model::Transformer sliced_raw = prune::rotate_and_cut(net, raw, width).model;
    const double s = loss_of(sliced, held_out), t = loss_of(top, held_out);
    EXPECT_LT(s, t) << width;
    EXPECT_LT(s, loss_of(first, held_out)) << width;
    std::cout << "cut to " << width << ": source " << source << ", sliced " << s << " (raw PCA "
              << loss_of(sliced_raw, held_out) << "), top channels " << t << ", first channels "
              << loss_of(first, held_out) << "\n";
  }
}

// On a GPU the basis and the rotation are computed on the device: the cut computes what the
// CPU's does (eigenvector signs may differ, which changes no function), and bf16 weights rotate
// within their own rounding.
TEST(SliceGpt, CudaCutsAsTheCpuDoes) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the CUDA SliceGPT case did not run";
  model::Transformer cpu = model::load_model(test::fixture_dir("llama"));
  model::Transformer gpu = model::load_model(test::fixture_dir("llama"), {torch::kFloat32, torch::kCUDA});
  const auto batches = calibration("llama", cpu->spec().vocab_size);
  const torch::Tensor ids = fixture_ids("llama");
  model::Transformer on_cpu = prune::slice_gpt(cpu, batches, 48).model;
  model::Transformer on_gpu = prune::slice_gpt(gpu, batches, 48).model;
  EXPECT_TRUE(on_gpu->parameters().front().is_cuda());
  EXPECT_LT(test::max_abs_diff(logits_of(on_gpu, ids), logits_of(on_cpu, ids)), 1e-4);
  const torch::Tensor want = logits_of(gpu, ids);
  gpu->to(torch::kBFloat16);
  const prune::SliceResult r = prune::slice_gpt(gpu, batches, gpu->spec().hidden_size);
  const double own = test::max_abs_diff(logits_of(gpu, ids), want);
  EXPECT_LT(test::max_abs_diff(logits_of(r.model, ids), want), 2 * own + 1e-3);
}

}  // namespace
}  // namespace bespoke
