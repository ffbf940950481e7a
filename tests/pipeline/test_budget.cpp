// The ledger: device-hours and money per stage, kept across reruns; the time left before the
// first cap; the deadline that stops a stage at it.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "bespoke/pipeline/budget.h"
#include "test_util.h"

namespace bespoke {
namespace {

TEST(Budget, LedgerChargesEveryDeviceAndSurvivesARerun) {
  const std::string dir = test::scratch_dir("ledger");
  {
    pipeline::Ledger ledger(dir, {/*price_per_hour=*/3.0, /*devices=*/2, /*cost_cap=*/150, /*minutes=*/0});
    ledger.add("finetune", 1800);  // half an hour on 2 devices: 1 device-hour, 3.0
    ledger.add("recover", 3600);
    ledger.add("recover", 1800);  // a resumed stage adds to its own line
    EXPECT_DOUBLE_EQ(ledger.cost(), 12.0);
    EXPECT_DOUBLE_EQ(ledger.json()["stages"]["recover"]["device_hours"].get<double>(), 3.0);
    EXPECT_EQ(ledger.exhausted(), "");
  }
  pipeline::Ledger again(dir, {3.0, 2, 150, 0});
  EXPECT_DOUBLE_EQ(again.seconds(), 7200);
  EXPECT_DOUBLE_EQ(again.cost(), 12.0);
  // 138 left at 6 an hour (two devices at 3): 23 hours.
  EXPECT_NEAR(again.seconds_left(), 23 * 3600, 1e-6);
}

TEST(Budget, TheFirstCapReachedStopsTheRun) {
  const std::string dir = test::scratch_dir("ledger-cap");
  pipeline::Ledger ledger(dir, {10.0, 1, 5.0, /*minutes=*/60});
  EXPECT_NEAR(ledger.seconds_left(), 1800, 1e-6);  // 5 at 10 an hour: half an hour, before the hour
  ledger.add("pretrain", 1800);
  EXPECT_DOUBLE_EQ(ledger.seconds_left(), 0);
  EXPECT_NE(ledger.exhausted().find("the cost cap is reached: 5.00 of 5.00 spent"), std::string::npos)
      << ledger.exhausted();

  pipeline::Ledger timed(test::scratch_dir("ledger-time"), {0, 1, 0, /*minutes=*/1});
  timed.add("data", 61);
  EXPECT_NE(timed.exhausted().find("the time budget is reached"), std::string::npos) << timed.exhausted();
  pipeline::Ledger free(test::scratch_dir("ledger-free"), {});
  free.add("data", 1e6);
  EXPECT_EQ(free.exhausted(), "");
  EXPECT_TRUE(std::isinf(free.seconds_left()));
}

TEST(Budget, DeadlineExpiresOrFollowsTheOuterStop) {
  std::atomic<bool> outer{false};
  {
    pipeline::Deadline d(0.05, outer);
    for (int i = 0; i < 100 && !d.stop().load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(d.stop().load());
    EXPECT_TRUE(d.expired());
  }
  pipeline::Deadline never(INFINITY, outer);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(never.stop().load());
  outer = true;
  for (int i = 0; i < 100 && !never.stop().load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(never.stop().load());
  EXPECT_FALSE(never.expired());
}

}  // namespace
}  // namespace bespoke
