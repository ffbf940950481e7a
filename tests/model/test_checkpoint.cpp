// Activation checkpointing changes memory, not results: checkpointed layers give the gradients
// of the plain forward.
#include <gtest/gtest.h>

#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "bespoke/model/load.h"
#include "test_util.h"

namespace bespoke {
namespace {

// Checkpointed layers give the gradients of the plain forward, Gemma 4's per-layer inputs
// included (gemma4 fixture: no KV sharing); models that share KV are refused.
TEST(Checkpoint, LayersRecomputedInBackwardGiveTheSameGradients) {
  for (const char* family : {"llama", "gemma3", "gemma4"}) {
    model::Transformer plain = model::load_model(test::fixture_dir(family));
    model::Transformer checkpointed = model::load_model(test::fixture_dir(family));
    checkpointed->set_activation_checkpointing(true);
    const torch::Tensor ids =
        io::SafetensorsFile(test::fixture_dir(family) + "/reference.safetensors").get("input_ids");
    plain->forward(ids).logits.square().mean().backward();
    checkpointed->forward(ids).logits.square().mean().backward();
    auto want = plain->named_parameters();
    for (const auto& p : checkpointed->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << family << " " << p.key();
      EXPECT_LT(test::max_abs_diff(p.value().grad(), want[p.key()].grad()), 1e-6) << family << " " << p.key();
    }
  }
  model::Transformer shared = model::load_model(test::fixture_dir("gemma4_full"));
  EXPECT_THROW(shared->set_activation_checkpointing(true), Error);
}

}  // namespace
}  // namespace bespoke
