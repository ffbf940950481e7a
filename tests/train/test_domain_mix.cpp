// Dynamic batch loading: the mix moves towards the domain whose loss is furthest above its
// reference, never past the cap, and a run that updates its mix resumes bit for bit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/train/domain_mix.h"
#include "bespoke/train/trainer.h"
#include "test_util.h"

namespace bespoke {
namespace {

TEST(DomainMix, WeightMovesToTheDomainFurthestAboveItsReference) {
  train::DomainMix m = train::DomainMix::make({"code", "prose", "math"});
  m.update({2.0, 3.5, 2.9}, {2.0, 2.0, 2.0});  // excess 0, 1.5, 0.9
  EXPECT_GT(m.weights[1], m.weights[2]);
  EXPECT_GT(m.weights[2], m.weights[0]);
  // The softmax of ln w + eta * excess, with the uniform share mixed in.
  const double z = 1 + std::exp(1.5) + std::exp(0.9);
  EXPECT_NEAR(m.weights[1], (1 - 1e-4) * std::exp(1.5) / z + 1e-4 / 3, 1e-12);
  // Below the reference counts as zero excess: the weights stay.
  train::DomainMix same = train::DomainMix::make({"a", "b"});
  same.update({1.0, 1.5}, {2.0, 2.0});
  EXPECT_NEAR(same.weights[0], 0.5, 1e-12);
}

TEST(DomainMix, CapHoldsAndDrawsFollowTheWeights) {
  train::DomainMix m = train::DomainMix::make({"a", "b", "c"}, {1, 1, 1}, 0.5);
  for (int i = 0; i < 5; ++i) m.update({9.0, 1.0, 1.0}, {1.0, 1.0, 1.0});
  EXPECT_NEAR(m.weights[0], 0.5, 1e-12);
  EXPECT_NEAR(m.weights[1] + m.weights[2], 0.5, 1e-12);
  std::vector<int> counts(3);
  for (int r = 0; r < 20000; ++r) ++counts[m.draw(7, r / 8, r % 8)];
  EXPECT_NEAR(counts[0] / 20000.0, 0.5, 0.02);
  EXPECT_THROW(train::DomainMix::make({"a", "b", "c"}, {}, 0.3), Error);
  // Capping one domain can lift another over the cap: both end at it, and the rest share what
  // remains in proportion, the whole still summing to 1.
  const train::DomainMix two = train::DomainMix::make({"a", "b", "c", "d"}, {0.5, 0.28, 0.12, 0.1}, 0.3);
  const std::vector<double> want = {0.3, 0.3, 0.4 * 12 / 22, 0.4 * 10 / 22};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(two.weights[i], want[i], 1e-12) << i;
  // When only zero weights are left below the cap, they share the remainder equally.
  const train::DomainMix zero = train::DomainMix::make({"a", "b", "c"}, {0.9, 0.1, 0.0}, 0.4);
  EXPECT_NEAR(zero.weights[0], 0.4, 1e-12);
  EXPECT_NEAR(zero.weights[1], 0.4, 1e-12);
  EXPECT_NEAR(zero.weights[2], 0.2, 1e-12);
}

TEST(DomainMix, TrainingUpdatesTheMixAndResumesExactly) {
  const std::string dir = test::scratch_dir("dbl");
  {
    std::ofstream data(dir + "/data.jsonl"), eval(dir + "/eval.jsonl");
    for (int i = 0; i < 6; ++i) {
      data << R"({"text": "alpha beta gamma delta )" << i << R"(", "domain": "greek"})"
           << "\n";
      data << R"({"text": "one two three four )" << i << R"(", "domain": "numbers"})"
           << "\n";
    }
    eval << R"({"text": "alpha beta gamma", "domain": "greek"})"
         << "\n"
         << R"({"text": "one two three", "domain": "numbers"})"
         << "\n";
    std::ofstream(dir + "/ref.json") << R"({"greek": 0.0, "numbers": 1000.0})";  // only greek is above its reference
  }
  train::TrainConfig c;
  c.model = test::fixture_dir("qwen3");
  c.data = dir + "/data.jsonl";
  c.eval_data = dir + "/eval.jsonl";
  c.reference_losses = dir + "/ref.json";
  c.domains = {"greek", "numbers"};
  c.mix_every = 2;
  c.steps = 6;
  c.seq_len = 16;
  c.batch = 4;
  c.schedule.peak = 1e-3;
  const std::atomic<bool> run{false};
  c.out = dir + "/whole";
  train::train(c, run);
  std::ifstream metrics(c.out + "/metrics.jsonl");
  std::string line, last;
  while (std::getline(metrics, line)) last = line;
  const nlohmann::json j = nlohmann::json::parse(last);
  EXPECT_GT(j["domain_weights"][0].get<double>(), 0.9) << last;
  // Stopped at step 3 (between mix updates) and resumed: the same weights, bit for bit.
  c.out = dir + "/halves";
  c.stop_at = 3;
  train::train(c, run);
  c.stop_at = 0;
  c.resume = true;
  train::train(c, run);
  const io::SafetensorsFile a(train::latest_checkpoint(dir + "/whole") + "/model.safetensors");
  const io::SafetensorsFile b(train::latest_checkpoint(dir + "/halves") + "/model.safetensors");
  for (const auto& [name, entry] : a.entries()) EXPECT_TRUE(torch::equal(a.get(name), b.get(name))) << name;
}

}  // namespace
}  // namespace bespoke
