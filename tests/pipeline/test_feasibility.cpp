// Phase 0 feasibility. Oracles: the published parameter counts of real configs
// (tests/fixtures/configs/README.md cites each), counted exactly from config.json alone by
// feasibility() and by `bespoke inspect`; the memory, time and cost rules checked as properties
// (frozen weights keep no gradients or optimizer state, checkpointing keeps fewer activations,
// cost = hours x gpus x price, hours = FLOPs / rate); the ranking's order; a budget's shape
// within the budget and counted exactly; a finite one-shot loss where weights and task data are,
// none where config.json alone is.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "bespoke/core/error.h"
#include "bespoke/pipeline/feasibility.h"
#include "test_util.h"

namespace bespoke {
namespace {

namespace fs = std::filesystem;
using pipeline::Json;

std::string config_dir(const std::string& model) {
  return std::string(BESPOKE_FIXTURES) + "/configs/" + model;
}

std::string model_config_dir(const std::string& model) {
  return std::string(BESPOKE_FIXTURES) + "/../../configs/models/" + model;
}

// A directory holding only `config` as config.json.
std::string config_only(const std::string& tag, const nlohmann::json& config) {
  const std::string dir = test::scratch_dir(tag);
  std::ofstream(dir + "/config.json") << config.dump(2);
  return dir;
}

nlohmann::json read_config(const std::string& dir) {
  std::ifstream in(dir + "/config.json");
  return nlohmann::json::parse(in);
}

// A small synthetic hybrid config in Qwen 3.5's layout (not a published file).
nlohmann::json hybrid_config() {
  return {{"model_type", "qwen3_5"},
          {"text_config",
           {{"model_type", "qwen3_5_text"},
            {"hidden_size", 64},
            {"num_hidden_layers", 4},
            {"num_attention_heads", 4},
            {"intermediate_size", 128},
            {"vocab_size", 100},
            {"layer_types", {"linear_attention", "linear_attention", "linear_attention", "full_attention"}}}}};
}

// Qwen3-Next's shape: Gated DeltaNet beside attention, with mixture-of-experts MLPs.
nlohmann::json hybrid_moe_config() {
  return {{"model_type", "qwen3_next"}, {"hidden_size", 64}, {"num_hidden_layers", 4},      {"num_attention_heads", 4},
          {"intermediate_size", 128},   {"vocab_size", 100}, {"linear_num_value_heads", 8}, {"num_experts", 64}};
}

pipeline::PhasePlan phase(const std::string& name, int64_t tokens) {
  pipeline::PhasePlan p;
  p.name = name;
  p.tokens = tokens;
  p.batch = 4;
  p.seq_len = 64;
  return p;
}

pipeline::FeasibilityConfig plan(const std::vector<std::pair<std::string, std::string>>& candidates,
                                 const std::string& target) {
  pipeline::FeasibilityConfig c;
  c.candidates = candidates;
  c.target = target;
  c.phases = {phase("finetune", 1000000)};
  return c;
}

const Json& row_named(const Json& f, const std::string& name) {
  for (const Json& r : f["candidates"])
    if (r["name"] == name) return r;
  ADD_FAILURE() << "no row " << name;
  static const Json none;
  return none;
}

struct Published {
  const char* model;
  int64_t params;
  const char* cls = "dense";
};

// tests/fixtures/configs/README.md: where each count is published. The plan's two bases count
// their language model only (no vision tower, no multi-token-prediction block): Gemma-4-31B with
// its 60 one-element layer scalars, Qwen3.5-9B with its untied head.
const Published kPublished[] = {
    {"llama-3.2-1b", 1235814400},    {"llama-3.1-8b", 8030261248},
    {"mistral-7b-v0.1", 7241732096}, {"qwen2.5-0.5b", 494032768},
    {"qwen3-0.6b", 596049920},       {"gemma-2-2b", 2614341888},
    {"gemma-4-31b", 30697345340},    {"qwen3.5-9b", 8953803264, "hybrid"},
};

TEST(Feasibility, PublishedCountsExactFromConfigAlone) {
  std::vector<std::pair<std::string, std::string>> candidates;
  for (const Published& p : kPublished) candidates.push_back({p.model, config_dir(p.model)});
  const Json f = pipeline::feasibility(plan(candidates, "layers=2"));
  ASSERT_EQ(f["candidates"].size(), std::size(kPublished));
  for (const Published& p : kPublished) {
    const Json& r = row_named(f, p.model);
    EXPECT_EQ(r["class"], p.cls) << p.model;
    EXPECT_EQ(r["supported"], true) << p.model << ": " << r["reason"];
    EXPECT_EQ(r["params"].get<int64_t>(), p.params) << p.model;
    EXPECT_EQ(r["weights"], false) << p.model;
    EXPECT_TRUE(r["one_shot_loss"].is_null()) << p.model;
    EXPECT_TRUE(r["memory"].is_object()) << p.model;  // each phase's plan
    EXPECT_LT(r["target"]["params"].get<int64_t>(), p.params) << p.model;
  }
}

TEST(Feasibility, InspectPrintsPublishedCountsFromConfigAlone) {
  for (const Published& p : kPublished) {
    const test::CommandResult r = test::run_bespoke("inspect --json '" + config_dir(p.model) + "'");
    ASSERT_EQ(r.exit_code, 0) << p.model << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["n_params"].get<int64_t>(), p.params) << p.model;
  }
}

TEST(Feasibility, InspectNamesTheClassOfWhatItCannotRead) {
  const std::string hybrid_moe = config_only("feas_hybrid_moe", hybrid_moe_config());
  nlohmann::json mamba = {{"model_type", "falcon_h1"},
                          {"hidden_size", 64},
                          {"num_hidden_layers", 2},
                          {"num_attention_heads", 4},
                          {"intermediate_size", 128},
                          {"vocab_size", 100},
                          {"layers_block_type", {"mamba", "attention"}}};
  const std::string other_hybrid = config_only("feas_other_hybrid", mamba);
  const std::string unknown = config_only("feas_unknown", {{"model_type", "gpt2"}, {"n_embd", 768}, {"n_layer", 12}});
  const std::pair<std::string, std::string> cases[] = {
      {hybrid_moe, "class hybrid: MoE: not prunable yet"},
      {other_hybrid, "class hybrid: hybrid linear attention of a family Bespoke does not read"},
      {model_config_dir("mixtral-8x7b-v0.1"), "class moe: MoE: not prunable yet"},
      {unknown, "class unknown"}};
  for (const auto& [dir, words] : cases) {
    const test::CommandResult r = test::run_bespoke("inspect '" + dir + "'");
    EXPECT_EQ(r.exit_code, 2) << dir;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(Feasibility, ArchitectureClasses) {
  EXPECT_EQ(pipeline::architecture_class(read_config(config_dir("qwen3-0.6b"))), "dense");
  EXPECT_EQ(pipeline::architecture_class(read_config(model_config_dir("mixtral-8x7b-v0.1"))), "moe");
  EXPECT_EQ(pipeline::architecture_class(read_config(model_config_dir("llama-3.1-8b"))), "dense");
  EXPECT_EQ(pipeline::architecture_class(hybrid_config()), "hybrid");  // through text_config
  // Gated DeltaNet keys without layer_types, and Qwen3-Next's hybrid MoE: hybrid first.
  EXPECT_EQ(
      pipeline::architecture_class(
          {{"model_type", "qwen3_next"}, {"hidden_size", 64}, {"linear_num_value_heads", 8}, {"num_experts", 64}}),
      "hybrid");
  EXPECT_EQ(pipeline::architecture_class({{"model_type", "qwen3_moe"}, {"num_experts", 128}}), "moe");
  EXPECT_EQ(pipeline::architecture_class({{"model_type", "deepseek_v3"}, {"n_routed_experts", 256}}), "moe");
  nlohmann::json one_expert = read_config(config_dir("mistral-7b-v0.1"));
  one_expert["num_local_experts"] = 1;  // one expert is a dense MLP
  EXPECT_EQ(pipeline::architecture_class(one_expert), "dense");
  EXPECT_EQ(pipeline::architecture_class({{"model_type", "gpt2"}, {"n_embd", 768}}), "unknown");
  EXPECT_EQ(pipeline::architecture_class(nlohmann::json::array()), "unknown");
}

TEST(Feasibility, UnsupportedRowsGiveReasonsAndRankLast) {
  const std::string hybrid_moe = config_only("feas_hybrid_row", hybrid_moe_config());
  const std::string hybrid = config_only("feas_qwen3_5_row", hybrid_config());
  nlohmann::json k_eq_v = read_config(test::fixture_dir("gemma4"));
  k_eq_v["attention_k_eq_v"] = true;  // what Gemma 4 31B's config sets
  const std::string gemma4 = config_only("feas_k_eq_v", k_eq_v);
  const Json f = pipeline::feasibility(plan({{"moe", model_config_dir("mixtral-8x7b-v0.1")},
                                             {"hybrid_moe", hybrid_moe},
                                             {"k_eq_v", gemma4},
                                             {"qwen3_5", hybrid},
                                             {"qwen", config_dir("qwen2.5-0.5b")}},
                                            "layers=2"));
  for (const char* name : {"moe", "hybrid_moe"}) {
    const Json& r = row_named(f, name);
    EXPECT_EQ(r["supported"], false) << name;
    EXPECT_NE(r["reason"].get<std::string>().find("MoE: not prunable yet"), std::string::npos) << name;
    EXPECT_TRUE(r["params"].is_null() && r["memory"].is_null() && r["total_cost"].is_null()) << name;
    EXPECT_GT(r["rank"].get<int>(), 3) << name;  // after the three that are planned
  }
  EXPECT_EQ(row_named(f, "moe")["class"], "moe");
  EXPECT_EQ(row_named(f, "hybrid_moe")["class"], "hybrid");
  // Gemma 4 31B's shared key/value projection and Qwen 3.5's Gated DeltaNet layers are cut:
  // planned, not refused.
  for (const auto& [name, cls] : {std::pair{"k_eq_v", "dense"}, {"qwen3_5", "hybrid"}, {"qwen", "dense"}}) {
    const Json& r = row_named(f, name);
    EXPECT_EQ(r["class"], cls) << name;
    EXPECT_EQ(r["supported"], true) << name << ": " << r["reason"];
    EXPECT_FALSE(r["params"].is_null()) << name;
    EXPECT_LE(r["rank"].get<int>(), 3) << name;
  }
  const std::string table = pipeline::feasibility_table(f);
  EXPECT_NE(table.find("mixture of experts"), std::string::npos) << table;
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 6) << table;  // header and five rows
}

TEST(Feasibility, TargetTooLargeForOneCandidateIsItsReason) {
  const Json f = pipeline::feasibility(
      plan({{"small", config_dir("qwen2.5-0.5b")}, {"big", config_dir("llama-3.2-1b")}}, "hidden=1024"));
  EXPECT_EQ(row_named(f, "small")["supported"], false);
  EXPECT_NE(row_named(f, "small")["reason"].get<std::string>().find("hidden"), std::string::npos);
  EXPECT_EQ(row_named(f, "big")["supported"], true);
}

TEST(Feasibility, MemoryRules) {
  pipeline::FeasibilityConfig c = plan({{"llama", config_dir("llama-3.2-1b")}}, "layers=8");
  pipeline::PhasePlan full = phase("full", 1000), frozen = phase("frozen", 1000), ckpt = phase("ckpt", 1000),
                      forward = phase("forward", 1000), recover = phase("recover", 1000);
  frozen.frozen_weights = true;
  ckpt.checkpoint_layers = true;
  forward.backward = false;
  recover.on_target = recover.teacher = true;
  c.phases = {full, frozen, ckpt, forward, recover};
  c.device.device = "cuda";
  c.device.bf16 = true;
  c.device.memory_gb = 80;
  const Json f = pipeline::feasibility(c);
  const Json& r = f["candidates"][0];
  const int64_t n = r["params"], cut = r["target"]["params"];
  const Json& m = r["memory"];
  EXPECT_EQ(m["full"]["weights"].get<int64_t>(), 2 * n);     // bf16
  EXPECT_EQ(m["full"]["gradients"].get<int64_t>(), 6 * n);   // fp32 sum on the master, bf16 on the parameter
  EXPECT_EQ(m["full"]["optimizer"].get<int64_t>(), 12 * n);  // two fp32 moments, fp32 master
  EXPECT_EQ(m["frozen"]["gradients"], 0);
  EXPECT_EQ(m["frozen"]["optimizer"], 0);
  EXPECT_EQ(m["frozen"]["weights"], m["full"]["weights"]);
  EXPECT_EQ(m["frozen"]["activations"], m["full"]["activations"]);
  EXPECT_LT(m["ckpt"]["activations"].get<int64_t>(), m["full"]["activations"].get<int64_t>() / 4);
  EXPECT_LT(m["forward"]["activations"].get<int64_t>(), m["ckpt"]["activations"].get<int64_t>());
  EXPECT_EQ(m["forward"]["gradients"], 0);
  EXPECT_EQ(m["recover"]["weights"].get<int64_t>(), 2 * cut);
  EXPECT_EQ(m["recover"]["teacher"].get<int64_t>(), 2 * n);
  EXPECT_EQ(m["full"]["teacher"], 0);
  for (const auto& [name, p] : m.items()) {
    const int64_t sum = p["weights"].get<int64_t>() + p["gradients"].get<int64_t>() + p["optimizer"].get<int64_t>() +
                        p["activations"].get<int64_t>() + p["teacher"].get<int64_t>();
    EXPECT_EQ(p["total"].get<int64_t>(), sum) << name;
    EXPECT_EQ(p["fits"], double(sum) <= 80.0 * (1 << 30)) << name;
  }
  // fp32 on the CPU: 4 bytes a weight, no master copy, and eager attention's scores on top.
  c.device.device = "cpu";
  c.device.bf16 = false;
  c.device.memory_gb = 0;
  const Json fp32 = pipeline::feasibility(c)["candidates"][0];
  EXPECT_EQ(fp32["memory"]["full"]["weights"].get<int64_t>(), 4 * n);
  EXPECT_EQ(fp32["memory"]["full"]["gradients"].get<int64_t>(), 4 * n);
  EXPECT_EQ(fp32["memory"]["full"]["optimizer"].get<int64_t>(), 8 * n);
  EXPECT_GT(fp32["memory"]["full"]["activations"].get<int64_t>(), 2 * m["full"]["activations"].get<int64_t>());
  EXPECT_TRUE(fp32["memory"]["full"]["fits"].is_null());  // not checked
  EXPECT_TRUE(fp32["fits"].is_null());
}

TEST(Feasibility, MicroBatchSetsActivations) {
  pipeline::FeasibilityConfig c = plan({{"q", config_dir("qwen3-0.6b")}}, "layers=8");
  pipeline::PhasePlan whole = phase("whole", 1), half = phase("half", 1);
  whole.batch = half.batch = 8;
  half.micro_batch = 4;
  c.phases = {whole, half};
  const Json m = pipeline::feasibility(c)["candidates"][0]["memory"];
  EXPECT_EQ(m["whole"]["activations"].get<int64_t>(), 2 * m["half"]["activations"].get<int64_t>());
}

TEST(Feasibility, HoursAndCost) {
  pipeline::FeasibilityConfig c = plan({{"mistral", config_dir("mistral-7b-v0.1")}}, "layers=16");
  pipeline::PhasePlan train = phase("finetune", 2000000000), importance = phase("importance", 50000000),
                      recover = phase("recover", 1000000000);
  importance.backward = false;
  recover.on_target = recover.teacher = true;
  c.phases = {train, importance, recover};
  c.device = {"cuda", 4, 141, 3.5e14, 3.2, true};
  c.cost_cap = 1e9;
  const Json r = pipeline::feasibility(c)["candidates"][0];
  const double n = r["params"].get<double>(), cut = r["target"]["params"].get<double>(), rate = 3.5e14 * 4 * 3600;
  EXPECT_NEAR(r["hours"]["finetune"].get<double>(), 6 * n * 2e9 / rate, 1e-9);
  EXPECT_NEAR(r["hours"]["importance"].get<double>(), 2 * n * 5e7 / rate, 1e-12);
  EXPECT_NEAR(r["hours"]["recover"].get<double>(), (6 * cut + 2 * n) * 1e9 / rate, 1e-9);
  double hours = 0, cost = 0;
  for (const char* p : {"finetune", "importance", "recover"}) {
    EXPECT_DOUBLE_EQ(r["cost"][p].get<double>(), r["hours"][p].get<double>() * 4 * 3.2) << p;
    hours += r["hours"][p].get<double>();
    cost += r["cost"][p].get<double>();
  }
  EXPECT_DOUBLE_EQ(r["total_hours"].get<double>(), hours);
  EXPECT_DOUBLE_EQ(r["total_cost"].get<double>(), cost);
  EXPECT_EQ(r["within_cap"], true);
  c.cost_cap = cost / 2;
  EXPECT_EQ(pipeline::feasibility(c)["candidates"][0]["within_cap"], false);
  c.cost_cap = 0;  // none
  EXPECT_EQ(pipeline::feasibility(c)["candidates"][0]["within_cap"], true);
}

TEST(Feasibility, BudgetShapeWithinBudgetAndExact) {
  const int64_t budget = 300000000;
  const Json f = pipeline::feasibility(plan({{"qwen", config_dir("qwen2.5-0.5b")}}, "300M"));
  const Json& t = f["candidates"][0]["target"];
  EXPECT_LE(t["params"].get<int64_t>(), budget);
  EXPECT_GT(t["params"].get<int64_t>(), budget * 95 / 100);  // the largest that fits, not any
  EXPECT_NE(t["note"].get<std::string>().find("unscored"), std::string::npos) << t["note"];
  // The shape it names, given as a shape, counts the same.
  const std::string shape = t["shape"];
  const Json again = pipeline::feasibility(plan({{"qwen", config_dir("qwen2.5-0.5b")}}, shape));
  EXPECT_EQ(again["candidates"][0]["target"]["params"], t["params"]) << shape;
  EXPECT_DOUBLE_EQ(t["share"].get<double>(), t["params"].get<double>() / 494032768.0);
}

// Below the embeddings no shape fits; at or above the model's count nothing is cut (a
// progressive run refuses both).
TEST(Feasibility, BudgetOutsideTheModelIsTheRowsReason) {
  const std::pair<std::string, std::string> cases[] = {{"100M", "embeddings"}, {"1.5B", "nothing to cut"}};
  for (const auto& [budget, words] : cases) {
    const Json f = pipeline::feasibility(plan({{"qwen", config_dir("qwen2.5-0.5b")}}, budget));
    EXPECT_EQ(f["candidates"][0]["supported"], false) << budget;
    EXPECT_NE(f["candidates"][0]["reason"].get<std::string>().find(words), std::string::npos)
        << f["candidates"][0]["reason"];
  }
}

// Fitting in memory ranks before keeping within the cost cap, which ranks before cost: a
// smaller source whose cut is larger (Gemma 2 2B: 256K vocabulary) against a larger source
// whose cut is smaller (Mistral 7B: 32K).
TEST(Feasibility, RankingOrder) {
  pipeline::FeasibilityConfig c =
      plan({{"mistral", config_dir("mistral-7b-v0.1")}, {"gemma", config_dir("gemma-2-2b")}}, "layers=2");
  pipeline::PhasePlan finetune = phase("finetune", 0), recover = phase("recover", 1000000000000);
  finetune.batch = 1;
  finetune.seq_len = 16;
  recover.backward = false;
  recover.on_target = true;
  c.phases = {finetune, recover};
  c.device = {"cuda", 1, 0, 1e12, 1.0, false};
  const auto order = [&] {
    const Json f = pipeline::feasibility(c);
    return f["candidates"][0]["name"].get<std::string>() + "," + f["candidates"][1]["name"].get<std::string>();
  };
  EXPECT_EQ(order(), "mistral,gemma");  // the cheaper cut
  c.cost_cap = 400000;                  // between the two costs: Gemma's cut is over it
  EXPECT_EQ(order(), "mistral,gemma");
  c.device.memory_gb = 60;  // Gemma's 16 bytes a parameter fit, Mistral's do not
  EXPECT_EQ(order(), "gemma,mistral");
  const Json f = pipeline::feasibility(c);
  EXPECT_EQ(row_named(f, "gemma")["within_cap"], false);
  EXPECT_EQ(row_named(f, "mistral")["fits"], false);
  EXPECT_EQ(row_named(f, "mistral")["within_cap"], true);
}

std::string write_records(const std::string& path) {
  std::ofstream out(path);
  for (int i = 0; i < 24; ++i)
    out << nlohmann::json{{"text", "note " + std::to_string(i) + ": the build broke after the upgrade, rolled back"}}
               .dump()
        << "\n";
  return path;
}

// With weights and task data the one-shot loss is measured, and a candidate with one ranks
// before a cheaper one without (config.json alone).
TEST(Feasibility, OneShotLossWhereWeightsAre) {
  nlohmann::json smaller = read_config(test::fixture_dir("llama"));
  smaller["intermediate_size"] = 96;
  const std::string config_only_dir = config_only("feas_cfg_only", smaller);
  pipeline::FeasibilityConfig c =
      plan({{"config_only", config_only_dir}, {"weights", test::fixture_dir("llama")}}, "layers=3,ffn=96");
  c.data = write_records(test::scratch_dir("feas_data") + "/task.jsonl");
  c.calibration_rows = 2;
  c.seq_len = 16;
  c.device.price_per_hour = 1;
  const Json f = pipeline::feasibility(c);
  const Json& with = row_named(f, "weights");
  const Json& without = row_named(f, "config_only");
  EXPECT_EQ(with["weights"], true);
  ASSERT_TRUE(with["one_shot_loss"].is_number()) << with.dump();
  EXPECT_TRUE(std::isfinite(with["one_shot_loss"].get<double>()));
  EXPECT_GT(with["one_shot_loss"].get<double>(), 0);
  EXPECT_TRUE(std::isfinite(with["source_loss"].get<double>()));
  EXPECT_TRUE(without["one_shot_loss"].is_null());
  EXPECT_TRUE(without["source_loss"].is_null());
  EXPECT_LT(without["total_cost"].get<double>(), with["total_cost"].get<double>());
  EXPECT_EQ(with["rank"], 1);
  EXPECT_EQ(without["rank"], 2);
  const std::string table = pipeline::feasibility_table(f);
  EXPECT_NE(table.find("layers=3,ffn=96"), std::string::npos) << table;
}

TEST(Feasibility, BadPlansAreOneLineErrors) {
  const auto kind = [](pipeline::FeasibilityConfig c) {
    try {
      pipeline::feasibility(c);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kInternal;
  };
  const auto good = [] { return plan({{"q", config_dir("qwen3-0.6b")}}, "layers=2"); };
  pipeline::FeasibilityConfig c = good();
  c.candidates.clear();
  EXPECT_EQ(kind(c), ErrorKind::kUsage);
  c = good();
  c.target = "";
  EXPECT_EQ(kind(c), ErrorKind::kUsage);
  c = good();
  c.target = "1.5Q";
  EXPECT_EQ(kind(c), ErrorKind::kInput);
  c = good();
  c.phases.push_back(c.phases[0]);
  EXPECT_EQ(kind(c), ErrorKind::kUsage);
  c = good();
  c.phases[0].seq_len = 0;
  EXPECT_EQ(kind(c), ErrorKind::kUsage);
  c = good();
  c.device.gpus = 0;
  EXPECT_EQ(kind(c), ErrorKind::kUsage);
  c = good();
  c.method = "magic";
  EXPECT_EQ(kind(c), ErrorKind::kInput);
  c = good();
  c.candidates.push_back({"missing", test::scratch_dir("feas_empty")});
  EXPECT_NE(kind(c), ErrorKind::kInternal);
}

}  // namespace
}  // namespace bespoke
